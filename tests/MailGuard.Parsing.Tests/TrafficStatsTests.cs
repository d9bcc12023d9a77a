namespace MailGuard.Parsing.Tests;

public class TrafficStatsTests
{

    private static TrafficStats Scan(ReadOnlySpan<byte> data)
    {
        var stats = new TrafficStats();
        var scanner = new LogScanner(new LogScannerOptions { Parser = new LogLineParserOptions { Envelope = new EnvelopeOptions { ReferenceTime = new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero) } } });
        var sink = new TrafficStatsSink(stats);
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
        (TrafficStats whole, TrafficStats a) = WholeAndMergedParts("kern.log", 2);
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

    /// <summary>A sample counted in one run, and in two parts (cut at the line after 1/<paramref name="divisor"/> of it) merged.</summary>
    private static (TrafficStats Whole, TrafficStats Merged) WholeAndMergedParts(string sample, int divisor)
    {
        byte[] data = File.ReadAllBytes(Path.Combine(Repo.Samples, sample));
        int mid = Array.IndexOf(data, (byte)'\n', data.Length / divisor) + 1;
        TrafficStats a = Scan(data.AsSpan(0, mid));
        a.Merge(Scan(data.AsSpan(mid)));
        return (Scan(data), a);
    }

    private static string[] Flatten<TKey>(KeyStats<TKey> k)
        where TKey : notnull => Flatten(k.Top());

    private static string[] Flatten(DestinationStats d) => Flatten(d.Top());

    private static string[] Flatten<TKey>(IReadOnlyList<KeyValuePair<TKey, KeyStat>> top)
        where TKey : notnull =>
        top.Select(kv => $"{kv.Key}:{kv.Value.Count}:{kv.Value.DistinctDestinations}:{kv.Value.First:o}:{kv.Value.Last:o}").ToArray();

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

        AddAll(100); // warm-up: the JIT's tier-up (and on-stack replacement in this loop) can allocate once, on this thread
        long before = GC.GetAllocatedBytesForCurrentThread();
        AddAll(100);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(55 * 201, stats.All.Count);
        Assert.NotEmpty(data);

        void AddAll(int times)
        {
            for (int i = 0; i < times; i++)
            {
                foreach (byte[] l in lines)
                {
                    if (parser.Parse(l, out LogRecord r) == LineKind.Entry)
                    {
                        stats.Add(ref r);
                    }
                }
            }
        }
    }

    [Fact]
    public void Top_OfManyKeys_EqualsTheHeadOfTheFullSort()
    {
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < 300; i++)
        {
            for (int copy = 0; copy <= i % 7; copy++) // counts 1..7: many ties, broken by address order
            {
                text.Append(System.Globalization.CultureInfo.InvariantCulture, $"2026-11-23T02:00:00+00:00 vps kernel: IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.{i / 256}.{i % 256} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID={copy} DF PROTO=TCP SPT={40000 + i} DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=33 GID=33\n");
            }
        }

        var stats = new TrafficStats();
        var sink = new TrafficStatsSink(stats);
        new LogScanner().Scan(System.Text.Encoding.ASCII.GetBytes(text.ToString()), ref sink);
        var all = stats.Destinations.Top();
        Assert.Equal(300, all.Count);
        foreach (int n in new[] { 1, 3, 10, 50 })
        {
            Assert.Equal(all.Take(n).Select(p => (p.Key, p.Value.Count)), stats.Destinations.Top(n).Select(p => (p.Key, p.Value.Count)));
        }
    }

    [Theory]
    [InlineData(int.MaxValue)] // top + 1 overflowed the heap's capacity
    [InlineData(2_000_000_000)] // 4 * top overflowed, and a heap of two billion slots ran out of memory
    [InlineData(536_870_912)]
    public void Top_HugeCount_ReturnsEveryKeyAndAllocatesByTheKeys(int top)
    {
        TrafficStats stats = Scan(File.ReadAllBytes(Path.Combine(Repo.Samples, "kern.log")));
        Assert.Equal(stats.Destinations.Top().Select(p => p.Key), stats.Destinations.Top(top).Select(p => p.Key));
        Assert.Equal(stats.Uids.Top().Select(p => p.Key), stats.Uids.Top(top).Select(p => p.Key));
        Assert.Equal(stats.Sources.Top().Select(p => p.Key), stats.Sources.Top(top).Select(p => p.Key));
        long before = GC.GetAllocatedBytesForCurrentThread();
        stats.Destinations.Top(top);
        stats.Uids.Top(top);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 << 10, "Top(n) allocates by the number of keys, not by n");
    }

    [Fact]
    public void Destinations_ManyAddresses_CountLikeADictionaryAndMergeByAddress()
    {
        // 60,000 entries to 20,000 IPv4 and IPv6 addresses (the table grows many times), in two halves merged.
        var rng = new Random(3);
        var expected = new Dictionary<NetAddress, (int Count, int FirstMinute, int LastMinute)>();
        var halves = new[] { new System.Text.StringBuilder(), new System.Text.StringBuilder() };
        for (int i = 0; i < 60_000; i++)
        {
            int n = rng.Next(20_000);
            string dst = n % 3 == 0 ? $"2001:db8:{n:x}::1" : $"198.{51 + (n >> 16)}.{(n >> 8) & 255}.{n & 255}";
            int minute = i / 1000;
            halves[i < 30_000 ? 0 : 1].Append(System.Globalization.CultureInfo.InvariantCulture, $"2026-11-23T02:{minute:00}:00+01:00 vps kernel: IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST={dst} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT={1024 + (i % 60000)} DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=33 GID=33\n");
            Assert.True(NetAddress.TryParse(dst, out NetAddress key));
            expected[key] = expected.TryGetValue(key, out var e) ? (e.Count + 1, e.FirstMinute, minute) : (1, minute, minute);
        }

        TrafficStats Run(System.Text.StringBuilder text)
        {
            var stats = new TrafficStats();
            var sink = new TrafficStatsSink(stats);
            new LogScanner().Scan(System.Text.Encoding.ASCII.GetBytes(text.ToString()), ref sink);
            return stats;
        }

        TrafficStats whole = Run(new System.Text.StringBuilder().Append(halves[0]).Append(halves[1]));
        TrafficStats merged = Run(halves[0]);
        merged.Merge(Run(halves[1]));
        foreach (TrafficStats stats in new[] { whole, merged })
        {
            Assert.Equal(expected.Count, stats.Destinations.Count);
            Assert.Equal(expected.Count, stats.All.DistinctDestinations);
            var top = stats.Destinations.Top();
            Assert.Equal(expected.Count, top.Count);
            for (int i = 1; i < top.Count; i++)
            {
                Assert.True(top[i - 1].Value.Count > top[i].Value.Count || (top[i - 1].Value.Count == top[i].Value.Count && top[i - 1].Key.CompareTo(top[i].Key) < 0));
            }

            foreach ((NetAddress address, KeyStat stat) in top)
            {
                (int count, int first, int last) = expected[address];
                Assert.Equal(count, stat.Count);
                Assert.Equal(new DateTimeOffset(2026, 11, 23, 2, first, 0, TimeSpan.FromHours(1)), stat.First);
                Assert.Equal(TimeSpan.FromHours(1), stat.Last!.Value.Offset);
                Assert.Equal(last, stat.Last.Value.Minute);
                Assert.Equal(count, stats.Destinations[address]!.Count);
            }

            Assert.Null(stats.Destinations[NetAddress.FromIPv4(0x0A000001)]);
            Assert.Equal(60_000, stats.Uids[33]!.Count);
        }
    }

    [Fact]
    public void AddThenObserve_CountsTheHeldBackEntryFirst()
    {
        // Add holds an entry back until the next one (its table slots load meanwhile); an Observe in between
        // must not see the flow before the entry that opened it is counted, and a read must see every entry.
        static byte[] Line(int second) => System.Text.Encoding.ASCII.GetBytes($"2026-11-23T02:14:{second:00}+00:00 vps kernel: IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.100.7 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=33 GID=33");
        var parser = new LogLineParser();
        var stats = new TrafficStats();
        Assert.Equal(LineKind.Entry, parser.Parse(Line(0), out LogRecord r));
        stats.Add(ref r);
        parser.Parse(Line(1), out r);
        stats.Observe(ref r); // a copy counted elsewhere: remembered, not counted
        parser.Parse(Line(3), out r);
        stats.Add(ref r);
        Assert.Equal(2, stats.All.Count);
        Assert.Equal(1, stats.All.Attempts); // the first packet opened the attempt; the others are its retransmissions
        Assert.Equal(2, stats.Destinations.Top()[0].Value.Count);
        Assert.Equal(2, stats.Timeline.Count);
        Assert.Equal(33u, stats.Uids.Top()[0].Key);
    }

    [Fact]
    public void Histograms_ReadThenAddMore_TheFirstReadStaysASnapshot()
    {
        // Sources hands out the cells' own objects while nothing changes; a cell must copy before it changes.
        static byte[] Line(int second, string src) => System.Text.Encoding.ASCII.GetBytes($"2026-11-23T02:14:{second:00}+00:00 vps kernel: IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC={src} DST=198.51.100.{second} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT={40000 + second} DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=33 GID=33");
        var parser = new LogLineParser();
        var stats = new TrafficStats();
        void Add(int second, string src)
        {
            Assert.Equal(LineKind.Entry, parser.Parse(Line(second, src), out LogRecord r));
            stats.Add(ref r);
        }

        Add(1, "192.0.2.10");
        Add(2, "192.0.2.11");
        KeyStat first = stats.Sources[NetAddress.FromIPv4(0xC000020A)]!;
        KeyStat uidFirst = stats.Uids[33]!;
        Assert.Equal(1, first.Count);
        Add(3, "192.0.2.10");
        Add(4, "192.0.2.10");
        Assert.Equal(1, first.Count); // the snapshot
        Assert.Equal(1, first.DistinctDestinations);
        Assert.Equal(2, uidFirst.Count);
        KeyStat second = stats.Sources[NetAddress.FromIPv4(0xC000020A)]!;
        Assert.Equal(3, second.Count);
        Assert.Equal(1, first.Count); // still, after the entries held back were counted
        Assert.Equal(1, first.DistinctDestinations);
        Assert.Equal(2, uidFirst.Count);
        Assert.Equal(3, second.DistinctDestinations);
        Assert.Equal(3, second.Attempts);
        Assert.Equal(3, second.Ports![25].Packets);
        Assert.Null(second.Gid); // a source's stat: no GID, no forwarded clients, even when it is a cell's own object
        Assert.Equal(0, second.DistinctSources);
        Assert.Equal(4, stats.Uids[33]!.Count);
        Assert.Equal(33u, stats.Uids[33]!.Gid);
        Assert.Equal(1, stats.Sources[NetAddress.FromIPv4(0xC000020B)]!.Count);
    }

    /// <summary>A kernel LOG line of uid 1801 on <paramref name="host"/>, RFC 3339 or, with <paramref name="journal"/>, journal JSON (_HOSTNAME).</summary>
    private static string HostLine(string host, int spt, int second, bool journal = false)
    {
        string msg = $"IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=10.0.0.5 DST=198.51.100.{spt % 7} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT={spt} DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=1801 GID=1801 ";
        return journal
            ? $"{{\"__REALTIME_TIMESTAMP\":\"{1795400000000000L + (second * 1000000L)}\",\"_TRANSPORT\":\"kernel\",\"_HOSTNAME\":\"{host}\",\"SYSLOG_IDENTIFIER\":\"kernel\",\"MESSAGE\":\"{msg}\"}}\n"
            : $"2026-11-23T02:00:{second:00}+00:00 {host} kernel: {msg}\n";
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Add_SameUidAndFlowsOnTwoHosts_AreTwoActors_HostsAndForHost(bool journal)
    {
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < 10; i++)
        {
            text.Append(HostLine("vps-17", 40000 + i, i, journal)).Append(HostLine("vps-17", 40000 + i, i + 1, journal)); // a SYN and its retransmission
            if (i < 4)
            {
                text.Append(HostLine("vps-18", 40000 + i, i, journal)); // the same flow on another host: a new attempt there
            }
        }

        TrafficStats s = Scan(System.Text.Encoding.ASCII.GetBytes(text.ToString()));
        Assert.Equal(24, s.All.Count);
        Assert.Equal(14, s.All.Attempts);
        Assert.Equal(["vps-17:20:10", "vps-18:4:4"], s.Hosts.Top().Select(h => $"{h.Key}:{h.Value.Count}:{h.Value.Attempts}"));
        Assert.Equal(20, s.ForHost("vps-17").Uids[1801]!.Count);
        Assert.Equal(10, s.ForHost("vps-17").Uids[1801]!.Attempts);
        Assert.Equal(4, s.ForHost("vps-18").Uids[1801]!.Attempts);
        Assert.Equal(4, s.ForHost("vps-18").All.DistinctDestinations);
        Assert.Equal(7, s.ForHost("vps-17").All.DistinctDestinations);
        Assert.Equal(0, s.ForHost("nowhere").All.Count);
        Assert.Equal(24, s.Uids[1801]!.Count); // the all-hosts histograms are as before
    }

    [Fact]
    public void Hosts_OneHost_IsAllEntries_AndForHostIsTheStatsThemselves()
    {
        TrafficStats s = Scan(File.ReadAllBytes(Path.Combine(Repo.Samples, "kern.log")));
        Assert.Equal(["vps01:55"], s.Hosts.Top().Select(h => $"{h.Key}:{h.Value.Count}"));
        Assert.Same(s, s.ForHost("vps01"));
    }

    [Fact]
    public void Merge_HalvesOfTheCentralLog_EqualsOneRunOverBoth_PerHost()
    {
        (TrafficStats whole, TrafficStats a) = WholeAndMergedParts("central-mixed.log", 3);
        Assert.Equal(["web-17:6060", "vpn-03:4499", "db-02:312"], whole.Hosts.Top().Select(h => $"{h.Key}:{h.Value.Count}"));
        Assert.Equal(Flatten(whole.Hosts), Flatten(a.Hosts));
        foreach (string host in new[] { "web-17", "vpn-03", "db-02" })
        {
            Assert.Equal(Flatten(whole.ForHost(host).Uids), Flatten(a.ForHost(host).Uids));
            Assert.Equal(Flatten(whole.ForHost(host).InInterfaces), Flatten(a.ForHost(host).InInterfaces));
        }

        Assert.Equal(1553, whole.ForHost("web-17").Uids[33]!.DistinctDestinations);
        Assert.Equal(1656, whole.ForHost("web-17").Uids[33]!.Attempts);
        Assert.Equal(243, whole.ForHost("db-02").Uids[107]!.Attempts);
    }

    [Fact]
    public void Add_AlternatingHosts_AllocatesNothing()
    {
        var parser = new LogLineParser();
        var lines = new List<byte[]>();
        for (int i = 0; i < 60; i++)
        {
            lines.Add(System.Text.Encoding.ASCII.GetBytes(HostLine(i % 3 == 0 ? "web-17" : i % 3 == 1 ? "vpn-03" : "db-02", 40000 + (i % 20), i % 60)));
        }

        var stats = new TrafficStats();
        AddAll(100); // warm-up: names interned, cells made, the JIT's tier-up
        long before = GC.GetAllocatedBytesForCurrentThread();
        AddAll(100);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(3, stats.Hosts.Count);

        void AddAll(int times)
        {
            for (int i = 0; i < times; i++)
            {
                foreach (byte[] l in lines)
                {
                    if (parser.Parse(l, out LogRecord r) == LineKind.Entry)
                    {
                        stats.Add(ref r);
                    }
                }
            }
        }
    }
}
