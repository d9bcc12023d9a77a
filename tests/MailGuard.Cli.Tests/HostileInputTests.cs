using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace MailGuard.Cli.Tests;

/// <summary>Logs written partly by the processes under investigation: forged kernel records, absurd repeat counts.</summary>
public class HostileInputTests
{
    [Fact]
    public void Mgscan_ForgedJournal_CountsTheKernelsEntriesAndNamesTheForger()
    {
        (int code, string stdout, string stderr) = MgscanTests.Run(null, "samples/logs/journal-forged.json", "--passwd", "samples/logs/passwd");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.StartsWith("VERDICT: Forged kernel log lines, written by uid 1001, command logger, pid ", stdout, StringComparison.Ordinal);
        Assert.Contains("claiming uid 107 (postfix)", stdout, StringComparison.Ordinal);
        Assert.Contains("6 blocked connection entries in 306 lines", stdout, StringComparison.Ordinal);
        Assert.Contains("300 forged records (not written by the kernel)", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("postfix)  ", stdout, StringComparison.Ordinal); // uid 107 is in no table
    }

    [Fact]
    public void Mgscan_ForgedJournalAsJson_ReportsTheForgerAndWhomItBlamed()
    {
        (int code, string stdout, _) = MgscanTests.Run(null, "samples/logs/journal-forged.json", "--format", "json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(stdout);
        JsonElement root = doc.RootElement;
        Assert.Equal(6, root.GetProperty("totals").GetProperty("entries").GetInt64());
        Assert.Equal(300, root.GetProperty("totals").GetProperty("forged").GetInt64());
        JsonElement verdict = root.GetProperty("verdict");
        Assert.Equal("forged-log", verdict.GetProperty("class").GetString());
        JsonElement writer = Assert.Single(verdict.GetProperty("forged").EnumerateArray());
        Assert.Equal(1001, writer.GetProperty("uid").GetInt64());
        Assert.Equal("logger", writer.GetProperty("command").GetString());
        Assert.Equal(300, writer.GetProperty("records").GetInt64());
        JsonElement claimed = Assert.Single(writer.GetProperty("claimed_uids").EnumerateArray());
        Assert.Equal(107, claimed.GetProperty("uid").GetInt64());
        Assert.Equal(1001, Assert.Single(root.GetProperty("uids").EnumerateArray()).GetProperty("key").GetInt64());
    }

    [Fact]
    public void Mgscan_RepeatNoticeOfTwoBillion_CountsAtTheBoundAndSaysSo()
    {
        byte[] log = [.. File.ReadAllBytes(Path.Combine(MgscanTests.Root, "samples/logs/incident-webshell.log")), .. LastEntryRepeated("2147483647")];
        (int code, string stdout, _) = MgscanTests.Run(Encoding.Latin1.GetString(log), "--format", "json");
        Assert.Equal(0, code);
        JsonElement totals = JsonDocument.Parse(stdout).RootElement.GetProperty("totals");
        Assert.Equal(6_060 + 1 + 10_000, totals.GetProperty("entries").GetInt64());
        Assert.Equal(1, totals.GetProperty("capped_repeat_notices").GetInt64());
        Assert.Equal(2_147_483_647 - 10_000, totals.GetProperty("capped_repeat_copies").GetInt64());
    }

    [Fact]
    public void Mgscan_ListWithAHugeRepeatNotice_PrintsOneLineWithItsCount()
    {
        string log = "Nov 23 02:14:07 vps kernel: IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=203.0.113.7 DST=198.51.100.23 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=4242 DF PROTO=TCP SPT=51234 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=1001 GID=1001 \n"
            + "Nov 23 02:14:07 vps last message repeated 2147483647 times\n";
        (int code, string stdout, string stderr) = MgscanTests.Run(log, "--list");
        Assert.Equal(0, code);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.EndsWith("rule=25  x10,000 (a repeat notice)", lines[1], StringComparison.Ordinal);
        Assert.Contains("10,001 entries", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task Mgscan_SignalBeforeTheFirstByte_EndsAtOnce(string signal)
    {
        // `journalctl -k -f -n0 | mgscan` on a quiet machine: a pipe that delivers nothing, and stays open.
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = MgscanTests.Root,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "mgscan.dll"));
        psi.ArgumentList.Add("--format");
        psi.ArgumentList.Add("json");
        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        try
        {
            await Task.Delay(3000, TestContext.Current.CancellationToken); // started, and waiting for its first byte
            Assert.False(p.HasExited);
            using Process kill = Process.Start("kill", ["-" + signal, p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
            var clock = Stopwatch.StartNew();
            Assert.True(p.WaitForExit(5_000), "mgscan did not end on the signal"); // 100 ms on an idle machine; CI machines are busy
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
            Assert.Equal(3, p.ExitCode); // nothing was read: no LOG line at all
            Assert.Equal(0, JsonDocument.Parse(await stdout).RootElement.GetProperty("totals").GetProperty("lines").GetInt64());
        }
        finally
        {
            if (!p.HasExited)
            {
                p.Kill();
            }
        }
    }

    /// <summary>The webshell incident's last entry line again, then a notice that it was repeated N times.</summary>
    private static byte[] LastEntryRepeated(string times)
    {
        string[] lines = File.ReadAllText(Path.Combine(MgscanTests.Root, "samples/logs/incident-webshell.log"), Encoding.Latin1).Split('\n');
        string last = lines.Last(l => l.Contains("IPTABLES TCP-OUT", StringComparison.Ordinal));
        return Encoding.Latin1.GetBytes(last + "\n" + last[..15] + " web01 last message repeated " + times + " times\n");
    }
}
