namespace MailGuard.Parsing.Tests;

public class TrafficStatsTests
{
    private struct StatsSink(TrafficStats stats) : ILogSink
    {
        public readonly void OnLine(LineKind kind, ref LogRecord record)
        {
            if (kind == LineKind.Entry)
            {
                stats.Add(ref record);
            }
        }
    }

    private static TrafficStats Scan(ReadOnlySpan<byte> data)
    {
        var stats = new TrafficStats();
        var scanner = new LogScanner(new LogScannerOptions { Parser = new LogLineParserOptions { Envelope = new EnvelopeOptions { ReferenceTime = new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero) } } });
        var sink = new StatsSink(stats);
        scanner.Scan(data, ref sink);
        return stats;
    }

    [Fact]
    public void Add_SampleKernLog_GivesTheIndependentFigures()
    {
        TrafficStats s = Scan(File.ReadAllBytes(Path.Combine(Repo.Samples, "kern.log")));
        Assert.Equal(55, s.All.Count);
        Assert.Equal(15, s.All.DistinctDestinations);
        Assert.Equal(15, s.Destinations.Count);
        Assert.Equal(42, s.Ports[25]!.Count);
        Assert.Equal(4, s.Ports[465]!.Count);
        Assert.Equal(9, s.Ports[587]!.Count);
        Assert.Equal(32, s.Uids[1001]!.Count);
        Assert.Equal(10, s.Uids[106]!.Count);
        Assert.Equal(8, s.Uids[33]!.Count);
        Assert.Equal(1, s.Uids[0]!.Count);
        Assert.Equal(4, s.WithoutUid.Count);
        Assert.Equal(3, s.Prefixes.Count);
        Assert.Equal(42, s.Prefixes["IPTABLES TCP-OUT 25:"]!.Count);
        Assert.Equal(1001u, s.Uids.Top(1)[0].Key);
        Assert.True(s.Uids[1001]!.DistinctDestinations >= 14);
        Assert.NotNull(s.All.First);
        Assert.True(s.All.First <= s.All.Last);
    }

    [Fact]
    public void Merge_TwoHalves_EqualsOneRunOverBoth()
    {
        byte[] data = File.ReadAllBytes(Path.Combine(Repo.Samples, "kern.log"));
        int mid = Array.IndexOf(data, (byte)'\n', data.Length / 2) + 1;
        TrafficStats whole = Scan(data);
        TrafficStats a = Scan(data.AsSpan(0, mid));
        TrafficStats b = Scan(data.AsSpan(mid));
        a.Merge(b);

        Assert.Equal(whole.All.Count, a.All.Count);
        Assert.Equal(whole.All.DistinctDestinations, a.All.DistinctDestinations);
        Assert.Equal(whole.All.First, a.All.First);
        Assert.Equal(whole.All.Last, a.All.Last);
        Assert.Equal(Flatten(whole.Uids), Flatten(a.Uids));
        Assert.Equal(Flatten(whole.Ports), Flatten(a.Ports));
        Assert.Equal(Flatten(whole.Destinations), Flatten(a.Destinations));
        Assert.Equal(Flatten(whole.Sources), Flatten(a.Sources));
        Assert.Equal(Flatten(whole.Prefixes), Flatten(a.Prefixes));
        Assert.Equal(whole.WithoutUid.Count, a.WithoutUid.Count);
    }

    private static string[] Flatten<TKey>(KeyStats<TKey> k)
        where TKey : notnull =>
        k.Top().Select(kv => $"{kv.Key}:{kv.Value.Count}:{kv.Value.DistinctDestinations}:{kv.Value.First:o}:{kv.Value.Last:o}").ToArray();

    [Fact]
    public void Add_KnownKeys_AllocatesNothing()
    {
        byte[] data = File.ReadAllBytes(Path.Combine(Repo.Samples, "kern.log"));
        var stats = new TrafficStats();
        var parser = new LogLineParser();
        List<byte[]> lines = Repo.Lines(Path.Combine(Repo.Samples, "kern.log"));
        foreach (byte[] l in lines)
        {
            if (parser.Parse(l, out LogRecord r) == LineKind.Entry)
            {
                stats.Add(ref r);
            }
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            foreach (byte[] l in lines)
            {
                if (parser.Parse(l, out LogRecord r) == LineKind.Entry)
                {
                    stats.Add(ref r);
                }
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(55 * 101, stats.All.Count);
        Assert.NotEmpty(data);
    }
}
