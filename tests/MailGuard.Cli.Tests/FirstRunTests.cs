using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace MailGuard.Cli.Tests;

/// <summary>Issue 12: the first run on a real server — another prefix, no LOG line, no file named, a named file missing.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class FirstRunTests
{
    private static string Webshell(string prefix) =>
        Regex.Replace(File.ReadAllText(Path.Combine(MgscanTests.Root, "samples/logs/incident-webshell.log"), Encoding.Latin1), @"IPTABLES TCP-OUT \d+:", prefix);

    [Fact]
    public void Mgscan_WebshellUnderAnotherPrefix_AnalysesItAndSaysSoOnTheFirstLine()
    {
        (int code, string stdout, _) = MgscanTests.Run(Webshell("SMTP-OUT: "), "--passwd", "samples/logs/passwd");
        Assert.Equal(0, code);
        string[] lines = stdout.Split('\n');
        Assert.Equal("No 'IPTABLES TCP-OUT <port>:' entry in the log; analysed instead: the outgoing", lines[0]);
        Assert.Equal("mail connections other rules logged, under 'SMTP-OUT:' (6,060).", lines[1]);
        Assert.StartsWith("VERDICT: Direct-to-MX spam from uid 33 (www-data), high confidence", lines[2], StringComparison.Ordinal);
        Assert.Contains("6,060 blocked connection entries (under other prefixes) in 6,356 lines", stdout, StringComparison.Ordinal);

        (_, string json, _) = MgscanTests.Run(Webshell("[UFW BLOCK] "), "--format", "json");
        JsonElement verdict = JsonDocument.Parse(json).RootElement.GetProperty("verdict");
        Assert.Equal("direct-to-mx", verdict.GetProperty("class").GetString());
        JsonElement found = Assert.Single(verdict.GetProperty("discovered_prefixes").EnumerateArray());
        Assert.Equal("[UFW BLOCK]", found.GetProperty("prefix").GetString());
        Assert.Equal("ufw", found.GetProperty("front_end").GetString());
    }

    [Fact]
    public void Mgscan_QuietSelectionWithMailUnderOtherPrefixes_IsNoAllClear()
    {
        (int code, string stdout, _) = MgscanTests.Run(Webshell("SMTP-OUT: "), "--prefix", "[UFW BLOCK]");
        Assert.Equal(0, code); // the UFW lines were entries
        Assert.StartsWith("VERDICT: Mail traffic under other prefixes was not analysed: run with --all", stdout, StringComparison.Ordinal);
        Assert.Contains("Not counted: 6,060 outgoing mail connections under other prefixes (--all counts them)", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Mgscan_NoLogLine_GivesADiagnosisAndExits3()
    {
        string log = string.Join('\n', File.ReadAllLines(Path.Combine(MgscanTests.Root, "samples/logs/kern.log"), Encoding.Latin1).Where(l => !l.Contains("IN=", StringComparison.Ordinal))) + "\n";
        (int code, string stdout, _) = MgscanTests.Run(log);
        Assert.Equal(3, code);
        Assert.StartsWith("VERDICT: No LOG line at all: nothing was logged here, so nothing can be told (a", stdout, StringComparison.Ordinal);
        Assert.Contains("The input (10 lines, syslog (traditional)) holds no netfilter LOG", stdout, StringComparison.Ordinal);
        Assert.Contains("mgscan rules --check", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Nothing suspicious", stdout, StringComparison.Ordinal);
        (_, string json, _) = MgscanTests.Run(log, "--format", "json");
        Assert.Equal("no-log-lines", JsonDocument.Parse(json).RootElement.GetProperty("verdict").GetProperty("class").GetString());
    }

    [Fact]
    public void Mgscan_NoFileAtATerminal_ReadsThisMachinesKernLogAndSaysSo()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(Path.Combine(dir.Path, "var/log"));
        File.Copy(Path.Combine(MgscanTests.Root, "samples/logs/kern.log"), Path.Combine(dir.Path, "var/log/kern.log"));
        File.Copy(Path.Combine(MgscanTests.Root, "samples/logs/incident-webshell.log"), Path.Combine(dir.Path, "var/log/kern.log.1"));
        (int code, string output) = AtATerminal(dir.Path);
        Assert.Equal(0, code);
        Assert.StartsWith($"Read this machine's kernel log: {dir.Path}/var/log/kern.log and 1 rotated file.", output, StringComparison.Ordinal);
        Assert.Contains("VERDICT: Direct-to-MX spam from uid 33", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Mgscan_NamedKernLogMissingOnAJournalOnlySystem_SaysSoAndGivesNoReport()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(Path.Combine(dir.Path, "var/log/journal/0123"));
        File.WriteAllText(Path.Combine(dir.Path, "var/log/journal/0123/system.journal"), "");
        (int code, string stdout, string stderr) = MgscanTests.Run(null, new Dictionary<string, string> { ["MGSCAN_ROOT"] = dir.Path }, Path.Combine(dir.Path, "var/log/kern.log"));
        Assert.Equal(2, code);
        Assert.Equal("", stdout); // never a verdict
        Assert.Contains("kern.log: no such file", stderr, StringComparison.Ordinal);
        Assert.Contains("mgscan: this system logs to the journal only: journalctl -k -o json | mgscan (or mgscan without a file), or install rsyslog for /var/log/kern.log", stderr, StringComparison.Ordinal);
    }

    /// <summary>mgscan without arguments, its standard input a terminal (script(1) makes a pseudo-terminal), MGSCAN_ROOT the system to look at.</summary>
    private static (int Code, string Output) AtATerminal(string root)
    {
        var psi = new ProcessStartInfo("script")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = MgscanTests.Root,
        };
        psi.Environment["TZ"] = "UTC";
        psi.Environment["MGSCAN_ROOT"] = root;
        foreach (string a in new[] { "-qec", "dotnet " + Path.Combine(AppContext.BaseDirectory, "mgscan.dll"), "/dev/null" })
        {
            psi.ArgumentList.Add(a);
        }

        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        Assert.True(p.WaitForExit(60_000), "mgscan did not finish within 60 s");
        return (p.ExitCode, stdout.Result.Replace("\r\n", "\n", StringComparison.Ordinal));
    }
}
