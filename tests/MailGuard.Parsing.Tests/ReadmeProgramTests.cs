using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace MailGuard.Parsing.Tests;

/// <summary>
/// The C# blocks of README.md's library section, compiled as a console program against the built packages (outside the
/// repository's build settings, as a user's project would be), and the short program run on a bundled sample: its output is
/// what the README shows.
/// </summary>
public partial class ReadmeProgramTests
{
    [GeneratedRegex(@"```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    [GeneratedRegex(@"```text\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex TextBlock();

    private static string LibrarySection()
    {
        string readme = File.ReadAllText(Path.Combine(Repo.Root, "README.md")).ReplaceLineEndings("\n");
        int start = readme.IndexOf("\n## Library\n", StringComparison.Ordinal);
        int end = readme.IndexOf("\n## ", start + 5, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "README.md has a Library section");
        return readme[start..end];
    }

    [Fact]
    public async Task ShortProgram_CompilesAgainstThePackagesAndPrintsWhatTheReadmeShows()
    {
        string section = LibrarySection();
        MatchCollection blocks = CSharpBlock().Matches(section);
        Assert.Equal(5, blocks.Count); // the short program, the options, resuming, one line at a time, the join
        string expected = TextBlock().Match(section).Groups[1].Value;

        string dir = Directory.CreateTempSubdirectory("mailguard-readme-").FullName;
        try
        {
            string bin = AppContext.BaseDirectory;
            File.WriteAllText(Path.Combine(dir, "readme.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                  </PropertyGroup>
                  <ItemGroup>
                    <Reference Include="{bin}MailGuard.Parsing.dll" />
                    <Reference Include="{bin}MailGuard.Analysis.dll" />
                    <Reference Include="{bin}SharpCompress.dll" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(dir, "Program.cs"), blocks[0].Groups[1].Value);
            File.WriteAllText(Path.Combine(dir, "Options.cs"), $$"""
                using MailGuard.Analysis;
                using MailGuard.Parsing;

                internal static class OptionsExample
                {
                    internal static async Task<SpamVerdict> Run(CancellationToken cancellationToken)
                    {
                {{blocks[1].Groups[1].Value}}
                        return verdict;
                    }
                }
                """);
            File.WriteAllText(Path.Combine(dir, "Resume.cs"), $$"""
                using MailGuard.Parsing;

                internal static class ResumeExample
                {
                    internal static async Task<MailScanReport> Run(MailScanOptions options, CancellationToken cancellationToken)
                    {
                {{blocks[2].Groups[1].Value}}
                        return since;
                    }
                }
                """);
            File.WriteAllText(Path.Combine(dir, "OneLine.cs"), $$"""
                internal static class OneLineExample
                {
                    internal static void Run()
                    {
                {{blocks[3].Groups[1].Value.Replace("using MailGuard.Parsing;", "", StringComparison.Ordinal)}}
                    }
                }
                """.Replace("internal static class OneLineExample", "using MailGuard.Parsing;\n\ninternal static class OneLineExample", StringComparison.Ordinal));

            File.WriteAllText(Path.Combine(dir, "Join.cs"), $$"""
                using MailGuard.Parsing;

                internal static class JoinExample
                {
                    internal static async Task Run()
                    {
                {{blocks[4].Groups[1].Value}}
                    }
                }
                """);

            (int rc, string output) = await Run(dir, "build", "-c", "Release", "-o", Path.Combine(dir, "out"), "-nologo", "-v", "q", "-clp:NoSummary");
            Assert.True(rc == 0, "the README's program does not build:\n" + output);

            (rc, output) = await Run(dir, Path.Combine(dir, "out", "readme.dll"), Path.Combine(Repo.Samples, "incident-webshell.log"));
            Assert.Equal(0, rc);
            Assert.Equal(expected, output.ReplaceLineEndings("\n"));

            // The figures are the library's own, for the same file.
            MailScanReport report = await MailScan.FilesAsync([Path.Combine(Repo.Samples, "incident-webshell.log")], cancellationToken: TestContext.Current.CancellationToken);
            Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"{report.Totals.Entries:N0} entries"), output, StringComparison.Ordinal);
            Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"port 25: {report.Ports[25]!.Attempts:N0} attempts"), output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<(int ExitCode, string Output)> Run(string dir, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["LC_ALL"] = "C";
        psi.Environment["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1";
        using Process p = Process.Start(psi)!;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(3));
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(timeout.Token);
        Task<string> stderr = p.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await p.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw;
        }

        var all = new StringBuilder(await stdout);
        string err = await stderr;
        return (p.ExitCode, err.Length == 0 ? all.ToString() : all.Append(err).ToString());
    }
}
