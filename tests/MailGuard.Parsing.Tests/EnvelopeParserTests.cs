using System.Globalization;
using System.Text;

namespace MailGuard.Parsing.Tests;

public class EnvelopeParserTests
{
    internal static readonly DateTimeOffset Reference = new(2026, 11, 23, 23, 0, 0, TimeSpan.Zero);

    [Theory]
    [MemberData(nameof(WrapperLines.All), MemberType = typeof(WrapperLines))]
    public void Parse_ReferenceWrapper_GivesFormatTimeHostTagAndEntry(int row, string line, LogFormat format, string time, string uptime, string host, string tag, string? prefix, string check)
    {
        _ = row;
        byte[] bytes = Encoding.UTF8.GetBytes(line);
        var parser = new LogLineParser(new LogLineParserOptions { Filter = PrefixFilter.All, Envelope = new EnvelopeOptions { ReferenceTime = Reference } });
        LineKind kind = parser.Parse(bytes, out LogRecord r);

        Assert.Equal(format, r.Envelope.Format);
        Assert.Equal(time, r.Envelope.Time is { } t ? t.ToString("o", CultureInfo.InvariantCulture) : "-");
        Assert.Equal(uptime, r.Envelope.Uptime is { } u ? (u.Ticks / 10 / 1_000_000).ToString(CultureInfo.InvariantCulture) + "." + (u.Ticks / 10 % 1_000_000).ToString("D6", CultureInfo.InvariantCulture) : "-");
        Assert.Equal(host, Encoding.UTF8.GetString(r.Envelope.Host));
        Assert.Equal(tag, Encoding.UTF8.GetString(r.Envelope.Tag));

        Dictionary<string, string> c = check.Split(';').Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);
        if (prefix is not null)
        {
            Assert.Equal(LineKind.Entry, kind);
            Assert.Equal(prefix, KernelText.Latin1(r.Prefix).Replace("\u00c3\u00a9", "é", StringComparison.Ordinal));
            Dictionary<string, string> fields = Describe.Entry(r.Entry, r.Message);
            foreach ((string key, string value) in c)
            {
                if (key == "repeat")
                {
                    Assert.Equal(int.Parse(value, CultureInfo.InvariantCulture), r.Envelope.RepeatCount);
                    Assert.Equal(1 + int.Parse(value, CultureInfo.InvariantCulture), r.Copies);
                }
                else
                {
                    Assert.Equal(value, fields[key]);
                }
            }
        }
        else
        {
            Assert.NotEqual(LineKind.Entry, kind);
            if (c.TryGetValue("kind", out string? k))
            {
                Assert.Equal(Enum.Parse<EnvelopeKind>(k), r.Envelope.Kind);
            }

            if (c.TryGetValue("repeat", out string? n))
            {
                Assert.Equal(LineKind.RepeatedPrevious, kind);
                Assert.Equal(int.Parse(n, CultureInfo.InvariantCulture), r.Envelope.RepeatCount);
            }

            if (c.TryGetValue("kernel", out string? isKernel))
            {
                Assert.Equal(bool.Parse(isKernel), r.Envelope.IsKernel);
                Assert.Equal(LineKind.Other, kind);
            }
        }
    }

    [Theory]
    [InlineData("Dec 31 23:59:59 h kernel: x", "2026-01-02T00:00:00Z", "2025-12-31")]
    [InlineData("Jan  1 00:00:01 h kernel: x", "2026-01-02T00:00:00Z", "2026-01-01")]
    [InlineData("Nov 24 10:00:00 h kernel: x", "2026-11-23T23:00:00Z", "2026-11-24")]
    [InlineData("Nov 26 10:00:00 h kernel: x", "2026-11-23T23:00:00Z", "2025-11-26")]
    [InlineData("Feb 29 10:00:00 h kernel: x", "2026-11-23T23:00:00Z", "2024-02-29")]
    public void Parse_YearlessTimestamp_TakesTheYearOfTheReferenceOrTheOneBefore(string line, string reference, string expectedDate)
    {
        var p = new EnvelopeParser(new EnvelopeOptions { ReferenceTime = DateTimeOffset.Parse(reference, CultureInfo.InvariantCulture) });
        p.Parse(Encoding.UTF8.GetBytes(line), out LogEnvelope e);
        Assert.NotNull(e.Time);
        Assert.Equal(expectedDate, e.Time.Value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        Assert.Equal(TimestampFlags.YearInferred | TimestampFlags.OffsetAssumed, e.TimeFlags);
    }

    [Fact]
    public void Parse_ZonelessTimestamp_UsesTheAssumedOffset()
    {
        var p = new EnvelopeParser(new EnvelopeOptions { ReferenceTime = Reference, AssumedOffset = TimeSpan.FromHours(2) });
        p.Parse("Nov 23 02:14:07 vps kernel: x"u8, out LogEnvelope e);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 2, 14, 7, TimeSpan.FromHours(2)), e.Time);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 0, 14, 7, TimeSpan.Zero), e.Time!.Value.ToUniversalTime());
    }

    [Fact]
    public void Parse_LinesSharingAStamp_EachGetsItsOwnHostTagAndTheSameTime()
    {
        // The parser reuses the last "Mmm dd hh:mm:ss " stamp's result for lines of the same second.
        var p = new EnvelopeParser(new EnvelopeOptions { ReferenceTime = Reference });
        var seven = new DateTimeOffset(2026, 11, 23, 2, 14, 7, TimeSpan.Zero);
        p.Parse("Nov 23 02:14:07 vps kernel: a"u8, out LogEnvelope e);
        Assert.Equal(seven, e.Time);
        p.Parse("Nov 23 02:14:07 mx postfix/smtp[12]: b"u8, out e);
        Assert.Equal(seven, e.Time);
        Assert.Equal(TimestampFlags.YearInferred | TimestampFlags.OffsetAssumed, e.TimeFlags);
        Assert.Equal("mx", Encoding.ASCII.GetString(e.Host));
        Assert.Equal("postfix/smtp[12]", Encoding.ASCII.GetString(e.Tag));
        Assert.Equal("b", Encoding.ASCII.GetString(e.Message));
        p.Parse("Nov 23 02:14:07.250000 vps kernel: c"u8, out e); // a fraction: parsed in full
        Assert.Equal(seven.AddMilliseconds(250), e.Time);
        p.Parse("Nov 23 02:14:07 vps kernel: d"u8, out e);
        Assert.Equal(seven, e.Time);
        p.Parse("Nov 23 02:14:08 vps kernel: e"u8, out e);
        Assert.Equal(seven.AddSeconds(1), e.Time);
        p.Parse("Noi 23 02:14:08 vps kernel: f"u8, out e); // a month name not English: no time, however often
        Assert.Null(e.Time);
        p.Parse("Noi 23 02:14:08 vps kernel: g"u8, out e);
        Assert.Null(e.Time);
        Assert.Equal("g", Encoding.ASCII.GetString(e.Message));
    }

    [Theory]
    [InlineData("{\"MESSAGE\":")]
    [InlineData("{\"MESSAGE\":\"IN= OUT=eth0")]
    [InlineData("{]")]
    [InlineData("<4>")]
    [InlineData("<999999>x")]
    [InlineData("[")]
    [InlineData("[ 12.")]
    [InlineData("Nov")]
    [InlineData("Nov 23")]
    [InlineData("2026-11-23T18:03:11")]
    [InlineData("1642033021.")]
    [InlineData("4,511,")]
    [InlineData("\0\0\0\0")]
    public void Parse_BrokenOrCutHeader_NeverThrows(string line)
    {
        var parser = new LogLineParser();
        LineKind kind = parser.Parse(Encoding.UTF8.GetBytes(line), out _);
        Assert.NotEqual(LineKind.Entry, kind);
    }

    [Fact]
    public void Parse_MixedFormatsInOneStream_EachLineIsRecognised()
    {
        string body = "IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=203.0.113.7 DST=198.51.100.23 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=4242 DF PROTO=TCP SPT=51234 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=1001 GID=1001 ";
        string[] lines =
        [
            "Nov 23 02:14:07 vps kernel: " + body,
            "2026-11-23T02:14:08.000001+00:00 vps kernel: " + body,
            "[  123.456789] " + body,
            body,
            "Nov 23 02:14:09 vps CRON[1]: (root) CMD (true)",
        ];
        var parser = new LogLineParser(new LogLineParserOptions { Envelope = new EnvelopeOptions { ReferenceTime = Reference } });
        LineKind[] kinds = lines.Select(l => parser.Parse(Encoding.UTF8.GetBytes(l), out _)).ToArray();
        Assert.Equal([LineKind.Entry, LineKind.Entry, LineKind.Entry, LineKind.Entry, LineKind.Other], kinds);
    }

    /// <summary>Journal JSON records that cannot be decoded: never an exception, never an entry; with netfilter text, counted as malformed.</summary>
    public static TheoryData<byte[], LineKind> DamagedJson() => new()
    {
        { Encoding.UTF8.GetBytes("{\"MESSAGE\":\"\\ud800\"}"), LineKind.Other }, // a lone surrogate escape
        { Encoding.UTF8.GetBytes("{\"MESSAGE\":\"IPTABLES TCP-OUT 25:IN= OUT=eth0 \\ud800 SRC=1.2.3.4\"}"), LineKind.Malformed },
        { [.. "{\"MESSAGE\":\"IN= OUT= \\\" "u8, 0xFF, .. "\"}"u8], LineKind.Malformed }, // an escaped quote before an invalid byte
        { Encoding.UTF8.GetBytes("{\"MESSAGE\":\"IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=1.2.3.4"), LineKind.Malformed }, // cut
        { Encoding.UTF8.GetBytes("{\"MESSAGE\":\"IPTABLES TCP-OUT 25:IN= OUT=eth0\" \"x\"}"), LineKind.Malformed }, // not JSON
        { Encoding.UTF8.GetBytes("{\"MESSAGE\":\"x\" \"x\"}"), LineKind.Other },
        { Encoding.UTF8.GetBytes("{"), LineKind.Other },
    };

    [Theory]
    [MemberData(nameof(DamagedJson))]
    public void Parse_DamagedJournalJson_IsDamagedNotAnException(byte[] line, LineKind kind)
    {
        var parser = new LogLineParser(new LogLineParserOptions { Filter = PrefixFilter.All });
        Assert.Equal(kind, parser.Parse(line, out LogRecord r));
        Assert.Equal(EnvelopeKind.Damaged, r.Envelope.Kind);
        Assert.Equal(LogFormat.JournalJson, r.Envelope.Format);
    }

    [Theory]
    [InlineData("2026-11-23T08:55:01+14:22 vps01 kernel: x")] // found by FuzzTests: DateTimeOffset threw for offsets past ±14:00
    [InlineData("2026-11-23T08:55:01-1459 vps01 kernel: x")]
    public void Parse_OffsetBeyondFourteenHours_IsNoTimeNotAnException(string line)
    {
        new EnvelopeParser().Parse(Encoding.UTF8.GetBytes(line), out LogEnvelope env);
        Assert.Null(env.Time);
    }

    [Theory]
    [InlineData("Mar 28 12:00:00", "2026-03-28T12:00:00.0000000+01:00")] // winter time
    [InlineData("Mar 29 02:30:00", "2026-03-29T02:30:00.0000000+01:00")] // skipped by the change: the offset before it
    [InlineData("Mar 30 12:00:00", "2026-03-30T12:00:00.0000000+02:00")] // summer time, in the same log
    [InlineData("Oct 25 01:59:59", "2026-10-25T01:59:59.0000000+02:00")]
    [InlineData("Oct 25 02:30:00", "2026-10-25T02:30:00.0000000+02:00")] // the hour that comes twice: its first pass
    [InlineData("Oct 25 03:30:00", "2026-10-25T03:30:00.0000000+01:00")]
    public void Parse_YearlessStampInAZoneWithDaylightSaving_GetsTheOffsetOfItsOwnDate(string stamp, string time)
    {
        TimeZoneInfo berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        var parser = new EnvelopeParser(new EnvelopeOptions { TimeZone = berlin, ReferenceTime = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero) });
        parser.Parse(Encoding.ASCII.GetBytes(stamp + " vps kernel: x"), out LogEnvelope env);
        Assert.Equal(time, env.Time!.Value.ToString("o", CultureInfo.InvariantCulture));
        Assert.Equal(TimestampFlags.YearInferred | TimestampFlags.OffsetAssumed, env.TimeFlags);
    }
}
