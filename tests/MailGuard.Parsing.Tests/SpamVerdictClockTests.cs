using System.Globalization;
using System.Text;

namespace MailGuard.Parsing.Tests;

/// <summary>
/// Rates are told only where they were measured (issue 12, item 5): on the wall clock, on the kernel's time since boot
/// when the lines give nothing else (dmesg, /dev/kmsg, journalctl short-monotonic/short-delta), never when there is no
/// time at all.
/// </summary>
public class SpamVerdictClockTests
{
    private static TrafficStats Sample(string file)
    {
        var stats = new TrafficStats();
        var parser = new LogLineParser(new LogLineParserOptions { Envelope = new EnvelopeOptions { ReferenceTime = new DateTimeOffset(2026, 12, 8, 0, 0, 0, TimeSpan.Zero) } });
        foreach (byte[] line in Repo.Lines(Path.Combine(Repo.Samples, file)))
        {
            if (parser.Parse(line, out LogRecord r) == LineKind.Entry)
            {
                stats.Add(ref r);
            }
        }

        return stats;
    }

    /// <summary>The same 55 entries (one capture) in files with and without times: 16 attempts of uid 1001 in its busiest minute.</summary>
    [Theory]
    [InlineData("kern.log", ClockKind.WallClock, 16L)]
    [InlineData("journal.json", ClockKind.WallClock, 16L)]
    [InlineData("dmesg.txt", ClockKind.Uptime, 16L)]
    [InlineData("dmesg-r.txt", ClockKind.Uptime, 16L)]
    [InlineData("kmsg.txt", ClockKind.Uptime, 16L)]
    [InlineData("journal-short-monotonic.txt", ClockKind.Uptime, 16L)]
    [InlineData("journal-cat.txt", ClockKind.None, null)]
    public void Analyze_SameEntriesWithOrWithoutTimes_TellsTheRateOnlyWhereItWasMeasured(string file, ClockKind clock, long? peak)
    {
        SpamVerdict v = SpamVerdict.Analyze(Sample(file));
        Actor culprit = v.Culprit!;
        Assert.Equal("1001", culprit.Key);
        Assert.Equal(clock, v.Clock);
        Assert.Equal(clock, culprit.RateClock);
        Assert.Equal(peak, culprit.PeakMinute?.Count);
        Assert.Equal(clock == ClockKind.None ? culprit.Stat.Attempts : 0, culprit.AttemptsOffClock);

        // 16 attempts in a minute is more than a quiet server sends; without times nobody can say it is less
        Assert.Equal(VerdictClass.Unclear, v.Class);
        Assert.DoesNotContain("a normal, low rate", v.Summary, StringComparison.Ordinal);
        Assert.Contains(peak is null ? "at a rate the log cannot tell (its lines carry no time) — neither direct-to-MX nor relay abuse, and without times it cannot be called quiet" : "up to 16 a minute — more than a quiet server sends", v.Summary, StringComparison.Ordinal);
        Assert.Contains(clock == ClockKind.Uptime ? "between boot +10m" : clock == ClockKind.WallClock ? "between 19:23 and 19:24 (2026-11-23)" : "(14), 465 (1), 587 (1), at a rate", v.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_ShortDeltaAndCentralServerCopies_GiveTheSameVerdictOnTheirOwnClocks()
    {
        SpamVerdict delta = SpamVerdict.Analyze(Sample("journal-short-delta.txt"));
        SpamVerdict central = SpamVerdict.Analyze(Sample("central-traditional.log"));
        foreach (SpamVerdict v in new[] { delta, central })
        {
            Assert.Equal(VerdictClass.DirectToMx, v.Class);
            Assert.Equal("1001", v.Culprit!.Key);
            Assert.Equal(60, v.Culprit.MailAttempts);
            Assert.Equal(60, v.Culprit.Stat.DistinctDestinations);
            Assert.Equal(30, v.Culprit.PeakMinute!.Value.Count);
        }

        Assert.Equal(ClockKind.Uptime, delta.Clock);
        Assert.Null(delta.BurstStart); // no wall-clock time: never a date made up from the uptime
        Assert.Equal(TimeSpan.FromMinutes(75), delta.BurstSinceBoot);
        Assert.Contains("between boot +1h15m05s and boot +1h16m13s (time since boot: the lines give no wall-clock time), up to 30 a minute", delta.Summary, StringComparison.Ordinal);
        Assert.DoesNotContain("0001-", string.Join("\n", delta.Advice.SelectMany(a => a.Commands)), StringComparison.Ordinal);

        Assert.Equal(ClockKind.WallClock, central.Clock);
        Assert.Null(central.BurstSinceBoot);
        Assert.Equal(new DateTimeOffset(2026, 12, 7, 3, 22, 0, TimeSpan.Zero), central.BurstStart);
    }

    /// <summary>uid 1001: <paramref name="attempts"/> SYNs, one every <paramref name="every"/> seconds from 02:10 (boot + 1 h), in one wrapper.</summary>
    private static string Lines(string wrapper, int attempts, int every, int first = 0)
    {
        var sb = new StringBuilder();
        var start = new DateTime(2026, 11, 23, 2, 10, 0);
        for (int i = first; i < first + attempts; i++)
        {
            DateTime t = start.AddSeconds((i - first) * every);
            double uptime = 3600 + ((i - first) * every);
            string stamp = wrapper switch
            {
                "rfc3339" => t.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture) + ".000000+00:00 vps kernel: ",
                "dmesg" => string.Create(CultureInfo.InvariantCulture, $"[{uptime,5:0.000000}] "),
                _ => "",
            };
            sb.Append(CultureInfo.InvariantCulture, $"{stamp}IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.100.{i % 250} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID={i} DF PROTO=TCP SPT={40000 + i} DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=1001 GID=1001 \n");
        }

        return sb.ToString();
    }

    private static TrafficStats Stats(string text)
    {
        var stats = new TrafficStats();
        var parser = new LogLineParser();
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.Equal(LineKind.Entry, parser.Parse(Encoding.UTF8.GetBytes(line), out LogRecord r));
            stats.Add(ref r);
        }

        return stats;
    }

    [Fact]
    public void Analyze_FewAttemptsWithoutTimes_SaysTooFewNotALowRate()
    {
        SpamVerdict v = SpamVerdict.Analyze(Stats(Lines("cat", 15, 1))); // under MinAttempts (20): nothing to act on, but not "low"
        Assert.Equal(VerdictClass.NothingSuspicious, v.Class);
        Assert.Equal(ClockKind.None, v.Clock);
        Assert.Null(v.Culprit!.PeakMinute);
        Assert.Contains("too few attempts to act on (their rate is unknown)", v.Summary, StringComparison.Ordinal);
        Assert.DoesNotContain("low rate", v.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_FewUntimedAttemptsBehindASuspiciousInterface_IsNoLowRate()
    {
        var text = new StringBuilder();
        for (int i = 0; i < 15; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"IPTABLES TCP-OUT 25:IN=x;id>P;# OUT=eth0 SRC=10.8.0.{2 + (i % 3)} DST=198.51.100.{i} LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID={i} DF PROTO=TCP SPT={40000 + i} DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 \n");
        }

        SpamVerdict v = SpamVerdict.Analyze(Stats(text.ToString()));
        Assert.Equal(VerdictClass.NothingSuspicious, v.Class);
        Assert.Equal("Little mail traffic from 3 forwarded clients behind suspicious interface 'x;id>P;#': check these lines first", v.Headline);
    }

    [Fact]
    public void Analyze_QuietWallClockButABurstOnTheUptimeClock_TellsTheMeasuredBurstAndNoAllClear()
    {
        // 20 attempts, one a minute, with a wall-clock time; 8 more within 16 s that only dmesg recorded
        SpamVerdict v = SpamVerdict.Analyze(Stats(Lines("rfc3339", 20, 60) + Lines("dmesg", 8, 2, first: 100)));
        Actor a = v.Culprit!;
        Assert.Equal(ClockKind.Uptime, a.RateClock); // its busiest minute (8) beats the wall clock's (1)
        Assert.Equal(8, a.PeakMinute!.Value.Count);
        Assert.Equal(20, a.AttemptsOffClock);
        Assert.Equal(VerdictClass.Unclear, v.Class); // 8 measured plus 20 elsewhere may share a minute: not quiet
        Assert.Contains("up to 8 a minute (20 more attempts without a time since boot not counted in that)", v.Summary, StringComparison.Ordinal);
        Assert.Contains("with 20 attempts outside the measured rate it cannot be called quiet", v.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_LowRateOnTheWallClockAndFewUntimed_StaysQuiet()
    {
        // 22 attempts, one a minute, plus 3 without any time: at most 1 + 3 in any minute
        SpamVerdict v = SpamVerdict.Analyze(Stats(Lines("rfc3339", 22, 60) + Lines("cat", 3, 1, first: 100)));
        Assert.Equal(VerdictClass.NothingSuspicious, v.Class);
        Assert.Equal(ClockKind.WallClock, v.Clock);
        Assert.Equal(3, v.Culprit!.AttemptsOffClock);
        Assert.Contains("up to 1 a minute (3 more attempts without a wall-clock time not counted in that) — a normal, low rate", v.Summary, StringComparison.Ordinal);
    }
}
