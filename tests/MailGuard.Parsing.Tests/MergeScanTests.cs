using System.Text;
using MailGuard.Parsing.Internals;

namespace MailGuard.Parsing.Tests;

/// <summary>Several inputs in one scan: time order, overlap counted once, per-input errors, repeats.</summary>
public class MergeScanTests
{
    private static readonly DateTimeOffset Reference = new(2026, 11, 24, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Records every line handed on: kind, time and the message of entries.</summary>
    private sealed class RecordingSink : ILogSink
    {
        public List<(LineKind Kind, DateTimeOffset? Time, string Message, long Copies)> Lines { get; } = [];

        public long Entries { get; private set; }

        public void OnLine(LineKind kind, ref LogRecord record)
        {
            Lines.Add((kind, record.Envelope.Time, kind is LineKind.Entry or LineKind.Duplicate ? Encoding.Latin1.GetString(record.Message) : "", record.Copies));
            if (kind == LineKind.Entry)
            {
                Entries += record.Copies;
            }
        }
    }

    private static LogScanner Scanner(LogLineParserOptions? parser = null) => new(new LogScannerOptions
    {
        Parser = parser ?? new LogLineParserOptions { Envelope = new EnvelopeOptions { ReferenceTime = Reference } },
    });

    private static async Task<(RecordingSink Sink, ScanTotals Totals, LogInput[] Inputs)> Merge(params byte[][] inputs)
    {
        LogInput[] list = [.. inputs.Select((data, i) => new LogInput($"input{i}", LogScanner.OpenMaybeGzip(new MemoryStream(data))))];
        LogScanner scanner = Scanner();
        RecordingSink sink = await scanner.ScanAsync(list, new RecordingSink(), TestContext.Current.CancellationToken);
        return (sink, scanner.Totals, list);
    }

    private static byte[] Sample(string name) => File.ReadAllBytes(Path.Combine(Repo.Samples, name));

    /// <summary>The file cut into <paramref name="parts"/> runs of whole lines.</summary>
    private static byte[][] Cut(byte[] data, int parts)
    {
        var cuts = new List<int> { 0 };
        for (int p = 1; p < parts; p++)
        {
            int at = Array.IndexOf(data, (byte)'\n', data.Length * p / parts) + 1;
            cuts.Add(at);
        }

        cuts.Add(data.Length);
        return [.. cuts.Zip(cuts.Skip(1), (a, b) => data[a..b])];
    }

    [Fact]
    public async Task Merge_KernLogAndMessages_CountsEachKernelLineOnce()
    {
        // The capture wrote the same kernel lines to kern.log and (among other daemons' lines) to messages.
        (RecordingSink sink, ScanTotals t, _) = await Merge(Sample("kern.log"), Sample("messages"));
        Assert.Equal(55, t.Entries);
        Assert.Equal(55, sink.Entries);
        Assert.Equal(8, t.OtherPrefix);
        Assert.Equal(63, t.Duplicates); // 55 entries + 8 other-prefix lines were in both
        Assert.Equal(Repo.Lines(Path.Combine(Repo.Samples, "kern.log")).Count + Repo.Lines(Path.Combine(Repo.Samples, "messages")).Count, t.Lines);
        Assert.Equal(63, sink.Lines.Count(l => l.Kind == LineKind.Duplicate));
    }

    [Fact]
    public async Task Merge_PreciseAndTraditionalStamps_OfTheSameLines_CountOnce()
    {
        // kern-rfc3339.log has microsecond RFC 3339 stamps; kern.log the same lines to the second.
        (_, ScanTotals t, _) = await Merge(Sample("kern.log"), Sample("kern-rfc3339.log"));
        Assert.Equal(55, t.Entries);
        Assert.Equal(63, t.Duplicates);
    }

    [Fact]
    public async Task Merge_SameInputTwice_CountsOnce_ButRealRepeatsInOneInputStay()
    {
        byte[] line = "Nov 23 02:14:07 vps kernel: IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.100.7 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=33 GID=33\n"u8.ToArray();
        byte[] twice = [.. line, .. line];
        (_, ScanTotals t, _) = await Merge(twice, line, twice);
        Assert.Equal(2, t.Entries); // the most copies any one input has
        Assert.Equal(3, t.Duplicates);
    }

    [Fact]
    public async Task Merge_RotatedSetNamedInAnyOrder_ReadsInTimeOrderAndEqualsTheWhole()
    {
        byte[] whole = Sample("kern.log");
        byte[][] parts = Cut(whole, 4); // kern.log.3.gz, kern.log.2.gz, kern.log.1, kern.log
        LogScanner one = Scanner();
        RecordingSink expected = await one.ScanAsync([new LogInput("kern.log", new MemoryStream(whole))], new RecordingSink(), TestContext.Current.CancellationToken);

        (RecordingSink sink, ScanTotals t, _) = await Merge(parts[3], Compressed.Gzip(parts[1]), parts[2], Compressed.Gzip(parts[0]));
        Assert.Equal(one.Totals.Entries, t.Entries);
        Assert.Equal(one.Totals.Lines, t.Lines);
        Assert.Equal(one.Totals.Bytes, t.Bytes);
        Assert.Equal(0, t.Duplicates);
        Assert.Equal(
            expected.Lines.Where(l => l.Kind == LineKind.Entry).Select(l => l.Message),
            sink.Lines.Where(l => l.Kind == LineKind.Entry).Select(l => l.Message));
        DateTimeOffset?[] times = [.. sink.Lines.Where(l => l.Time is not null).Select(l => l.Time)];
        Assert.Equal(times.Order(), times);
    }

    [Fact]
    public async Task Merge_TruncatedGzipInput_SetsItsErrorAndTheOthersAreRead()
    {
        byte[] gz = Compressed.Gzip(Sample("kern.log"));
        (_, ScanTotals t, LogInput[] inputs) = await Merge(gz[..(gz.Length / 2)], Sample("kern.log"));
        Assert.Equal(CompressedDamage.EndsEarly, Assert.IsType<CompressedDataException>(inputs[0].Error).Damage);
        Assert.Null(inputs[1].Error);
        Assert.Equal(56, t.Entries); // the good input whole; the cut one's lines are duplicates of it, except the entry the cut ends in (read like any last line without a newline, and not the same text)
    }

    /// <summary>Three entries of <paramref name="host"/> in each of 200 seconds, to destinations of its own.</summary>
    private static byte[] TiedEntries(string host, int net)
    {
        var s = new StringBuilder();
        for (int i = 0; i < 600; i++)
        {
            s.Append(System.Globalization.CultureInfo.InvariantCulture, $"Nov 23 02:{i / 3 / 60:00}:{i / 3 % 60:00} {host} kernel: IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=203.0.113.{net} DST=198.51.{net}.{i % 250} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=4242 DF PROTO=TCP SPT={40000 + i} DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=1001 GID=1001 \n");
        }

        return Encoding.ASCII.GetBytes(s.ToString());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(97)]
    [InlineData(4096)]
    public async Task Merge_LinesOfTwoInputsInTheSameSecond_TakeOneOrder_WhereverAReadEnds(int chunk)
    {
        // On a tie the input being read goes on, at the end of a read too (it used to go to the first input there): the
        // order, and the figures that depend on it, are the same whatever the reads return.
        byte[] a = TiedEntries("vps01", 1), b = TiedEntries("mail01", 2);
        (RecordingSink whole, ScanTotals totals, _) = await Merge(a, b);
        LogInput[] trickled = [new("a", LogScanner.OpenMaybeGzip(new TrickleStream(a, chunk))), new("b", LogScanner.OpenMaybeGzip(new TrickleStream(b, chunk)))];
        RecordingSink sink = await Scanner().ScanAsync(trickled, new RecordingSink(), TestContext.Current.CancellationToken);
        Assert.Equal(1200, totals.Entries);
        Assert.Equal(whole.Lines, sink.Lines);
    }

    [Fact]
    public void DuplicateWindow_RemembersOnlyTheLinesOfTheWindow()
    {
        var window = new DuplicateWindow(TimeSpan.FromSeconds(10).Ticks);
        var parser = new LogLineParser(new LogLineParserOptions { Envelope = new EnvelopeOptions { ReferenceTime = Reference } });
        var totals = new ScanTotals();
        int most = 0;
        var start = new DateTime(2026, 11, 23, 0, 0, 0);
        for (int i = 0; i < 20_000; i++)
        {
            DateTime t = start.AddSeconds(i / 10); // 10 entries a second for 2,000 s
            byte[] line = Encoding.ASCII.GetBytes($"{t:MMM dd HH:mm:ss} vps kernel: IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.100.7 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID={i} DF PROTO=TCP SPT=40000 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0");
            Assert.Equal(LineKind.Entry, parser.Parse(line, out LogRecord record));
            Assert.Equal(LineKind.Entry, window.Admit(i % 2, ref record, LineKind.Entry, totals));
            most = Math.Max(most, window.Remembered);
        }

        Assert.InRange(most, 100, 120); // 10 s (+ the current second) of 10 lines a second, not 20,000
        Assert.Equal(0, totals.Duplicates);
    }

    [Fact]
    public void Scan_LastMessageRepeated_AfterAnEntry_CountsTheCopies()
    {
        string text = """
            Nov 23 02:14:07 vps kernel: IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.100.7 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=33 GID=33
            Nov 23 02:14:37 vps kernel: last message repeated 4 times
            Nov 23 02:15:07 vps kernel: last message repeated 2 times
            Nov 23 02:15:08 vps sshd[1]: Accepted publickey for admin
            Nov 23 02:15:37 vps kernel: last message repeated 9 times

            """;
        LogScanner scanner = Scanner();
        var sink = new RecordingSink();
        scanner.Scan(Encoding.ASCII.GetBytes(text), ref sink);
        Assert.Equal(7, scanner.Totals.Entries); // 1 + 4 + 2; the notice after sshd's line is not ours
        Assert.Equal(7, sink.Entries);
        Assert.Equal(5, scanner.Totals.Lines);
        Assert.Equal([1, 4, 2], sink.Lines.Where(l => l.Kind == LineKind.Entry).Select(l => l.Copies));
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 2, 15, 7, TimeSpan.Zero), sink.Lines[2].Time); // the notice's time: the last copy
    }

    [Fact]
    public void Scan_PortAndTimeBounds_ExcludeAndCount()
    {
        var options = new LogLineParserOptions
        {
            Envelope = new EnvelopeOptions { ReferenceTime = Reference },
            Ports = [587, 465],
            Since = new DateTimeOffset(2026, 11, 23, 19, 23, 53, TimeSpan.Zero),
            Until = new DateTimeOffset(2026, 11, 23, 19, 23, 56, TimeSpan.Zero),
        };

        // Independent count: TCP-OUT entries of kern.log with DPT 587/465 stamped 19:23:53 to 19:23:56.
        int expected = 0, all = 0;
        foreach (byte[] raw in Repo.Lines(Path.Combine(Repo.Samples, "kern.log")))
        {
            string line = Encoding.Latin1.GetString(raw);
            var m = System.Text.RegularExpressions.Regex.Match(line, @"^Nov 23 19:23:(\d\d) .*IPTABLES TCP-OUT \d+:.* DPT=(\d+) ");
            if (line.Contains("IPTABLES TCP-OUT", StringComparison.Ordinal) && line.Contains(" DPT=", StringComparison.Ordinal))
            {
                all++;
            }

            if (m.Success && m.Groups[2].Value is "587" or "465" && int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) is >= 53 and <= 56)
            {
                expected++;
            }
        }

        LogScanner scanner = Scanner(options);
        var sink = new RecordingSink();
        scanner.Scan(Sample("kern.log"), ref sink);
        Assert.InRange(expected, 3, 12);
        Assert.Equal(expected, scanner.Totals.Entries);
        Assert.Equal(all - expected, scanner.Totals.Excluded);
    }

    [Fact]
    public void Timeline_OfKernLog_CountsPerMinuteAndSumsIntoWiderBuckets()
    {
        var stats = new TrafficStats();
        var sink = new TrafficStatsSink(stats);
        Scanner().Scan(Sample("kern.log"), ref sink);

        // Independent count from the text: entries stamped 19:23 and 19:24.
        List<string> entries = [.. Repo.Lines(Path.Combine(Repo.Samples, "kern.log")).Select(Encoding.Latin1.GetString).Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"IPTABLES TCP-OUT \d+:IN=.* DPT="))];
        int at23 = entries.Count(l => l.StartsWith("Nov 23 19:23:", StringComparison.Ordinal));
        Assert.Equal(entries.Count - at23, stats.Timeline.Buckets(TimeSpan.FromMinutes(1))[1].Count);
        IReadOnlyList<TimeBucket> minutes = stats.Timeline.Buckets(TimeSpan.FromMinutes(1));
        Assert.Equal([new TimeBucket(new DateTimeOffset(2026, 11, 23, 19, 23, 0, TimeSpan.Zero), at23), new TimeBucket(new DateTimeOffset(2026, 11, 23, 19, 24, 0, TimeSpan.Zero), entries.Count - at23)], minutes);
        IReadOnlyList<TimeBucket> hours = stats.Timeline.Buckets(TimeSpan.FromHours(1));
        Assert.Equal([new TimeBucket(new DateTimeOffset(2026, 11, 23, 19, 0, 0, TimeSpan.Zero), 55)], hours);
        Assert.Equal(new TimeBucket(minutes[0].Start, at23), stats.Timeline.PeakMinute);
        Assert.Equal(0, stats.Timeline.WithoutTime);
    }

    [Theory]
    [InlineData(1, 60, 1)]          // one minute of entries, 60 buckets wanted: per minute
    [InlineData(600, 60, 10)]       // ten hours: 10-minute buckets
    [InlineData(600, 12, 60)]       // ten hours in 12 buckets: hourly
    [InlineData(1440 * 90, 60, 2880)] // 90 days in 60 buckets: 2 days each
    public void Timeline_SuggestWidth_PicksTheSmallestRoundWidthThatFits(int minutes, int maxBuckets, int expectedMinutes)
    {
        var stats = new TrafficStats();
        var sink = new TrafficStatsSink(stats);
        var start = new DateTime(2026, 1, 1, 0, 0, 0);
        foreach (int m in new[] { 0, minutes - 1 })
        {
            DateTime t = start.AddMinutes(m);
            byte[] line = Encoding.ASCII.GetBytes($"{t:yyyy-MM-ddTHH:mm:ss}+00:00 vps kernel: IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.100.7 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0\n");
            Scanner().Scan(line, ref sink);
        }

        TimeSpan width = stats.Timeline.SuggestWidth(maxBuckets);
        Assert.Equal(TimeSpan.FromMinutes(expectedMinutes), width);
        Assert.InRange(stats.Timeline.Buckets(width).Count, 1, maxBuckets);
        Assert.Equal(2, stats.Timeline.Buckets(width).Sum(b => b.Count));
    }
}
