using System.Text;

namespace MailGuard.Parsing.Tests;

/// <summary>The two clocks of a timeline: the wall clock, and the kernel's time since boot for lines that give nothing else.</summary>
public class TimelineTests
{
    private static string Body(int n) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.100.{n % 250} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT={40000 + n} DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=1001 GID=1001 ");

    private static TrafficStats Stats(params string[] lines)
    {
        var stats = new TrafficStats();
        var parser = new LogLineParser();
        int n = 0;
        foreach (string line in lines)
        {
            string text = line.Replace("{body}", Body(n), StringComparison.Ordinal);
            n++;
            Assert.Equal(LineKind.Entry, parser.Parse(Encoding.UTF8.GetBytes(text), out LogRecord r));
            stats.Add(ref r);
        }

        return stats;
    }

    [Fact]
    public void Add_LinesWithOnlyAnUptime_GoOnTheUptimeClockNotWithoutTime()
    {
        TrafficStats s = Stats("[ 4502.079655] {body}", "[ 4510.5] {body}", "[ 4561.0] {body}", "{body}");
        Timeline t = s.Timeline;
        Assert.Equal(ClockKind.WallClock, t.Clock);
        Assert.Equal(0, t.Count);
        Assert.Null(t.PeakMinute);
        Assert.Equal(1, t.WithoutTime); // only the line without any time
        Assert.NotNull(t.SinceBoot);
        Assert.Equal(ClockKind.Uptime, t.SinceBoot.Clock);
        Assert.Equal(3, t.SinceBoot.Count);
        Assert.Equal(ClockKind.Uptime, t.PeakClock);
        Assert.Same(t.SinceBoot, t.On(ClockKind.Uptime));
        Assert.Null(t.On(ClockKind.WallClock)); // no entry on the wall clock
        TimeBucket peak = t.SinceBoot.PeakMinute!.Value;
        Assert.Equal(2, peak.Count);
        Assert.Equal(TimeSpan.FromMinutes(75), peak.SinceBoot); // 4502 s = 75 min 2 s
        Assert.Equal([2L, 1L], t.SinceBoot.Buckets(TimeSpan.FromMinutes(1)).Select(b => b.Count));
        Assert.Equal(TimeSpan.FromTicks(45_020_796_550), s.All.FirstUptime);
        Assert.Equal(TimeSpan.FromSeconds(4561), s.All.LastUptime);
        Assert.Null(s.All.First);
        Assert.Equal(TimeSpan.FromTicks(45_020_796_550), s.Destinations.Top(1)[0].Value.FirstUptime);
    }

    [Fact]
    public void Add_WallClockAndUptimeLines_KeepTheirClocksApart()
    {
        TrafficStats s = Stats(
            "2026-11-23T02:10:00.000000+00:00 vps kernel: {body}",
            "2026-11-23T02:11:00.000000+00:00 vps kernel: [  600.0] {body}", // both: the wall clock wins
            "[  601.0] {body}",
            "[  602.0] {body}",
            "[  603.0] {body}");
        Timeline t = s.Timeline;
        Assert.Equal(2, t.Count);
        Assert.Equal(3, t.SinceBoot!.Count);
        Assert.Equal(0, t.WithoutTime);
        Assert.Equal(ClockKind.Uptime, t.PeakClock); // its busiest minute holds 3, the wall clock's 1
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 2, 10, 0, TimeSpan.Zero), s.All.First);
        Assert.Equal(TimeSpan.FromSeconds(601), s.All.FirstUptime); // only of the lines without a wall-clock time
    }

    [Fact]
    public void PeakClock_EqualPeaks_TakesTheClockWithMoreEntriesThenTheWallClock()
    {
        Assert.Equal(ClockKind.WallClock, Stats("2026-11-23T02:10:00+00:00 vps kernel: {body}", "[  600.0] {body}").Timeline.PeakClock);
        Assert.Equal(ClockKind.Uptime, Stats("2026-11-23T02:10:00+00:00 vps kernel: {body}", "[  600.0] {body}", "[ 6600.0] {body}").Timeline.PeakClock);
        Assert.Equal(ClockKind.None, Stats("{body}").Timeline.PeakClock);
    }

    [Fact]
    public void Merge_TwoParts_AddsTheUptimeClockAndKeepsOneClockPerDestination()
    {
        TrafficStats a = Stats("[  600.0] {body}", "[  601.0] {body}");
        TrafficStats b = Stats("[  602.0] {body}", "2026-11-23T02:10:00+00:00 vps kernel: {body}"); // the same two destinations
        a.Merge(b);
        Assert.Equal(3, a.Timeline.SinceBoot!.Count);
        Assert.Equal(1, a.Timeline.Count);
        Assert.Equal(3, a.Timeline.SinceBoot.PeakMinute!.Value.Count); // 600, 601 and 602 s: minute 10 since boot
        KeyStat first = a.Destinations[Address("198.51.100.0")]!;
        KeyStat second = a.Destinations[Address("198.51.100.1")]!;
        Assert.Equal(TimeSpan.FromSeconds(600), first.FirstUptime); // 600 here and 602 there: both on the uptime clock
        Assert.Equal(TimeSpan.FromSeconds(602), first.LastUptime);
        Assert.Null(second.FirstUptime); // 601 here, a wall-clock time there: the wall clock wins
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 2, 10, 0, TimeSpan.Zero), second.First);
    }

    private static NetAddress Address(string text) => NetAddress.TryParse(text, out NetAddress a) ? a : throw new ArgumentException(text);

    [Theory]
    [InlineData(0, false, "boot +0m")]
    [InlineData(7, true, "boot +7s")]
    [InlineData(845, false, "boot +14m")]
    [InlineData(845, true, "boot +14m05s")]
    [InlineData(8045, false, "boot +2h14m")]
    [InlineData(8045, true, "boot +2h14m05s")]
    [InlineData(267245, false, "boot +3d02h14m")]
    [InlineData(267245, true, "boot +3d02h14m05s")]
    [InlineData(-5, true, "boot +0s")]
    public void BootTime_Format_WordsTheTimeSinceBoot(int seconds, bool withSeconds, string text) =>
        Assert.Equal(text, BootTime.Format(TimeSpan.FromSeconds(seconds), withSeconds));
}
