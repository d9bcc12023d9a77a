using System.Text;

namespace MailGuard.Parsing.Tests;

public class ParallelScanTests
{

    private static readonly LogScannerOptions Options = new()
    {
        Parser = new LogLineParserOptions { Envelope = new EnvelopeOptions { ReferenceTime = new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero) } },
    };

    /// <summary>kern.log 300 times over (4.9 MB), each copy an hour later, so chunks cut through many retransmission series.</summary>
    private static string BigLog()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mailguard-parallel-{Environment.ProcessId}-{Guid.NewGuid():N}.log");
        string[] lines = File.ReadAllText(Path.Combine(Repo.Samples, "kern.log"), Encoding.Latin1).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        using var w = new StreamWriter(path, false, Encoding.Latin1);
        for (int copy = 0; copy < 300; copy++)
        {
            foreach (string line in lines)
            {
                // "Nov 23 19:23:50 ..." -> the same minute and second, hour (copy % 4) on day 23 - copy / 4 ...: keep it simple: shift the day.
                w.Write(line.Length > 6 && line.StartsWith("Nov 23", StringComparison.Ordinal) ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Nov {1 + (copy % 23),2}{line[6..]}") : line);
                w.Write('\n');
            }
        }

        return path;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public async Task File_InChunks_EqualsOneSequentialScan(int chunks)
    {
        string path = BigLog();
        try
        {
            var whole = new TrafficStats();
            var scanner = new LogScanner(Options);
            await using (FileStream f = File.OpenRead(path))
            {
                await scanner.ScanAsync(f, new TrafficStatsSink(whole), TestContext.Current.CancellationToken);
            }

            IReadOnlyList<ChunkResult<TrafficStatsSink>> parts = ParallelScan.File(path, () => new TrafficStatsSink(new TrafficStats()), Options, chunks, TestContext.Current.CancellationToken);
            Assert.Equal(chunks, parts.Count);
            TrafficStats merged = parts[0].Sink.Stats;
            var totals = new ScanTotals();
            foreach (ChunkResult<TrafficStatsSink> part in parts)
            {
                if (!ReferenceEquals(part.Sink.Stats, merged))
                {
                    merged.Merge(part.Sink.Stats);
                }

                totals.Add(part.Totals);
            }

            Assert.Equal(scanner.Totals.Bytes, totals.Bytes);
            Assert.Equal(scanner.Totals.Lines, totals.Lines);
            Assert.Equal(scanner.Totals.Entries, totals.Entries);
            Assert.Equal(scanner.Totals.OtherPrefix, totals.OtherPrefix);
            Assert.Equal(16_500, totals.Entries);
            Assert.Equal(whole.All.Count, merged.All.Count);
            Assert.Equal(whole.All.Attempts, merged.All.Attempts); // the lead-in: series across a boundary count once
            Assert.Equal(whole.All.DistinctDestinations, merged.All.DistinctDestinations);
            Assert.Equal(whole.All.First, merged.All.First);
            Assert.Equal(whole.All.Last, merged.All.Last);
            foreach ((uint uid, KeyStat stat) in whole.Uids.Top())
            {
                Assert.Equal((stat.Count, stat.Attempts, stat.DistinctDestinations), (merged.Uids[uid]!.Count, merged.Uids[uid]!.Attempts, merged.Uids[uid]!.DistinctDestinations));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task File_LeadInCoversTheRetryWindowByTime_AttemptsEqualOneSequentialScan()
    {
        // 3,500 flows starting 50 ms apart, each a SYN and its six retransmissions (1, 3, 7, 15, 31, 63 s later):
        // 24,500 lines over 4 minutes in 6 MB. With an 8 KiB lead-in (a quarter of a second of log) series
        // cross the chunk boundaries unseen; the lead-in grows until it covers the 2-minute window.
        var packets = new List<(long Ms, int Flow)>();
        int[] backoff = [0, 1, 3, 7, 15, 31, 63];
        for (int flow = 0; flow < 3500; flow++)
        {
            foreach (int s in backoff)
            {
                packets.Add(((flow * 50L) + (s * 1000L), flow));
            }
        }

        packets.Sort();
        string path = Path.Combine(Path.GetTempPath(), $"mailguard-leadin-{Environment.ProcessId}-{Guid.NewGuid():N}.log");
        try
        {
            var start = new DateTimeOffset(2026, 11, 23, 2, 0, 0, TimeSpan.Zero);
            await using (var w = new StreamWriter(path, false, Encoding.ASCII))
            {
                foreach ((long ms, int flow) in packets)
                {
                    await w.WriteAsync(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{start.AddMilliseconds(ms):yyyy-MM-ddTHH:mm:ss.ffffffzzz} vps kernel: IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.{flow / 256}.{flow % 256} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT={20000 + flow} DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=33 GID=33\n"));
                }
            }

            var whole = new TrafficStats();
            await using (FileStream f = File.OpenRead(path))
            {
                await new LogScanner(Options).ScanAsync(f, new TrafficStatsSink(whole), TestContext.Current.CancellationToken);
            }

            Assert.Equal(3500, whole.All.Attempts);
            Assert.Equal(24_500, whole.All.Count);
            foreach (int chunks in new[] { 2, 4 })
            {
                Assert.Equal(whole.All.Attempts, Attempts(ParallelScan.File(path, () => new TrafficStatsSink(new TrafficStats()), Options, chunks, TimeSpan.FromMinutes(2), 8 << 10, TestContext.Current.CancellationToken)));
                Assert.True(Attempts(ParallelScan.File(path, () => new TrafficStatsSink(new TrafficStats()), Options, chunks, TimeSpan.Zero, 8 << 10, TestContext.Current.CancellationToken)) > 3500); // bytes alone: too short
            }
        }
        finally
        {
            File.Delete(path);
        }

        static long Attempts(IReadOnlyList<ChunkResult<TrafficStatsSink>> parts)
        {
            TrafficStats merged = parts[0].Sink.Stats;
            for (int i = 1; i < parts.Count; i++)
            {
                merged.Merge(parts[i].Sink.Stats);
            }

            return merged.All.Attempts;
        }
    }
}
