using System.Text;
using MailGuard.Parsing.Internals;

namespace MailGuard.Parsing.Tests;

/// <summary>
/// Past the key budget (<see cref="TrafficStatsOptions.KeyBudget"/>): Space-Saving counts within their error bounds on skewed
/// and adversarial streams, HyperLogLog within its standard error, memory held to the budget, nothing allocated per entry.
/// </summary>
public class BoundedStatsTests
{
    private static readonly DateTimeOffset s_reference = new(2026, 11, 24, 0, 0, 0, TimeSpan.Zero);

    /// <summary>One kernel LOG line: a local user (uid ≥ 0) or a forwarded client behind wg0 (uid &lt; 0).</summary>
    private static byte[] Line(string src, string dst, int uid, int spt, int minute = 0, string host = "vps")
    {
        string time = new DateTime(2026, 11, 23, 0, 0, 0).AddMinutes(minute).ToString("MMM dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
        string who = uid >= 0 ? "IN= OUT=eth0" : "IN=wg0 OUT=eth0 MAC=";
        string tail = uid >= 0 ? $"UID={uid} GID={uid} " : "";
        return Encoding.ASCII.GetBytes($"{time} {host} kernel: IPTABLES TCP-OUT 25:{who} SRC={src} DST={dst} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT={spt} DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 {tail}");
    }

    private static NetAddress Ip(string text) => NetAddress.TryParse(text.AsSpan(), out NetAddress a) ? a : throw new FormatException(text);

    private static string Dst(int i) => $"11.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}";

    private static string Src(int i) => $"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}";

    private static TrafficStats Count(IEnumerable<byte[]> lines, int budget)
    {
        var stats = new TrafficStats(new TrafficStatsOptions { KeyBudget = budget });
        var parser = new LogLineParser(new LogLineParserOptions { Envelope = new EnvelopeOptions { ReferenceTime = s_reference } });
        foreach (byte[] l in lines)
        {
            Assert.Equal(LineKind.Entry, parser.Parse(l, out LogRecord r));
            stats.Add(ref r);
        }

        return stats;
    }

    /// <summary>Every listed count lies in [count − error, count]; every key truly above the table's bound is listed.</summary>
    private static void AssertWithinBounds<TKey>(string what, IReadOnlyList<KeyValuePair<TKey, KeyStat>> listed, long maxError, Dictionary<TKey, long> truth, int seed)
        where TKey : notnull
    {
        var seen = new HashSet<TKey>();
        foreach ((TKey key, KeyStat stat) in listed)
        {
            long t = truth.GetValueOrDefault(key);
            Assert.True(stat.Count - stat.CountError <= t && t <= stat.Count, $"seed {seed}: {what} {key}: true {t}, reported {stat.Count} ± {stat.CountError}");
            Assert.True(stat.CountError <= maxError || maxError == 0, $"seed {seed}: {what} {key}: error {stat.CountError} over the table's bound {maxError}");
            seen.Add(key);
        }

        foreach ((TKey key, long t) in truth)
        {
            Assert.True(t <= maxError || seen.Contains(key), $"seed {seed}: {what} {key} with {t} entries (bound {maxError}) is not listed");
        }
    }

    [Theory]
    [InlineData(9, 100)]
    [InlineData(9, 10_000)]
    [InlineData(9, 1_000_000)]
    [InlineData(14, 1_000_000)]
    public void HyperLogLog_DistinctItems_WithinThreeStandardErrors(int precision, int n)
    {
        const int seed = 7;
        var hll = new HyperLogLog(precision);
        var rng = new Random(seed);
        for (int i = 0; i < n; i++)
        {
            ulong h = NetAddress.Mix64((ulong)i * 0x9E3779B97F4A7C15UL + (ulong)seed);
            hll.Add(h);
            if (rng.Next(4) == 0)
            {
                hll.Add(h); // repeats change nothing
            }
        }

        double error = Math.Abs(hll.Estimate() - n) / (double)n;
        Assert.True(error <= 3 * hll.RelativeError, $"seed {seed}: p={precision} n={n}: estimate {hll.Estimate()}, off by {error:P2}, standard error {hll.RelativeError:P2}");
    }

    [Fact]
    public void HyperLogLog_Union_EqualsOneSketchOfBoth()
    {
        var a = new HyperLogLog(9);
        var b = new HyperLogLog(9);
        var both = new HyperLogLog(9);
        for (ulong i = 0; i < 50_000; i++)
        {
            ulong h = NetAddress.Mix64(i + 1);
            (i % 3 == 0 ? a : b).Add(h);
            both.Add(h);
        }

        a.UnionWith(b);
        Assert.Equal(both.Estimate(), a.Estimate());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Add_PastBudget_SkewedStream_EveryCountWithinItsBound(int seed)
    {
        // Zipf-like keys: a few heavy, a long tail of ones; budget 64 (64 destinations, 64 sources, 64 UIDs kept).
        var rng = new Random(seed);
        var lines = new List<byte[]>();
        var dsts = new Dictionary<NetAddress, long>();
        var srcs = new Dictionary<NetAddress, long>();
        var uids = new Dictionary<uint, long>();
        for (int i = 0; i < 30_000; i++)
        {
            int d = (int)Math.Min(1 << 22, 1 / Math.Pow(rng.NextDouble() + 1e-9, 1.2));
            int s = (int)Math.Min(1 << 22, 1 / Math.Pow(rng.NextDouble() + 1e-9, 1.1));
            bool local = rng.Next(2) == 0;
            int uid = local ? (int)Math.Min(100_000, 1 / Math.Pow(rng.NextDouble() + 1e-9, 1.3)) : -1;
            string src = local ? "192.0.2.10" : Src(s);
            lines.Add(Line(src, Dst(d), uid, 32768 + (i % 28000), i / 600));
            dsts[Ip(Dst(d))] = dsts.GetValueOrDefault(Ip(Dst(d))) + 1;
            srcs[Ip(src)] = srcs.GetValueOrDefault(Ip(src)) + 1;
            if (uid >= 0)
            {
                uids[(uint)uid] = uids.GetValueOrDefault((uint)uid) + 1;
            }
        }

        TrafficStats stats = Count(lines, budget: 64);
        Assert.True(stats.Estimated);
        Assert.True(stats.Estimates.Bounded);
        AssertWithinBounds("destination", stats.Destinations.Top(), stats.Destinations.MaxError, dsts, seed);
        AssertWithinBounds("source", stats.Sources.Top(), stats.Sources.MaxError, srcs, seed);
        AssertWithinBounds("uid", stats.Uids.Top(), stats.Uids.MaxError, uids, seed);
        Assert.Equal(30_000, stats.All.Count); // totals stay exact
        double off = Math.Abs(stats.All.DistinctDestinations - dsts.Count) / (double)dsts.Count;
        Assert.True(off <= 3 * stats.Estimates.AllDistinctRelativeError, $"seed {seed}: distinct destinations {stats.All.DistinctDestinations} of {dsts.Count}");
    }

    [Fact]
    public void Add_PastBudget_HeavyHitterThatComesLast_IsListedWithinItsBound()
    {
        // Adversarial for Space-Saving: 20,000 keys seen once each fill and churn the table, then a sender starts — from a
        // new source, as a new UID, to one new destination — among as many new keys again.
        var lines = new List<byte[]>();
        for (int i = 0; i < 20_000; i++)
        {
            lines.Add(Line(Src(i), Dst(i), -1, 32768 + (i % 28000)));
        }

        for (int i = 0; i < 20_000; i++)
        {
            lines.Add(i % 10 == 0 ? Line("10.255.255.1", "198.51.100.77", 4242, 40000 + (i % 20000)) : Line(Src(100_000 + i), Dst(100_000 + i), 50_000 + i, 32768 + (i % 28000)));
        }

        TrafficStats stats = Count(lines, budget: 64);
        KeyStat src = Assert.Single(stats.Sources.Top(), p => p.Key == Ip("10.255.255.1")).Value;
        KeyStat dst = Assert.Single(stats.Destinations.Top(), p => p.Key == Ip("198.51.100.77")).Value;
        KeyStat uid = stats.Uids[4242]!;
        foreach (KeyStat s in new[] { src, dst, uid })
        {
            Assert.InRange(2_000, s.Count - s.CountError, s.Count);
        }

        Assert.Equal(4242u, stats.Uids.Top(1)[0].Key);
    }

    [Fact]
    public void Add_ManyKeys_KeepsNoMoreThanTheBudget()
    {
        // 40,000 distinct destinations, sources, UIDs and minutes with a budget of 64.
        var lines = new List<byte[]>();
        for (int i = 0; i < 40_000; i++)
        {
            lines.Add(Line(i % 2 == 0 ? Src(i) : "192.0.2.10", Dst(i), i % 2 == 0 ? -1 : i, 32768 + (i % 28000), minute: i / 4));
        }

        TrafficStats stats = Count(lines, budget: 64);
        Assert.True(stats.Destinations.Held <= 64, $"{stats.Destinations.Held} destinations kept");
        Assert.True(stats.Sources.Count <= 64, $"{stats.Sources.Count} sources kept");
        Assert.True(stats.Uids.Count <= 64, $"{stats.Uids.Count} UIDs kept");
        Assert.True(stats.Timeline.Minutes <= 64, $"{stats.Timeline.Minutes} timeline buckets kept");
        Assert.True(stats.Timeline.Resolution > TimeSpan.FromMinutes(1));
        Assert.True(stats.Timeline.PeakMinute!.Value.Count >= 4, "the busiest bucket bounds the busiest minute (4 entries) from above");
        Assert.Equal(40_000, stats.All.Count);
        Assert.Equal(40_000, stats.Timeline.Count);
        Assert.InRange(stats.Destinations.Count, 40_000 * 0.97, 40_000 * 1.03); // HyperLogLog, 0.8 % standard error
    }

    [Fact]
    public void Add_UnderBudget_FiguresAreExactAndNothingIsEstimated()
    {
        var lines = new List<byte[]>();
        for (int i = 0; i < 3_000; i++)
        {
            lines.Add(Line(Src(i % 50), Dst(i % 60), -1, 40000, i / 1000)); // 50 cells × 3 minutes (under 16 × 64), 300 flows
        }

        TrafficStats bounded = Count(lines, budget: 64);
        TrafficStats exact = Count(lines, budget: 1_000_000);
        Assert.False(bounded.Estimated);
        Assert.Equal(new StatsEstimates { KeyBudget = 64 }, bounded.Estimates);
        Assert.Equal(Flatten(exact.Destinations.Top()), Flatten(bounded.Destinations.Top()));
        Assert.Equal(Flatten(exact.Sources.Top()), Flatten(bounded.Sources.Top()));
        Assert.Equal(60, bounded.All.DistinctDestinations);
    }

    private static string[] Flatten<TKey>(IReadOnlyList<KeyValuePair<TKey, KeyStat>> top) =>
        [.. top.Select(p => $"{p.Key} {p.Value.Count} {p.Value.Attempts} {p.Value.DistinctDestinations} {p.Value.First:o} {p.Value.Last:o} {p.Value.CountError}")];

    [Fact]
    public void Merge_TwoBoundedParts_EveryCountWithinItsBound()
    {
        const int seed = 5;
        var rng = new Random(seed);
        var parts = new[] { new List<byte[]>(), new List<byte[]>() };
        var srcs = new Dictionary<NetAddress, long>();
        for (int i = 0; i < 20_000; i++)
        {
            int s = (int)Math.Min(1 << 20, 1 / Math.Pow(rng.NextDouble() + 1e-9, 1.1));
            parts[i < 10_000 ? 0 : 1].Add(Line(Src(s), Dst(i), -1, 32768 + (i % 28000)));
            srcs[Ip(Src(s))] = srcs.GetValueOrDefault(Ip(Src(s))) + 1;
        }

        TrafficStats a = Count(parts[0], budget: 64);
        TrafficStats b = Count(parts[1], budget: 64);
        a.Merge(b);
        Assert.Equal(20_000, a.All.Count);
        AssertWithinBounds("source", a.Sources.Top(), a.Sources.MaxError, srcs, seed);

        var copy = new TrafficStats(new TrafficStatsOptions { KeyBudget = 64 }); // a snapshot is such a merge
        copy.Merge(a);
        Assert.Equal(Flatten(a.Sources.Top()), Flatten(copy.Sources.Top()));
    }

    [Fact]
    public void Add_PastBudget_AllocatesNothingPerEntry()
    {
        var parser = new LogLineParser(new LogLineParserOptions { Envelope = new EnvelopeOptions { ReferenceTime = s_reference } });
        var stats = new TrafficStats(new TrafficStatsOptions { KeyBudget = 64 });
        var lines = new List<byte[]>();
        for (int i = 0; i < 5_000; i++)
        {
            lines.Add(Line(i % 2 == 0 ? Src(i) : "192.0.2.10", Dst(i), i % 2 == 0 ? -1 : i, 32768 + (i % 28000)));
        }

        long AddAll()
        {
            foreach (byte[] l in lines)
            {
                parser.Parse(l, out LogRecord r);
                stats.Add(ref r);
            }

            return stats.Timeline.Count;
        }

        AddAll(); // warm-up: the tables fill up and start replacing keys
        AddAll();
        long before = GC.GetAllocatedBytesForCurrentThread();
        AddAll();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(stats.Estimated);
    }

    [Fact]
    public void Add_PastBudget_ServiceFirstSeenAfterTheSwitch_TakesItsTrafficFromTheUid()
    {
        // 2,000 distinct destinations switch a budget of 64; then uid 65534 sends through a per-service prefix and on its own.
        var lines = new List<byte[]>();
        for (int i = 0; i < 2_000; i++)
        {
            lines.Add(Line("192.0.2.10", Dst(i), 65534, 32768 + i));
        }

        for (int i = 0; i < 300; i++)
        {
            string line = Encoding.ASCII.GetString(Line("192.0.2.10", Dst(5_000 + i), 65534, 40000 + i, 1));
            lines.Add(Encoding.ASCII.GetBytes(line.Replace("IPTABLES TCP-OUT 25:", "TCP-OUT 25 v2ray:", StringComparison.Ordinal)));
        }

        var stats = new TrafficStats(new TrafficStatsOptions { KeyBudget = 64 });
        var parser = new LogLineParser(new LogLineParserOptions { Filter = PrefixFilter.All, Envelope = new EnvelopeOptions { ReferenceTime = s_reference } });
        foreach (byte[] l in lines)
        {
            Assert.Equal(LineKind.Entry, parser.Parse(l, out LogRecord r));
            stats.Add(ref r);
        }

        Assert.True(stats.Estimated);
        Assert.Equal(2_300, stats.Uids[65534]!.Count);
        Assert.Equal(300, stats.Services["v2ray"]!.Count);
        Assert.Equal(2_000, stats.UidsWithoutService[65534]!.Count);
    }

    [Fact]
    public void ForgedAdd_ManyClaimedUids_KeepsAnEighthOfTheBudget()
    {
        // A writer forging lines that blame 5,000 different UIDs: 64 are kept (budget 512 / 8), the rest counted together.
        var stats = new TrafficStats(new TrafficStatsOptions { KeyBudget = 512 });
        var parser = new LogLineParser();
        for (int uid = 0; uid < 5_000; uid++)
        {
            string line = "{\"_TRANSPORT\":\"syslog\",\"SYSLOG_IDENTIFIER\":\"kernel\",\"_UID\":\"1001\",\"_PID\":\"4242\",\"_COMM\":\"logger\",\"MESSAGE\":\""
                + $"IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST=203.0.113.9 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40001 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID={uid} GID=1 " + "\"}";
            Assert.Equal(LineKind.Forged, parser.Parse(Encoding.UTF8.GetBytes(line), out LogRecord r));
            stats.Forged.Add(ref r);
        }

        ForgedRecordWriter w = Assert.Single(stats.Forged.Writers);
        Assert.Equal(64, w.ClaimedUids.Count);
        Assert.Equal(5_000 - 64, w.OtherClaimedUids);
        Assert.Equal(5_000, w.Records);
    }

    [Fact]
    public async Task FilesAsync_LargeFileOnTwoCoresPastBudget_HeavyHittersWithinTheirBounds()
    {
        // 17 MB (above the size read in parallel): 100,000 entries to as many destinations from 50,000 sources, and uid 4242
        // to 198.51.100.77 every 20th entry; both chunks go past a budget of 64 and are merged.
        string path = Path.Combine(Path.GetTempPath(), $"mailguard-bounded-{Environment.ProcessId}.log");
        try
        {
            using (var f = new FileStream(path, FileMode.Create))
            {
                for (int i = 0; i < 100_000; i++)
                {
                    f.Write(i % 20 == 0 ? Line("192.0.2.10", "198.51.100.77", 4242, 32768 + (i % 28000), i / 1000) : Line(Src(i % 50_000), Dst(i), -1, 32768 + (i % 28000), i / 1000));
                    f.WriteByte((byte)'\n');
                }
            }

            Assert.True(new FileInfo(path).Length > 16 << 20);
            var options = new MailScanOptions { ReferenceTime = s_reference, TimeZone = TimeZoneInfo.Utc, KeyBudget = 64 };
            foreach (int cores in new[] { 1, 2 })
            {
                MailScanReport r = await MailScan.FilesAsync([path], options with { Parallelism = cores }, TestContext.Current.CancellationToken);
                Assert.Equal(100_000, r.Totals.Entries);
                Assert.True(r.Stats.Estimated, $"{cores} cores");
                KeyStat uid = r.Uids[4242]!;
                Assert.InRange(5_000, uid.Count - uid.CountError, uid.Count);
                KeyStat dst = Assert.Single(r.Destinations.Top(), p => p.Key == Ip("198.51.100.77")).Value;
                Assert.InRange(5_000, dst.Count - dst.CountError, dst.Count);
                Assert.InRange(r.Destinations.Count, 95_001 * 0.97, 95_001 * 1.03);
                Assert.Equal(Ip("198.51.100.77"), r.Destinations.Top(1)[0].Key);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Add_FewSendersOverManyMinutes_TheirTimelinesStayBounded()
    {
        // Two users active every minute for 5,000 minutes: 10,000 minutes of actor timelines, past 16 × a budget of 64.
        var lines = new List<byte[]>();
        for (int minute = 0; minute < 5_000; minute++)
        {
            lines.Add(Line("192.0.2.10", Dst(minute % 10), 33, 32768 + (minute % 28000), minute));
            lines.Add(Line("192.0.2.10", Dst(minute % 10), 107, 32768 + (minute % 28000), minute));
        }

        TrafficStats stats = Count(lines, budget: 64);
        Assert.True(stats.Estimated);
        KeyStat www = stats.Uids[33]!;
        Assert.Equal(5_000, www.Count);
        Assert.Equal(0, www.CountError); // never displaced: exact
        Assert.True(www.AttemptTimeline!.Minutes <= 32, $"{www.AttemptTimeline.Minutes} buckets");
        Assert.True(www.AttemptTimeline.Resolution > TimeSpan.FromMinutes(1));
        Assert.Equal(5_000, www.AttemptTimeline.Count);
        Assert.True(stats.Timeline.Minutes <= 64);
    }

    [Fact]
    public void Verdict_PastBudget_NoAllClearThatEstimatesMayHide()
    {
        // 6,000 UIDs with one attempt each: nothing suspicious among those kept, but a budget of 64 drops most of them,
        // so the headline says how large a sender may be missing, and the summary what is estimated.
        var lines = new List<byte[]>();
        for (int i = 0; i < 6_000; i++)
        {
            lines.Add(Line("192.0.2.10", Dst(i % 5), 10_000 + i, 40000 + (i % 100), i / 60));
        }

        TrafficStats stats = Count(lines, budget: 64);
        MailGuard.Analysis.SpamVerdict v = MailGuard.Analysis.SpamVerdict.Analyze(stats);
        Assert.Equal(MailGuard.Analysis.VerdictClass.NothingSuspicious, v.Class);
        Assert.StartsWith("Nothing suspicious among the senders kept, but the figures are estimates: a sender with up to ", v.Headline, StringComparison.Ordinal);
        Assert.Contains("so these figures are estimates", v.Summary, StringComparison.Ordinal);

        TrafficStats exact = Count(lines, budget: 100_000);
        Assert.Equal("Nothing suspicious", MailGuard.Analysis.SpamVerdict.Analyze(exact).Headline);
    }

    [Theory]
    [InlineData(14, 9, 20_000)]
    [InlineData(14, 9, 300)]
    [InlineData(10, 4, 5_000)]
    public void HyperLogLog_UnionWithAFinerSketch_EqualsAddingItsItemsHere(int finer, int coarser, int n)
    {
        var fine = new HyperLogLog(finer);
        var direct = new HyperLogLog(coarser);
        for (int i = 0; i < n; i++)
        {
            ulong h = NetAddress.Mix64((ulong)i * 0x9E3779B97F4A7C15UL + 12345);
            fine.Add(h);
            direct.Add(h);
        }

        var folded = new HyperLogLog(coarser);
        folded.UnionWith(fine);
        Assert.Equal(direct.Estimate(), folded.Estimate());
        Assert.Throws<ArgumentException>(() => fine.UnionWith(direct)); // a coarser sketch cannot be made finer
    }

    /// <summary>
    /// Past the budget with two hosts: uid 33 on host a and on host b stay two actors (ForHost), also when host b's first
    /// entry comes after the switch (host a's figures so far seed the per-host tables), and when two bounded halves merge.
    /// </summary>
    [Fact]
    public void Add_PastBudget_TwoHosts_KeepEachHostsActorsApart_AlsoMerged()
    {
        var lines = new List<byte[]>();
        for (int i = 0; i < 2_000; i++)
        {
            lines.Add(Line("192.0.2.10", Dst(i), 33, 30000 + i, minute: i / 100)); // host a: 2,000 destinations switch a budget of 64
        }

        for (int i = 0; i < 300; i++)
        {
            lines.Add(Line("192.0.2.10", Dst(i), i % 3 == 0 ? 107 : 33, 30000 + i, minute: 20 + (i / 100), host: "b")); // the same flows, on b
        }

        TrafficStats s = Count(lines, 64);
        Assert.True(s.Estimates.Bounded);
        Assert.Equal(["vps:2000", "b:300"], s.Hosts.Top().Select(h => $"{h.Key}:{h.Value.Count}"));
        Assert.Equal(2000, s.Hosts["vps"]!.Attempts); // b's flows are b's: not retransmissions of a's
        Assert.Equal(300, s.Hosts["b"]!.Attempts);
        Assert.Equal(2000, s.ForHost("vps").Uids[33]!.Count);
        Assert.Equal(200, s.ForHost("b").Uids[33]!.Count);
        Assert.Equal(100, s.ForHost("b").Uids[107]!.Count);
        Assert.Null(s.ForHost("vps").Uids[107]);
        Assert.Equal(2200, s.Uids[33]!.Count); // the all-hosts histogram as before
        Assert.InRange(s.ForHost("vps").Uids[33]!.DistinctDestinations, 1800, 2200);
        Assert.InRange(s.ForHost("b").Uids[33]!.DistinctDestinations, 180, 220);
        Assert.Equal(300, s.ForHost("b").All.Count);

        // Read, then more entries: the hosts' parts are read anew (a new host's actor too).
        var parser = new LogLineParser(new LogLineParserOptions { Envelope = new EnvelopeOptions { ReferenceTime = s_reference } });
        Assert.Equal(LineKind.Entry, parser.Parse(Line("192.0.2.10", Dst(1), 1001, 29000, minute: 30, host: "b"), out LogRecord more));
        s.Add(ref more);
        Assert.Equal(1, s.ForHost("b").Uids[1001]!.Count);
        Assert.Equal(301, s.ForHost("b").All.Count);

        // Parts counted apart, then merged: bounded with bounded, and bounded with exact (host b to 40 destinations only).
        TrafficStats a = Count(lines.Take(2_000), 64);
        a.Merge(Count(lines.Skip(2_000), 64));
        Assert.Equal(["vps:2000", "b:300"], a.Hosts.Top().Select(h => $"{h.Key}:{h.Value.Count}"));
        Assert.Equal(2000, a.ForHost("vps").Uids[33]!.Count);
        Assert.Equal(200, a.ForHost("b").Uids[33]!.Count);
        Assert.Equal(100, a.ForHost("b").Uids[107]!.Count);
        TrafficStats c = Count(lines.Take(2_000), 64);
        TrafficStats exact = Count(Enumerable.Range(0, 90).Select(i => Line("192.0.2.10", Dst(i % 40), i % 3 == 0 ? 107 : 33, 30000 + i, host: "b")), 64);
        Assert.False(exact.Estimates.Bounded);
        c.Merge(exact);
        Assert.Equal(["vps:2000", "b:90"], c.Hosts.Top().Select(h => $"{h.Key}:{h.Value.Count}"));
        Assert.Equal(60, c.ForHost("b").Uids[33]!.Count);
        Assert.Equal(30, c.ForHost("b").Uids[107]!.Count);
        Assert.Equal(2000, c.ForHost("vps").Uids[33]!.Count);
    }

    [Fact]
    public void Add_PastBudget_ManyHosts_AreBoundedByAnEighthOfTheBudget()
    {
        var lines = new List<byte[]>();
        for (int i = 0; i < 3_000; i++)
        {
            lines.Add(Line("192.0.2.10", Dst(i % 50), 33, 30000 + i, host: "h" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        TrafficStats s = Count(lines, 512); // 64 host names kept; the rest counted under one name
        Assert.Equal(3000, s.All.Count);
        Assert.True(s.Hosts.Count <= 65, $"{s.Hosts.Count} hosts kept");
        Assert.True(s.Estimated);
        Assert.True(s.Estimates.NamesDropped > 0);
        Assert.Equal(3000, s.Hosts.Top().Sum(h => h.Value.Count)); // nothing lost, the names past the bound together
        Assert.True(s.Hosts[TrafficStats.OtherHosts]!.Count > 2000);

        // The hosts past the bound are many hosts: listed with their figures, not judged, no actor of theirs.
        var verdict = MailGuard.Analysis.SpamVerdict.Analyze(s);
        Assert.Equal(MailGuard.Analysis.VerdictClass.Unclear, verdict.Hosts.Single(h => h.Host == TrafficStats.OtherHosts).Class);
        Assert.DoesNotContain(verdict.Actors, a => a.Host == TrafficStats.OtherHosts);
        Assert.All(verdict.Actors, a => Assert.StartsWith("h", a.Label, StringComparison.Ordinal));
    }
}
