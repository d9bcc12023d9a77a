using System.Diagnostics;
using System.Text.Json;

namespace MailGuard.Cli.Tests;

/// <summary>
/// mgscan against loggen, which writes a log in each wrapper format and, beside it, the figures it put
/// in (counted while writing, not by parsing): 40,000 lines of each format, with IPv6, forwarded clients,
/// other prefixes and look-alike lines.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class GeneratedLogTests
{
    public static TheoryData<string> Formats() =>
    [
        "traditional", "rfc3339", "rfc5424", "syslog-ng", "busybox", "journal-short", "journal-short-iso",
        "journal-short-precise", "journal-short-iso-precise", "journal-json", "dmesg", "kmsg",
    ];

    private static string LogGen()
    {
        // Built next to the tests (same configuration) through the project reference.
        string config = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        return Path.Combine(MgscanTests.Root, "benchmarks", "MailGuard.LogGen", "bin", config, "net10.0", "loggen.dll");
    }

    /// <summary>
    /// The join at volume: loggen's traditional log (its own Postfix noise lines included) and a mail.log written to match
    /// it by benchmarks/compare/applog.py (each new SYN attempt: a pickup with the kernel line's UID, a delivery to its
    /// destination and port in its second). Every attempt the join explains must be its own UID's submission (or one of
    /// loggen's noise deliveries, whose submission no log has); none is unexplained (every SYN attempt has its line).
    /// </summary>
    [Fact]
    public void Mgscan_GeneratedLogWithAMatchingMailLog_AttributesEveryExplainedAttemptToItsOwnUid()
    {
        using var dir = new TempDir();
        string log = Path.Combine(dir.Path, "kern.log");
        string mail = Path.Combine(dir.Path, "mail.log");
        Start("dotnet", LogGen(), "--out", log, "--lines", "200000", "--seed", "11");
        Start("python3", Path.Combine(MgscanTests.Root, "benchmarks", "compare", "applog.py"), log, mail);

        (int code, string stdout, string stderr) = MgscanTests.Run(null, "--format", "json", "--top", "1000000", log, mail);
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        using var got = JsonDocument.Parse(stdout);
        JsonElement join = got.RootElement.GetProperty("attribution");
        long explained = join.GetProperty("explained").GetInt64();
        Assert.Equal(0, join.GetProperty("unexplained").GetInt64());
        Assert.True(explained > join.GetProperty("ambiguous").GetInt64(), stdout[..400]);
        long counted = 0;
        foreach (JsonElement a in join.GetProperty("actors").EnumerateArray())
        {
            string kind = a.GetProperty("kind").GetString()!;
            string uid = a.GetProperty("uid").ValueKind == JsonValueKind.Null ? "0" : a.GetProperty("uid").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(kind == "unknown_submitter" || (kind == "local_uid" && a.GetProperty("name").GetString() == uid), a.ToString());
            counted += a.GetProperty("attempts").GetInt64();
        }

        Assert.Equal(explained, counted);
    }

    private static void Start(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardError = true };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using Process p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(120_000));
        Assert.True(p.ExitCode == 0, err);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Mgscan_GeneratedLog_EqualsTheGeneratorsFigures(string format)
    {
        using var dir = new TempDir();
        string log = Path.Combine(dir.Path, format + ".log");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true };
        foreach (string a in new[] { LogGen(), "--out", log, "--lines", "40000", "--format", format, "--seed", "11" })
        {
            psi.ArgumentList.Add(a);
        }

        using (Process p = Process.Start(psi)!)
        {
            string err = p.StandardError.ReadToEnd();
            Assert.True(p.WaitForExit(60_000));
            Assert.True(p.ExitCode == 0, err);
        }

        (int code, string stdout, string stderr) = MgscanTests.Run(null, "--format", "json", "--top", "1000000", log);
        Assert.Equal("", stderr);
        Assert.Equal(0, code);
        using var expected = JsonDocument.Parse(File.ReadAllBytes(log + ".expected.json"));
        using var got = JsonDocument.Parse(stdout);
        JsonElement e = expected.RootElement.GetProperty("totals"), g = got.RootElement.GetProperty("totals");
        foreach (string field in new[] { "lines", "bytes", "entries", "other_prefix", "distinct_destinations" })
        {
            Assert.True(e.GetProperty(field).GetInt64() == g.GetProperty(field).GetInt64(), $"{format} {field}: loggen {e.GetProperty(field)}, mgscan {g.GetProperty(field)}");
        }

        foreach (string array in new[] { "ports", "uids", "sources" })
        {
            Assert.Equal(Figures(expected.RootElement.GetProperty(array)), Figures(got.RootElement.GetProperty(array)));
        }

        if (g.GetProperty("first").ValueKind != JsonValueKind.Null) // raw dmesg and kmsg have no absolute time
        {
            Assert.Equal(e.GetProperty("first").GetDateTimeOffset(), g.GetProperty("first").GetDateTimeOffset());
            Assert.Equal(e.GetProperty("last").GetDateTimeOffset(), g.GetProperty("last").GetDateTimeOffset());
        }
    }

    private static Dictionary<string, (long Count, long Destinations)> Figures(JsonElement array) =>
        array.EnumerateArray().ToDictionary(x => x.GetProperty("key").ToString(), x => (x.GetProperty("count").GetInt64(), x.GetProperty("distinct_destinations").GetInt64()));
}
