using MailGuard.Parsing.Internals;

namespace MailGuard.Parsing;

/// <summary>The host of each entry (<see cref="LogEnvelope.Host"/>) as a dimension: a central log holds several machines' entries.</summary>
public sealed partial class TrafficStats
{
    private readonly NameInterner _hosts = new(); // host names by id ("" for lines without one)
    private byte[] _lastHost = new byte[64];
    private int _lastHostLength = -1;
    private int _lastHostId;
    private int _overflowHost = -1; // the host id that stands for every host past the budget
    private TrafficStats? _viewOf; // set on ForHost's result: a read-only part of this instance

    /// <summary>
    /// The key in <see cref="Hosts"/> under which the hosts past the key budget are counted together (an eighth of
    /// <see cref="TrafficStatsOptions.KeyBudget"/> host names are kept): many hosts' entries, not one host's.
    /// </summary>
    public const string OtherHosts = "(other hosts past the key budget)";

    /// <summary>
    /// Per host (<see cref="LogEnvelope.Host"/>: the syslog header's host field, the journal's <c>_HOSTNAME</c>; the key
    /// is empty for lines without one): count, attempts, time range, distinct destinations and per-port figures of each
    /// host's entries. One key when the input is one machine's log. Past <see cref="TrafficStatsOptions.KeyBudget"/> at
    /// most an eighth of it are kept (Space-Saving, as the other histograms); host names past that many are counted under
    /// one name.
    /// </summary>
    public KeyStats<string> Hosts
    {
        get
        {
            Rollup r = Summed;
            if (r.Hosts is null)
            {
                var one = new KeyStats<string>(trackDestinations: true, actor: true);
                one.Put(_hosts.Count > 0 ? _hosts[0] : "", r.All);
                r.Hosts = one; // the one host's figures are those of all entries
            }

            return r.Hosts;
        }
    }

    /// <summary>
    /// The entries of one host (a key of <see cref="Hosts"/>) as statistics of their own: <see cref="All"/>, the UIDs,
    /// services, sources and interfaces (the actors of that host), ports and prefixes. A snapshot to read, not to add to.
    /// Kept for all hosts together and empty here: <see cref="Destinations"/>, <see cref="Timeline"/>,
    /// <see cref="Forged"/>, <see cref="OtherPrefixMail"/>. Past the key budget only the actors (UIDs, services, sources
    /// and forwarding interfaces; their error bounds on each <see cref="KeyStat"/>) and <see cref="All"/> are kept per host.
    /// When the input holds only this host, this instance itself.
    /// </summary>
    /// <param name="host">The host name as in <see cref="Hosts"/>.</param>
    /// <returns>The host's statistics (empty when the host is not known).</returns>
    public TrafficStats ForHost(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        Rollup all = Summed;
        if (_hosts.Count <= 1 && (_hosts.Count == 0 || _hosts[0] == host))
        {
            return this;
        }

        if (_hostViews is null || _hostViewsVersion != _version) // _version: past the budget the rollup stays, its figures change
        {
            _hostViews = HostViews(all);
            _hostViewsVersion = _version;
        }

        return _hostViews.TryGetValue(host, out TrafficStats? view) ? view : View(new Rollup(all.Version));
    }

    private Dictionary<string, TrafficStats>? _hostViews; // ForHost's answers for the figures of _hostViewsVersion
    private long _hostViewsVersion;

    /// <summary>Every host's part, in one pass over the cells (past the budget: over the per-host tables).</summary>
    private Dictionary<string, TrafficStats> HostViews(Rollup all)
    {
        var parts = new Dictionary<string, Rollup>();
        if (_bounded)
        {
            all.PerHost?.Split(parts, all.Hosts, all.Version);
        }
        else
        {
            foreach (Cell cell in _cells.Values)
            {
                string host = _hosts[cell.Key.Host];
                if (!parts.TryGetValue(host, out Rollup? part))
                {
                    parts[host] = part = new Rollup(all.Version, _anyService);
                }

                part.Add(this, cell);
            }
        }

        var views = new Dictionary<string, TrafficStats>(parts.Count);
        foreach ((string host, Rollup part) in parts)
        {
            views[host] = View(part);
        }

        return views;
    }

    /// <summary>A read-only instance over <paramref name="part"/>.</summary>
    private TrafficStats View(Rollup part) => new(Options) { _viewOf = this, _bounded = _bounded, _rollup = part };

    /// <summary>The id of the host of an entry: the previous entry's when the same (nearly always), else interned.</summary>
    private int HostId(ReadOnlySpan<byte> host)
    {
        if (host.Length == _lastHostLength && host.SequenceEqual(_lastHost.AsSpan(0, _lastHostLength)))
        {
            if (_lastHostId == _overflowHost)
            {
                _namesDropped++;
            }

            return _lastHostId;
        }

        int id = HostIdOf(host, null);
        if (host.Length > _lastHost.Length)
        {
            _lastHost = new byte[host.Length];
        }

        host.CopyTo(_lastHost);
        _lastHostLength = host.Length;
        _lastHostId = id;
        return id;
    }

    private int HostIdOf(ReadOnlySpan<byte> host, string? known)
    {
        int id = _hosts.Find(host);
        if (id >= 0)
        {
            return id;
        }

        if (_hosts.Count >= SketchCapacity)
        {
            // Past the budget every further host is counted under one name: forged host fields cannot grow memory.
            _namesDropped++;
            if (_overflowHost < 0)
            {
                _overflowHost = _hosts.Add("(other hosts past the key budget)"u8, OtherHosts);
            }

            return _overflowHost;
        }

        return _hosts.Add(host, known);
    }

    /// <summary>Numbers <paramref name="other"/>'s host names in this instance: its id to ours.</summary>
    private int[] MergeHostNames(TrafficStats other)
    {
        int[] ids = new int[other._hosts.Count];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = HostIdOf(other._hosts.BytesOf(i), other._hosts[i]);
        }

        return ids;
    }

    /// <summary>Past the key budget with more than one host: the entry into its host's figures and actors.</summary>
    private void CountHostSketched(Rollup t, ref PendingEntry e, long attempts, string inName, string outName)
    {
        CellKey k = e.Key;
        string host = _hosts[k.Host];
        HostActors a = t.PerHost!;
        Sketched(t.Hosts!, host, ref e, attempts, detail: true);
        if (_serviceOfName[k.Prefix] is { } service)
        {
            Sketched(a.Services, new HostKey<string>(host, service), ref e, attempts, detail: true).Uid = k.HasUid ? k.Uid : null;
        }
        else if (k.HasUid)
        {
            Sketched(a.Uids, new HostKey<uint>(host, k.Uid), ref e, attempts, detail: true);
        }

        if (!k.Src.IsNone)
        {
            Sketched(a.Sources, new HostKey<NetAddress>(host, k.Src), ref e, attempts, detail: true);
        }

        if (inName.Length > 0)
        {
            KeyStat stat = Sketched(a.Interfaces, new HostKey<string>(host, inName), ref e, attempts, detail: true);
            if (outName.Length > 0)
            {
                stat.AddSourceSketched(k.Src, KeyPrecision);
            }
        }
    }

    /// <summary>Past the key budget, when a second host appears: the per-host tables, holding the first host's figures so far.</summary>
    private void SeedHostTables(Rollup t)
    {
        string first = _hosts[0];
        t.Hosts = Bounded<string>();
        KeyStat seed = t.Hosts.Slot(first);
        seed.MergeSketched(t.All, KeyPrecision, ActorTimelineBuckets); // its sketch folded to the hosts' precision
        t.Hosts.Counted(seed);
        t.PerHost = new HostActors();
        t.PerHost.ToBounded(SketchCapacity, static _ => { });
        t.PerHost.Uids.MergeSketched(t.UidsWithoutService ?? t.Uids, u => new HostKey<uint>(first, u), KeyPrecision, ActorTimelineBuckets);
        t.PerHost.Services.MergeSketched(t.Services, n => new HostKey<string>(first, n), KeyPrecision, ActorTimelineBuckets);
        t.PerHost.Sources.MergeSketched(t.Sources, a => new HostKey<NetAddress>(first, a), KeyPrecision, ActorTimelineBuckets);
        t.PerHost.Interfaces.MergeSketched(t.InInterfaces, n => new HostKey<string>(first, n), KeyPrecision, ActorTimelineBuckets);
    }

    /// <summary>Merge of bounded instances: the per-host tables added when either side has more than one host.</summary>
    private void MergeHostsSketched(Rollup a, TrafficStats theirs)
    {
        Rollup b = theirs._rollup!;
        MergeHostNames(theirs);
        if (_hosts.Count <= 1)
        {
            return;
        }

        if (a.PerHost is null)
        {
            SeedHostTables(a);
        }

        if (b.PerHost is null)
        {
            theirs.SeedHostTables(b);
        }

        a.Hosts!.MergeSketched(b.Hosts!, KeyPrecision, ActorTimelineBuckets);
        a.PerHost!.MergeSketched(b.PerHost!);
    }

    private KeyStats<TKey> Bounded<TKey>()
        where TKey : notnull
    {
        var table = new KeyStats<TKey>(trackDestinations: true, actor: true);
        table.ToBounded(SketchCapacity, static _ => { });
        return table;
    }

    /// <summary>A key of a host's actor: the host name and the UID, service, source or interface.</summary>
    private readonly record struct HostKey<T>(string Host, T Key) : IComparable<HostKey<T>>
        where T : notnull
    {
        public int CompareTo(HostKey<T> other)
        {
            int c = string.CompareOrdinal(Host, other.Host);
            return c != 0 ? c : Comparer<T>.Default.Compare(Key, other.Key);
        }
    }

    /// <summary>The actors of every host, keyed by host and actor: what <see cref="ForHost"/> reads past the key budget.</summary>
    private sealed class HostActors
    {
        public readonly KeyStats<HostKey<uint>> Uids = new(trackDestinations: true, actor: true); // UIDs without a per-service prefix
        public readonly KeyStats<HostKey<string>> Services = new(trackDestinations: true, actor: true);
        public readonly KeyStats<HostKey<NetAddress>> Sources = new(trackDestinations: true, actor: true);
        public readonly KeyStats<HostKey<string>> Interfaces = new(trackDestinations: true, actor: true); // input interfaces (not empty)

        /// <summary>Adds an exact cell.</summary>
        public void Absorb(TrafficStats owner, CellKey k, KeyStat s)
        {
            string host = owner._hosts[k.Host];
            if (owner._serviceOfName[k.Prefix] is { } service)
            {
                Services.Absorb(new HostKey<string>(host, service), s).Uid = k.HasUid ? k.Uid : null;
            }
            else if (k.HasUid)
            {
                Uids.Absorb(new HostKey<uint>(host, k.Uid), s);
            }

            if (!k.Src.IsNone)
            {
                Sources.Absorb(new HostKey<NetAddress>(host, k.Src), s);
            }

            string inName = owner._names[k.In];
            if (inName.Length > 0)
            {
                KeyStat stat = Interfaces.Absorb(new HostKey<string>(host, inName), s);
                if (owner._names[k.Out].Length > 0)
                {
                    stat.AddSource(k.Src);
                }
            }
        }

        public void ToBounded(int capacity, Action<KeyStat> convert)
        {
            Uids.ToBounded(capacity, convert);
            Services.ToBounded(capacity, convert);
            Sources.ToBounded(capacity, convert);
            Interfaces.ToBounded(capacity, convert);
        }

        public void MergeSketched(HostActors other)
        {
            Uids.MergeSketched(other.Uids, KeyPrecision, ActorTimelineBuckets);
            Services.MergeSketched(other.Services, KeyPrecision, ActorTimelineBuckets);
            Sources.MergeSketched(other.Sources, KeyPrecision, ActorTimelineBuckets);
            Interfaces.MergeSketched(other.Interfaces, KeyPrecision, ActorTimelineBuckets);
        }

        /// <summary>Every host's part, as rollups to read (the stats are shared, not copied), into <paramref name="parts"/>.</summary>
        public void Split(Dictionary<string, Rollup> parts, KeyStats<string>? hosts, long version)
        {
            Rollup Part(string host)
            {
                if (!parts.TryGetValue(host, out Rollup? r))
                {
                    parts[host] = r = new Rollup(version) { All = hosts?[host] ?? new KeyStat() };
                }

                return r;
            }

            Pick(Uids, h => Part(h).Uids);
            Pick(Services, h => Part(h).Services);
            Pick(Sources, h => Part(h).Sources);
            Pick(Interfaces, h => Part(h).InInterfaces);
            if (hosts is not null)
            {
                foreach ((string host, _) in hosts.Pairs)
                {
                    _ = Part(host); // a host whose actors were all displaced still has its figures
                }
            }
        }

        private static void Pick<T>(KeyStats<HostKey<T>> from, Func<string, KeyStats<T>> into)
            where T : notnull
        {
            foreach ((HostKey<T> key, KeyStat stat) in from.Pairs)
            {
                into(key.Host).Put(key.Key, stat);
            }
        }
    }
}
