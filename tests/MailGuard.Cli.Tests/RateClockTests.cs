using System.Text.Json;

namespace MailGuard.Cli.Tests;

/// <summary>
/// Issue 12: untimed inputs claimed rates they never measured (the same 55 entries as dmesg got "a normal, low rate", peak
/// 0/min; timed copies "up to 16 a minute"), and journalctl short-delta and a central rsyslog server's file read as nothing.
/// </summary>
public class RateClockTests
{
    private static JsonElement Report(string file, out JsonDocument doc)
    {
        (int code, string json, string stderr) = MgscanTests.Run(null, "--format", "json", "samples/logs/" + file);
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        doc = JsonDocument.Parse(json);
        return doc.RootElement;
    }

    [Theory]
    [InlineData("kern.log", "wall-clock", 16, "between 19:23 and 19:24 (2026-11-23), up to 16 a minute")]
    [InlineData("dmesg.txt", "uptime", 16, "between boot +10m25s and boot +10m31s (time since boot: the lines give no wall-clock time), up to 16 a minute")]
    [InlineData("kmsg.txt", "uptime", 16, "between boot +10m25s and boot +10m31s (time since boot: the lines give no wall-clock time), up to 16 a minute")]
    [InlineData("journal-short-monotonic.txt", "uptime", 16, "between boot +10m25s and boot +10m31s (time since boot: the lines give no wall-clock time), up to 16 a minute")]
    [InlineData("journal-cat.txt", "none", null, "587 (1), at a rate the log cannot tell (its lines carry no time)")]
    public void Mgscan_SameEntriesTimedOrNot_ClaimOnlyTheRateTheyMeasured(string file, string clock, int? peak, string words)
    {
        JsonElement root = Report(file, out JsonDocument doc);
        using (doc)
        {
            JsonElement verdict = root.GetProperty("verdict");
            string summary = verdict.GetProperty("summary").GetString()!;
            Assert.Contains(words, summary, StringComparison.Ordinal);
            Assert.DoesNotContain("a normal, low rate", summary, StringComparison.Ordinal);
            Assert.Equal("unclear", verdict.GetProperty("class").GetString());
            Assert.Equal(clock, verdict.GetProperty("clock").GetString());
            JsonElement culprit = verdict.GetProperty("culprit");
            Assert.Equal(clock, culprit.GetProperty("rate_clock").GetString());
            JsonElement perMinute = culprit.GetProperty("peak_attempts_per_minute");
            Assert.Equal(peak, perMinute.ValueKind == JsonValueKind.Null ? null : perMinute.GetInt32());
            Assert.Equal(peak is null ? 16 : 0, culprit.GetProperty("attempts_off_clock").GetInt32());
            Assert.Equal(clock == "none" ? JsonValueKind.Null : JsonValueKind.Object, verdict.GetProperty("timeline").ValueKind);
        }
    }

    [Fact]
    public void Mgscan_Dmesg_TimelineAndTimesCountFromBoot()
    {
        JsonElement root = Report("dmesg.txt", out JsonDocument doc);
        using (doc)
        {
            JsonElement totals = root.GetProperty("totals");
            Assert.Equal(JsonValueKind.Null, totals.GetProperty("first").ValueKind); // no wall-clock time is made up
            Assert.Equal(619.5281, totals.GetProperty("first_since_boot_seconds").GetDouble()); // the first entry: [  619.528100]
            JsonElement timeline = root.GetProperty("timeline");
            Assert.Equal("uptime", timeline.GetProperty("clock").GetString());
            Assert.Equal(0, timeline.GetProperty("without_time").GetInt64());
            JsonElement[] buckets = [.. timeline.GetProperty("buckets").EnumerateArray()];
            Assert.Equal(600, buckets[0].GetProperty("since_boot_seconds").GetInt64());
            Assert.Equal(55, buckets.Sum(b => b.GetProperty("count").GetInt64()));
            JsonElement chart = root.GetProperty("verdict").GetProperty("timeline");
            Assert.Equal(JsonValueKind.Null, chart.GetProperty("start").ValueKind);
            Assert.Equal(600, chart.GetProperty("start_since_boot_seconds").GetInt64());
        }

        (_, string table, _) = MgscanTests.Run(null, "samples/logs/dmesg.txt");
        Assert.Contains("\nfrom boot +10m19s to boot +10m31s, 15 different destinations\n(times since boot: the lines give no wall-clock time)\nbusiest minute: boot +10m with 55 entries\n", table, StringComparison.Ordinal);
        Assert.Contains("\n                     ^ burst from boot +10m\n", table, StringComparison.Ordinal);
        Assert.Matches(@"\n  1001 +32 +58\.2% +14  \+0:10:2\d  \+0:10:3\d\n", table);
    }

    [Fact]
    public void Mgscan_JournalShortDelta_ReadsEveryEntryAndChartsFromBoot()
    {
        (int code, string table, string stderr) = MgscanTests.Run(null, "samples/logs/journal-short-delta.txt");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        string[] lines = table.Split('\n');
        Assert.Equal("VERDICT: Direct-to-MX spam from uid 1001, medium confidence", lines[0]);
        Assert.Contains("\n                     boot +1h15m +1h17m\n                     ^ burst from boot +1h15m\n", table, StringComparison.Ordinal);
        Assert.Contains("\n128 blocked connection entries in 130 lines (0.0 MiB)\nfrom boot +1h15m02s to boot +1h16m13s, 62 different destinations\n", table, StringComparison.Ordinal);
        Assert.Matches(@"\n  uid 1001 +60 +94% +60 +60 +0 +0 +30\n", table);
        Assert.All(lines.Where(l => !l.StartsWith("     ", StringComparison.Ordinal)), l => Assert.True(l.Length <= 80, $"over 80 columns: {l}"));

        JsonElement root = Report("journal-short-delta.txt", out JsonDocument doc);
        using (doc)
        {
            JsonElement verdict = root.GetProperty("verdict");
            Assert.Equal(JsonValueKind.Null, verdict.GetProperty("burst_start").ValueKind);
            Assert.Equal(4500, verdict.GetProperty("burst_since_boot_seconds").GetInt64());
            Assert.Equal(4500, verdict.GetProperty("culprit").GetProperty("peak_minute_since_boot_seconds").GetInt64());
        }
    }

    [Fact]
    public void Mgscan_CentralServerFile_ReadsTheTagWithoutAColon()
    {
        (int code, string table, string stderr) = MgscanTests.Run(null, "samples/logs/central-traditional.log");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.StartsWith("VERDICT: Direct-to-MX spam from uid 1001, medium confidence\n", table, StringComparison.Ordinal);
        Assert.Matches(@"\n                     \^ burst from \d{4}-12-07 03:22\n", table);
        Assert.Contains("\n128 blocked connection entries in 132 lines (0.0 MiB)\n", table, StringComparison.Ordinal);
        Assert.Contains("\nNot counted: 2 other netfilter entries\n", table, StringComparison.Ordinal); // SSH-OUT: read, not selected
        Assert.Matches(@"\n  uid 1001 +60 +94% +60 +60 +0 +0 +30\n", table);
    }
}
