using System.Text;

namespace MailGuard.Parsing.Tests;

public class ParallelScanTests
{
    private readonly struct StatsSink(TrafficStats stats) : ILogSink
    {
        public TrafficStats Stats => stats;

        public void OnLine(LineKind kind, ref LogRecord record)
        {
            if (kind == LineKind.Entry)
            {
                stats.Add(ref record);
            }
            else if (kind == LineKind.Duplicate)
            {
                stats.Observe(ref record);
            }
        }
    }

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
                await scanner.ScanAsync(f, new StatsSink(whole), TestContext.Current.CancellationToken);
            }

            IReadOnlyList<ChunkResult<StatsSink>> parts = ParallelScan.File(path, () => new StatsSink(new TrafficStats()), Options, chunks, TestContext.Current.CancellationToken);
            Assert.Equal(chunks, parts.Count);
            TrafficStats merged = parts[0].Sink.Stats;
            var totals = new ScanTotals();
            foreach (ChunkResult<StatsSink> part in parts)
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
}
