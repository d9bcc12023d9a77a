using System.Reflection;
using PublicApiGenerator;

namespace MailGuard.Parsing.Tests;

/// <summary>
/// The public API baseline of each package: its surface rendered as C# (PublicApiGenerator) must equal the
/// committed <c>src/PACKAGE/PublicApi.txt</c>, so that every change to the surface is a diff a review sees.
/// After a deliberate change, rewrite both files in one step and commit them with the change:
/// <c>MAILGUARD_UPDATE_API=1 dotnet test --project tests/MailGuard.Parsing.Tests --filter-class '*PublicApiTests'</c>.
/// </summary>
public class PublicApiTests
{
    public static TheoryData<string> Packages => ["MailGuard.Parsing", "MailGuard.Analysis"];

    [Theory]
    [MemberData(nameof(Packages))]
    public void PublicApi_EqualsTheCommittedBaseline(string package)
    {
        Assembly assembly = Assembly.Load(package);
        string api = assembly.GeneratePublicApi(new ApiGeneratorOptions
        {
            // Attributes that say nothing about the surface a caller compiles against.
            ExcludeAttributes =
            [
                "System.Runtime.Versioning.TargetFrameworkAttribute",
                "System.Reflection.AssemblyMetadataAttribute",
                "System.Runtime.CompilerServices.InternalsVisibleToAttribute",
            ],
        }).ReplaceLineEndings("\n");
        string path = Path.Combine(Repo.Root, "src", package, "PublicApi.txt");

        if (Environment.GetEnvironmentVariable("MAILGUARD_UPDATE_API") == "1")
        {
            File.WriteAllText(path, api);
            return;
        }

        string baseline = File.Exists(path) ? File.ReadAllText(path).ReplaceLineEndings("\n") : "(no baseline)";
        Assert.True(baseline == api,
            $"The public API of {package} differs from src/{package}/PublicApi.txt. If the change is meant, rewrite the baseline " +
            "and commit it with the change: MAILGUARD_UPDATE_API=1 dotnet test --project tests/MailGuard.Parsing.Tests --filter-class '*PublicApiTests'\n" +
            FirstDifference(baseline, api));
    }

    private static string FirstDifference(string expected, string actual)
    {
        string[] e = expected.Split('\n');
        string[] a = actual.Split('\n');
        for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            string el = i < e.Length ? e[i] : "(end)";
            string al = i < a.Length ? a[i] : "(end)";
            if (el != al)
            {
                return $"first difference at line {i + 1}:\n  baseline: {el}\n  now:      {al}";
            }
        }

        return "";
    }
}
