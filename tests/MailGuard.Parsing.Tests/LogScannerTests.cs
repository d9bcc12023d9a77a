using System.Buffers;
using System.IO.Compression;
using System.Text;

namespace MailGuard.Parsing.Tests;

public class LogScannerTests
{
    private struct CountingSink : ILogSink
    {
        public long Entries;
        public long Lines;
        public long UidSum;
        public long DptSum;

        public void OnLine(LineKind kind, ref LogRecord record)
        {
            Lines++;
            if (kind == LineKind.Entry)
            {
                Entries += record.Copies;
                UidSum += record.Entry.Uid * record.Copies;
                DptSum += record.Entry.Dpt * record.Copies;
            }
        }
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }

    private static byte[] KernLog => File.ReadAllBytes(Path.Combine(Repo.Samples, "kern.log"));

    private static LogScannerOptions Options(int maxLine = 64 * 1024) => new()
    {
        MaxLineLength = maxLine,
        Parser = new LogLineParserOptions { Envelope = new EnvelopeOptions { ReferenceTime = new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero) } },
    };

    private static (CountingSink Sink, ScanTotals Totals) ScanWhole(byte[] data, int maxLine = 64 * 1024)
    {
        var scanner = new LogScanner(Options(maxLine));
        var sink = new CountingSink();
        scanner.Scan(data, ref sink);
        return (sink, scanner.Totals);
    }

    [Fact]
    public void ScanSequence_EverySplitIntoTwoSegments_GivesTheSameResult()
    {
        byte[] data = KernLog;
        (CountingSink whole, ScanTotals wholeTotals) = ScanWhole(data);
        Assert.Equal(55, whole.Entries);
        Assert.Equal(73, wholeTotals.Lines);

        for (int split = 0; split <= data.Length; split++)
        {
            var first = new Segment(data.AsMemory(0, split));
            Segment last = first.Append(data.AsMemory(split));
            var seq = new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
            var scanner = new LogScanner(Options());
            var sink = new CountingSink();
            scanner.ScanSequence(seq, ref sink);
            Assert.True(whole.Equals(sink), $"split at {split}: {sink.Entries} entries, {sink.Lines} lines");
            Assert.Equal(wholeTotals.Bytes, scanner.Totals.Bytes);
        }
    }

    [Fact]
    public async Task ScanAsync_OneByteReads_GivesTheSameResult()
    {
        byte[] data = KernLog;
        (CountingSink whole, _) = ScanWhole(data);
        var scanner = new LogScanner(Options());
        CountingSink sink = await scanner.ScanAsync(new TrickleStream(data, 1), new CountingSink(), TestContext.Current.CancellationToken);
        Assert.Equal(whole, sink);
        Assert.Equal(data.Length, scanner.Totals.Bytes);
    }

    [Fact]
    public void Scan_LastLineWithoutNewline_StillCounts()
    {
        byte[] data = KernLog;
        Assert.Equal((byte)'\n', data[^1]);
        (CountingSink withNl, _) = ScanWhole(data);
        (CountingSink without, ScanTotals t) = ScanWhole(data[..^1]);
        Assert.Equal(withNl, without);
        Assert.Equal(73, t.Lines);
    }

    [Fact]
    public async Task ScanAsync_OverlongLine_IsSkippedCountedAndTheRestIsRead()
    {
        byte[] data = KernLog;
        byte[] huge = Encoding.ASCII.GetBytes(new string('x', 100_000) + " IN= OUT=eth0 " + "\n");
        byte[] input = [.. data, .. huge, .. data];
        var scanner = new LogScanner(Options(maxLine: 4096));
        CountingSink sink = await scanner.ScanAsync(new TrickleStream(input, 1000), new CountingSink(), TestContext.Current.CancellationToken);
        Assert.Equal(110, sink.Entries);
        Assert.Equal(1, scanner.Totals.OverlongLines);
        Assert.Equal(147, scanner.Totals.Lines);
        Assert.Equal(146, sink.Lines); // the over-long line is counted, not handed on
    }

    [Fact]
    public async Task ScanAsync_GzipInput_EqualsThePlainText()
    {
        byte[] data = KernLog;
        using var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
        {
            z.Write(data);
        }

        var plain = new LogScanner(Options());
        CountingSink a = await plain.ScanAsync(LogScanner.OpenMaybeGzip(new MemoryStream(data)), new CountingSink(), TestContext.Current.CancellationToken);
        var packed = new LogScanner(Options());
        CountingSink b = await packed.ScanAsync(LogScanner.OpenMaybeGzip(new MemoryStream(gz.ToArray())), new CountingSink(), TestContext.Current.CancellationToken);
        Assert.Equal(a, b);
        Assert.Equal(plain.Totals.Bytes, packed.Totals.Bytes);
    }

    [Fact]
    public async Task ScanAsync_TruncatedGzip_ThrowsCompressedDataExceptionAfterTheLastLine()
    {
        using var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
        {
            z.Write(KernLog);
        }

        byte[] cut = gz.ToArray()[..(int)(gz.Length / 2)];
        var scanner = new LogScanner(Options());
        CompressedDataException e = await Assert.ThrowsAsync<CompressedDataException>(async () => await scanner.ScanAsync(LogScanner.OpenMaybeGzip(new MemoryStream(cut)), new CountingSink(), TestContext.Current.CancellationToken));
        Assert.Equal(CompressedDamage.EndsEarly, e.Damage);
        Assert.Equal(e.TextBytes, scanner.Totals.Bytes);
        Assert.Equal(e.TextLines, scanner.Totals.Lines); // the line the cut ends in is read too
    }

    [Fact]
    public void Scan_NulBytes_AreCountedAsBinaryLines()
    {
        byte[] input = [.. "a\0b\n"u8, .. KernLog];
        (CountingSink sink, ScanTotals t) = ScanWhole(input);
        Assert.Equal(1, t.BinaryLines);
        Assert.Equal(55, sink.Entries);
    }

    [Fact]
    public void ScanAsync_LargeInput_AllocatesTheSameAsASmallOne()
    {
        byte[] small = Repeat(KernLog, 10);
        byte[] large = Repeat(KernLog, 200);
        // Measured on a thread of its own, after one unmeasured scan of the large input there: the pipe rents its buffers
        // from ArrayPool.Shared, whose per-thread cache a new thread has empty — while other tests run, the shared stacks
        // may be empty too and rents allocate (fresh-clone CI: +120 KB, +48 KB, +78 KB on a fresh thread per scan). Then
        // the least of five runs each: 190 more copies are 13,870 more lines, so one 24-byte object a line is +333 KB, one
        // per entry +250 KB; warm, here, the large input took 12.7 KB more than the small one (2,176 → 14,848 B).
        long a = long.MaxValue, b = long.MaxValue;
        Exception? failed = null;
        var thread = new Thread(() =>
        {
            try
            {
                Allocated(large);
                for (int run = 0; run < 5; run++)
                {
                    a = Math.Min(a, Allocated(small));
                    b = Math.Min(b, Allocated(large));
                }
            }
            catch (Exception e)
            {
                failed = e; // reported on the test's thread
            }
        });
        thread.Start();
        thread.Join();
        Assert.Null(failed);
        Assert.True(b - a < 64 * 1024, $"10 copies: {a} B, 200 copies: {b} B");
    }

    /// <summary>
    /// What a scan of <paramref name="data"/> allocates on this thread (a MemoryStream is read synchronously, so the whole
    /// scan runs here, and nothing else does: the test runner's threads run other tests).
    /// </summary>
    private static long Allocated(byte[] data)
    {
        var scanner = new LogScanner(Options());
        var stream = new MemoryStream(data);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Task<CountingSink> scan = scanner.ScanAsync(stream, new CountingSink());
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(scan.IsCompleted, "the scan went on on another thread: the figure would not be the scan's");
        Assert.Equal(55 * (data.Length / KernLog.Length), scan.Result.Entries);
        return allocated;
    }

    private static byte[] Repeat(byte[] data, int n)
    {
        var ms = new MemoryStream();
        for (int i = 0; i < n; i++)
        {
            ms.Write(data);
        }

        return ms.ToArray();
    }

    [Fact]
    public void SkipOtherLines_CountsTheSameAsAFullParse_OnEverySample()
    {
        foreach (string file in Directory.GetFiles(Repo.Samples).Where(f => !f.EndsWith(".md", StringComparison.Ordinal)))
        {
            byte[] data = File.ReadAllBytes(file);
            var full = new LogScanner(Options());
            var fullSink = new CountingSink();
            full.Scan(data, ref fullSink);
            var fast = new LogScanner(new LogScannerOptions { Parser = new LogLineParserOptions { SkipOtherLines = true, Envelope = new EnvelopeOptions { ReferenceTime = new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero) } } });
            var fastSink = new CountingSink();
            fast.Scan(data, ref fastSink);
            string name = Path.GetFileName(file);
            Assert.True(fullSink.Equals(fastSink), name);
            Assert.Equal((full.Totals.Lines, full.Totals.Entries, full.Totals.OtherPrefix, full.Totals.Malformed, full.Totals.LookAlike, full.Totals.Blobs, full.Totals.BinaryLines), (fast.Totals.Lines, fast.Totals.Entries, fast.Totals.OtherPrefix, fast.Totals.Malformed, fast.Totals.LookAlike, fast.Totals.Blobs, fast.Totals.BinaryLines));
        }
    }

    [Theory]
    [InlineData(64 * 1024)]
    [InlineData(300)] // runs cut at the line limit, over-long lines among them
    public void SkipOtherLines_MixedLinesWithSpecialStarts_CountTheSameAsAFullParse(int maxLine)
    {
        // Lines of every sample in random order, with lines the envelope parser treats specially between
        // them (separators, journal JSON, empty lines, indented text), so that runs of plain lines end anywhere.
        var random = new Random(maxLine);
        var pool = new List<byte[]>();
        foreach (string file in Directory.GetFiles(Repo.Samples).Where(f => !f.EndsWith(".md", StringComparison.Ordinal)))
        {
            pool.AddRange(Repo.Lines(file));
        }

        // A journal JSON record whose MESSAGE is a byte array: its IN= is not in the text, only the parse finds it.
        string json = File.ReadLines(Path.Combine(Repo.Samples, "journal.json")).Single(l => l.Contains("\"MESSAGE\":[", StringComparison.Ordinal));
        byte[] entry = Encoding.ASCII.GetBytes("IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=203.0.113.7 DST=198.51.100.23 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=7613 DF PROTO=TCP SPT=51234 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=1001 GID=1001 ");
        json = System.Text.RegularExpressions.Regex.Replace(json, "\"MESSAGE\":\\[[0-9,]*\\]", "\"MESSAGE\":[" + string.Join(',', entry) + "]");
        string[] special = ["", "-- Boot 0123456789abcdef --", "{\"MESSAGE\":\"x\"}", "  {\"a\":1}", "\tindented", "data: x", "dmesg", "\u001e{}", "- dash", json, " " + json];
        var log = new MemoryStream();
        for (int i = 0; i < 20_000; i++)
        {
            // Mostly plain lines, so that many runs between candidates are long enough to be counted in one pass.
            int pick = random.Next(100);
            byte[] line = pick < 4 ? Encoding.UTF8.GetBytes(special[random.Next(special.Length)])
                : pick < 6 ? Encoding.ASCII.GetBytes(new string('x', random.Next(250, 400)))
                : pick < 88 ? Encoding.ASCII.GetBytes($"Nov 23 02:14:{i % 60:00} vps sshd[{i}]: Connection closed by 192.0.2.{i % 250} port {i} [preauth]")
                : pool[random.Next(pool.Count)];
            log.Write(line);
            log.WriteByte((byte)'\n');
        }

        byte[] data = log.ToArray();
        LogScannerOptions Make(bool skip) => new()
        {
            MaxLineLength = maxLine,
            Parser = new LogLineParserOptions { SkipOtherLines = skip, Envelope = new EnvelopeOptions { ReferenceTime = new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero) } },
        };
        var full = new LogScanner(Make(false));
        var fullSink = new CountingSink();
        full.Scan(data, ref fullSink);
        var fast = new LogScanner(Make(true));
        var fastSink = new CountingSink();
        fast.Scan(data, ref fastSink);
        Assert.Equal(fullSink, fastSink);
        Assert.Equal(20_000, fast.Totals.Lines);
        Assert.Equal((full.Totals.Bytes, full.Totals.Lines, full.Totals.Entries, full.Totals.OtherPrefix, full.Totals.Malformed, full.Totals.LookAlike, full.Totals.Blobs, full.Totals.OverlongLines),
            (fast.Totals.Bytes, fast.Totals.Lines, fast.Totals.Entries, fast.Totals.OtherPrefix, fast.Totals.Malformed, fast.Totals.LookAlike, fast.Totals.Blobs, fast.Totals.OverlongLines));
        Assert.True(fast.Totals.Entries > 300 && (maxLine > 1000 || fast.Totals.OverlongLines > 100), $"{fast.Totals.Entries} entries, {fast.Totals.OverlongLines} over-long");
    }

    [Fact]
    public async Task OpenMaybeGzip_RegularFile_ReadsOnTheCallingThread()
    {
        // A FileStream opened for synchronous I/O would run every ReadAsync on a thread-pool thread.
        string path = Path.Combine(Repo.Samples, "kern.log");
        await using Stream s = LogScanner.OpenMaybeGzip(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1));
        byte[] buffer = new byte[4096];
        long total = 0;
        while (true)
        {
            ValueTask<int> read = s.ReadAsync(buffer, TestContext.Current.CancellationToken);
            Assert.True(read.IsCompleted);
            int n = await read;
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        Assert.Equal(new FileInfo(path).Length, total);
    }

    [Fact]
    public async Task OpenMaybeGzip_ReaderDisposedEarly_TheDecompressingTaskStopsAndClosesTheSource()
    {
        // gzip is decompressed ahead on another thread; a reader that stops early must not leave it running.
        using var packed = new MemoryStream();
        using (var gz = new System.IO.Compression.GZipStream(packed, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            for (int i = 0; i < 200_000; i++)
            {
                gz.Write(Encoding.ASCII.GetBytes($"Nov 23 02:14:07 vps kernel: IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.{i % 251}.{i % 241} ID={i} LEN=60\n")); // 20 MB of text: far more than the 1 MiB read ahead
            }
        }

        var source = new DisposeFlagStream(packed.ToArray());
        Stream s = LogScanner.OpenMaybeGzip(source);
        byte[] buffer = new byte[4096];
        Assert.True(await s.ReadAsync(buffer, TestContext.Current.CancellationToken) > 0);
        await s.DisposeAsync();
        for (int wait = 0; wait < 200 && !source.Disposed; wait++)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        Assert.True(source.Disposed);
        Assert.True(source.PositionAtDispose < source.Length / 2); // it stopped, it did not decompress to the end
    }

    private sealed class DisposeFlagStream(byte[] data) : MemoryStream(data)
    {
        public bool Disposed { get; private set; }

        public long PositionAtDispose { get; private set; }

        public override long Length { get; } = data.Length;

        protected override void Dispose(bool disposing)
        {
            if (!Disposed)
            {
                PositionAtDispose = Position;
            }

            Disposed = true;
            base.Dispose(disposing);
        }
    }
}

public class RepeatBoundTests
{
    private const string Entry = "IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=203.0.113.7 DST=198.51.100.23 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=4242 DF PROTO=TCP SPT=51234 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=1001 GID=1001 ";

    private static ScanTotals Scan(string log, int rate = 10_000)
    {
        var scanner = new LogScanner(new LogScannerOptions
        {
            MaxRepeatRate = rate,
            Parser = new LogLineParserOptions { Envelope = new EnvelopeOptions { ReferenceTime = new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero) } },
        });
        var sink = new TrafficStatsSink(new TrafficStats());
        scanner.Scan(Encoding.UTF8.GetBytes(log), ref sink);
        Assert.Equal(scanner.Totals.Entries, sink.Stats.All.Count);
        return scanner.Totals;
    }

    [Theory]
    [InlineData("Nov 23 02:14:07 vps kernel: " + Entry + "\nNov 23 02:14:07 vps last message repeated 2147483647 times\n", 1 + 10_000, 2_147_483_647 - 10_000)] // the same second: one second's worth
    [InlineData("Nov 23 02:14:07 vps kernel: " + Entry + "\nNov 23 02:14:12 vps last message repeated 2147483647 times\n", 1 + 60_000, 2_147_483_647 - 60_000)] // 5 s later: six seconds' worth
    [InlineData("Nov 23 02:14:07 vps kernel: message repeated 2147483647 times: [ " + Entry + "]\n", 10_000, 2_147_483_648 - 10_000)] // no entry before it
    [InlineData("Nov 23 02:14:07 vps kernel: " + Entry + "\nNov 23 02:14:09 vps kernel: message repeated 1000000000 times: [ " + Entry + "]\n", 1 + 30_000, 1_000_000_001 - 30_000)]
    public void Scan_RepeatNoticeBeyondItsInterval_IsCountedAtTheBoundAndReported(string log, long entries, long dropped)
    {
        ScanTotals t = Scan(log);
        Assert.Equal(entries, t.Entries);
        Assert.Equal(1, t.CappedRepeatNotices);
        Assert.Equal(dropped, t.CappedRepeatCopies);
    }

    [Theory]
    [InlineData("Nov 23 02:14:07 vps kernel: " + Entry + "\nNov 23 02:14:07 vps last message repeated 4 times\n", 5)]
    [InlineData("Nov 23 02:14:07 vps kernel: message repeated 3 times: [ " + Entry + "]\n", 4)]
    [InlineData("Nov 23 02:14:07 vps kernel: " + Entry + "\nNov 23 02:14:07 vps last message repeated 3 times\nNov 23 02:14:08 vps last message repeated 3 times\n", 7)] // a notice repeats the entry, not the notice
    public void Scan_PlausibleRepeatNotice_CountsEveryCopy(string log, long entries)
    {
        ScanTotals t = Scan(log);
        Assert.Equal(entries, t.Entries);
        Assert.Equal(0, t.CappedRepeatNotices);
    }

    [Fact]
    public void Scan_LowerRate_BoundsLower()
    {
        ScanTotals t = Scan("Nov 23 02:14:07 vps kernel: " + Entry + "\nNov 23 02:14:08 vps last message repeated 500 times\n", rate: 100);
        Assert.Equal(1 + 200, t.Entries);
        Assert.Equal(300, t.CappedRepeatCopies);
    }

    [Fact]
    public void Options_RateBelowOne_IsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new LogScanner(new LogScannerOptions { MaxRepeatRate = 0 }));
}
