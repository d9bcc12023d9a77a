using System.Runtime.InteropServices;
using System.Text;
using MailGuard.Parsing.Internals;

namespace MailGuard.Parsing;

/// <summary>
/// The histograms of the selected entries: per destination, destination port, UID, source, interface and
/// prefix, and over time (<see cref="Timeline"/>), with count, first/last time and distinct destinations for each key. Two instances built from
/// two inputs <see cref="Merge"/> to the same result as one instance over both.
/// </summary>
/// <remarks>
/// <para>
/// On the hot path an entry updates one cell — the combination of its source, UID, destination port and
/// interfaces and prefix — besides its destination and the timeline; the per-key histograms
/// (<see cref="Ports"/>, <see cref="Uids"/>, <see cref="Sources"/>, …) are summed from the cells when first
/// read after a change. A log has few such combinations (a host's users and services, each to a few ports),
/// so this costs one small update per entry instead of one per histogram. What is read is a snapshot:
/// read a property again after adding more.
/// </para>
/// <para>
/// <see cref="Add"/> takes an entry apart at once but counts it two entries later, so that the flow and
/// destination tables (megabytes, touched at random) are prefetched meanwhile; reading anything, and
/// <see cref="Observe"/> and <see cref="Merge"/>, count the held-back entries first.
/// </para>
/// <para>
/// Adding an entry allocates only when a combination is seen for the first time (and its name, for
/// interfaces and prefixes). Not thread-safe: one instance per thread, merged at the end.
/// </para>
/// </remarks>
public sealed partial class TrafficStats
{
    private readonly AttemptTracker _attempts;
    private readonly LastNames _lastNames = new();
    private readonly Dictionary<CellKey, Cell> _cells = [];
    private readonly NameInterner _names = new(); // interface and prefix names, by id
    private readonly List<string?> _serviceOfName = []; // the service a prefix name names (ServicePrefix), by id
    private bool _anyService;
    private Cell? _lastCell;
    private long _sequence; // entries counted: orders the cells' last GID
    private long _version; // changes since the histograms were last summed
    private Rollup? _rollup;
    private readonly DestinationStats _destinations = new();
    private readonly PendingEntry[] _ring = new PendingEntry[2]; // held back by Add: _ring[_head] is the older
    private int _head;
    private int _pending;
    private readonly int _budget;
    private bool _bounded; // past the key budget: the histograms are counted directly into bounded summaries (_rollup), no cells
    private int _overflowName = -1; // the name id that stands for every name past the budget
    private long _namesDropped; // entries whose prefix or interface name was past the budget
    private long _cellMinutes; // minutes added to the cells' attempt timelines (an upper bound of their buckets)

    /// <summary>Per-key distinct counts past the budget: HyperLogLog of 2^9 registers (512 bytes, 4.6 % standard error).</summary>
    private const int KeyPrecision = 9;

    /// <summary>The distinct destinations of all entries past the budget: 2^14 registers (16 KB, 0.8 %).</summary>
    private const int AllPrecision = 14;

    /// <summary>The attempt timeline of an actor past the budget: at most this many buckets (wider ones as time goes on).</summary>
    private const int ActorTimelineBuckets = 32;

    /// <summary>Creates empty statistics.</summary>
    /// <param name="options">Settings; defaults when null.</param>
    public TrafficStats(TrafficStatsOptions? options = null)
    {
        Options = options ?? new TrafficStatsOptions();
        _budget = Options.KeyBudget;
        _attempts = new AttemptTracker(Options.RetryWindow.Ticks, (int)Math.Min(4L * _budget, AttemptTracker.DefaultMaxFlows));
        Timeline.MaxBuckets = _budget;
        Forged.MaxClaimedUids = SketchCapacity;
    }

    /// <summary>Keys of the big histograms (sources, UIDs, services, ports, interfaces, prefixes) kept past the budget, and names kept: an eighth of it.</summary>
    private int SketchCapacity => Math.Max(64, _budget / 8);

    /// <summary>
    /// True when some figure is an estimate: more distinct keys came than <see cref="TrafficStatsOptions.KeyBudget"/> allows,
    /// or more live flows than it allows for telling attempts apart. <see cref="Estimates"/> says which and by how much.
    /// </summary>
    public bool Estimated
    {
        get
        {
            Flush();
            return _bounded || _namesDropped > 0 || _attempts.Forgotten > 0 || Timeline.Resolution > TimeSpan.FromMinutes(1)
                || (Timeline.SinceBoot?.Resolution > TimeSpan.FromMinutes(1)) || (_otherPrefixMail?.Estimated ?? false);
        }
    }

    /// <summary>What is estimated and the bounds of the estimates (all zero and exact while <see cref="Estimated"/> is false).</summary>
    public StatsEstimates Estimates
    {
        get
        {
            Rollup r = Summed;
            return new StatsEstimates
            {
                KeyBudget = _budget,
                Bounded = _bounded,
                KeptPerHistogram = _bounded ? SketchCapacity : 0,
                DistinctRelativeError = _bounded ? HyperLogLog.RelativeErrorOf(KeyPrecision) : 0,
                AllDistinctRelativeError = _bounded ? HyperLogLog.RelativeErrorOf(AllPrecision) : 0,
                DestinationsMaxError = _destinations.MaxError,
                DestinationsDropped = _destinations.DroppedKeys,
                SourcesMaxError = r.Sources.MaxError,
                UidsMaxError = r.Uids.MaxError,
                PortsMaxError = r.Ports.MaxError,
                PrefixesMaxError = r.Prefixes.MaxError,
                InterfacesMaxError = Math.Max(r.InInterfaces.MaxError, r.OutInterfaces.MaxError),
                ServicesMaxError = r.Services.MaxError,
                KeysDropped = r.Sources.DroppedKeys + r.Uids.DroppedKeys + r.Ports.DroppedKeys + r.Prefixes.DroppedKeys + r.InInterfaces.DroppedKeys
                    + r.OutInterfaces.DroppedKeys + r.Services.DroppedKeys,
                NamesDropped = _namesDropped,
                AttemptsMaxError = _attempts.Forgotten,
                TimelineResolution = Timeline.SinceBoot?.Resolution > Timeline.Resolution ? Timeline.SinceBoot.Resolution : Timeline.Resolution,
            };
        }
    }

    /// <summary>The settings in use.</summary>
    public TrafficStatsOptions Options { get; }

    /// <summary>Per destination address (<c>DST=</c>).</summary>
    public DestinationStats Destinations
    {
        get
        {
            Flush();
            return _destinations;
        }
    }

    /// <summary>Per destination port (<c>DPT=</c>); entries without ports are not counted here.</summary>
    public KeyStats<ushort> Ports => Summed.Ports;

    /// <summary>Per UID (<c>UID=</c>); see <see cref="WithoutUid"/> for entries without one.</summary>
    public KeyStats<uint> Uids => Summed.Uids;

    /// <summary>Entries without <c>UID=</c> (rule without <c>--log-uid</c>, forwarded or kernel-generated packets).</summary>
    public KeyStat WithoutUid => Summed.WithoutUid;

    /// <summary>Per source address (<c>SRC=</c>).</summary>
    public KeyStats<NetAddress> Sources => Summed.Sources;

    /// <summary>Per output interface (<c>OUT=</c>; empty for packets to the host).</summary>
    public KeyStats<string> OutInterfaces => Summed.OutInterfaces;

    /// <summary>Per input interface (<c>IN=</c>; empty for locally generated packets).</summary>
    public KeyStats<string> InInterfaces => Summed.InInterfaces;

    /// <summary>Per log prefix (trailing spaces removed).</summary>
    public KeyStats<string> Prefixes => Summed.Prefixes;

    /// <summary>
    /// Per service named by a per-service LOG rule's prefix (<see cref="ServicePrefix"/>, <c>TCP-OUT 25 v2ray:</c>): the
    /// actor behind a UID that several services share; <see cref="KeyStat.Uid"/> is the UID it ran as.
    /// </summary>
    public KeyStats<string> Services => Summed.Services;

    /// <summary>
    /// Per UID, the entries whose prefix names no service: what is left of a UID once <see cref="Services"/> took
    /// the traffic of the services that run as it. Equal to <see cref="Uids"/> when no prefix names a service.
    /// </summary>
    public KeyStats<uint> UidsWithoutService => Summed.UidsWithoutService ?? Summed.Uids;

    /// <summary>All entries together: count, time range, distinct destinations.</summary>
    public KeyStat All => Summed.All;

    /// <summary>
    /// All entries over time, per minute (packets; <see cref="KeyStat.AttemptTimeline"/> of <see cref="All"/> has the attempts); entries
    /// with only the kernel's time since boot in <see cref="Timeline.SinceBoot"/>.
    /// </summary>
    public Timeline Timeline { get; } = new();

    /// <summary>
    /// Outgoing mail connections logged under prefixes the filter does not select (<see cref="LogRecord.OutgoingMail"/>),
    /// kept apart: analysed instead when the selected prefixes logged nothing (MailGuard.Analysis's verdict does so).
    /// Created on first use.
    /// </summary>
    public TrafficStats OtherPrefixMail => _otherPrefixMail ??= new TrafficStats(Options);

    /// <summary>Whether <see cref="OtherPrefixMail"/> holds anything (reading it would create it).</summary>
    public bool HasOtherPrefixMail => _otherPrefixMail is { _sequence: > 0 } || _otherPrefixMail is { _pending: > 0 };

    private TrafficStats? _otherPrefixMail;

    /// <summary>Records that claim to be LOG lines but that the log says a process wrote (<see cref="LineKind.Forged"/>): add them with <see cref="ForgedRecords.Add"/>.</summary>
    public ForgedRecords Forged { get; } = new();

    /// <summary>Selected entries that came in from another host and were forwarded (<c>IN=</c> and <c>OUT=</c> both set: a VPN, a container, a LAN client).</summary>
    public KeyStat Forwarded => Summed.Forwarded;

    /// <summary>Adds one parsed entry (<see cref="LineKind.Entry"/>), counted <see cref="LogRecord.Copies"/> times.</summary>
    /// <param name="record">The parsed line.</param>
    /// <remarks>
    /// The entry is taken apart now and counted two entries later (or when anything is read): its flow
    /// and destination slots, megabytes of tables touched at random, are loaded meanwhile.
    /// </remarks>
    public void Add(ref LogRecord record)
    {
        // Two entries are held back: the older is counted now (its slots were asked for two entries ago),
        // the newer has its destination record asked for (its index slot was asked for one entry ago).
        int free;
        if (_pending == 2)
        {
            Count(ref _ring[_head]);
            free = _head;
            _head ^= 1;
        }
        else
        {
            free = _pending == 0 ? _head : _head ^ 1;
            _pending++;
        }

        ref PendingEntry newer = ref _ring[free ^ 1];
        if (_pending == 2 && newer.HasDst)
        {
            _destinations.PrefetchRecord(newer.DstHash);
        }

        ref PendingEntry e = ref _ring[free];
        ref readonly NetfilterPacket p = ref record.Entry.Packet;
        e.Copies = record.Copies;
        e.Time = new Stamp(record.Envelope.Time, record.Envelope.Uptime);
        e.Dst = p.Dst;
        e.HasDst = p.Has(NetfilterFields.Dst);
        e.Port = p.Has(NetfilterFields.Ports) ? p.Dpt : -1;
        e.Gid = record.Entry.Gid;
        e.Opens = (p.TcpFlags & (TcpFlags.Syn | TcpFlags.Ack)) == TcpFlags.Syn;
        e.HasGid = record.Entry.Has(NetfilterFields.Gid);
        e.Clock = e.Time.HasTime ? e.Time.Ticks : record.Envelope.Uptime?.Ticks ?? 0;
        int host = HostId(record.Envelope.Host);
        if (e.Port >= 0)
        {
            e.Flow = AttemptTracker.Fingerprint(p.Src, p.Dst, p.Spt, p.Dpt, host);
            _attempts.Prefetch(e.Flow);
        }

        if (e.HasDst)
        {
            e.DstHash = p.Dst.Hash64;
            _destinations.Prefetch(e.DstHash);
        }

        bool hasUid = record.Entry.Has(NetfilterFields.Uid);
        _lastNames.Ids(this, record.Envelope.Message, record.Entry.Prefix, record.Entry.In, record.Entry.Out, out int prefixId, out int inId, out int outId);
        e.Key = new CellKey(p.Has(NetfilterFields.Src) ? p.Src : default, hasUid ? record.Entry.Uid : 0, e.Port, inId, outId, prefixId, hasUid, host);
        Timeline.Add(in e.Time, e.Copies);
        _version++;
    }

    /// <summary>Told of each new attempt as it is counted (in the order counted), for the join with application logs.</summary>
    internal AppLogs.IAttemptListener? AttemptListener { get; set; }

    /// <summary>Counts the entries held back by <see cref="Add"/>, if any (the older first).</summary>
    private void Flush()
    {
        if (_pending == 2)
        {
            Count(ref _ring[_head]);
            Count(ref _ring[_head ^ 1]);
        }
        else if (_pending == 1)
        {
            Count(ref _ring[_head]);
        }

        _pending = 0;
    }

    private void Count(ref PendingEntry e)
    {
        long attempts = e.Port < 0 || _attempts.IsNew(e.Flow, e.Clock) ? 1 : 0;
        if (attempts > 0 && AttemptListener is { } listener)
        {
            listener.Attempt(e.Time.HasTime ? e.Time.Ticks : long.MinValue, e.Key.HasUid, e.Key.Uid, e.HasDst ? e.Dst : default, e.Port, e.Opens);
        }

        if (_bounded)
        {
            CountSketched(ref e, attempts);
            return;
        }

        int dstId = e.HasDst ? _destinations.Add(e.Dst, e.DstHash, e.Copies, attempts, in e.Time) : -1;
        Cell? cell = _lastCell;
        if (cell is null || !cell.Key.Equals(e.Key))
        {
            ref Cell? slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_cells, e.Key, out _);
            cell = slot ??= new Cell(e.Key);
            _lastCell = cell;
        }

        KeyStat stat = cell.Writable;
        stat.Add(e.Copies, attempts, in e.Time, dstId, trackDestinations: true);
        stat.AddDetail(e.Port, e.Copies, attempts, in e.Time);
        if (attempts > 0 && (e.Time.HasTime || e.Time.HasUptime) && cell.LastMinute != e.Time.Minute)
        {
            cell.LastMinute = e.Time.Minute;
            _cellMinutes++;
        }
        if (e.Key.HasUid && e.HasGid)
        {
            cell.Gid = e.Gid;
            cell.GidSequence = _sequence;
        }

        _sequence++;
        if (_cells.Count > _budget || _destinations.Held > _budget || _cellMinutes > MaxCellMinutes)
        {
            SwitchToBounded();
        }
    }

    /// <summary>The most minutes the actors' attempt timelines hold while exact (16 × the budget, about 28 bytes each).</summary>
    private long MaxCellMinutes => 16L * _budget;

    /// <summary>Past the key budget: counts an entry straight into the bounded histograms.</summary>
    private void CountSketched(ref PendingEntry e, long attempts)
    {
        if (e.HasDst)
        {
            _destinations.AddSketched(e.Dst, e.DstHash, e.Copies, attempts, in e.Time);
        }

        Rollup t = _rollup!;
        CellKey k = e.Key;
        if (_hosts.Count > 1 && t.PerHost is null)
        {
            SeedHostTables(t); // the second host came after the switch: until now every entry was the first host's
        }

        if (_anyService && t.UidsWithoutService is null)
        {
            ServicelessUids(t); // the first service since the switch: until now every UID's traffic was without one
        }

        t.All.AddSketched(e.Copies, attempts, in e.Time, e.HasDst, e.DstHash, detail: true, e.Port, _budget);
        if (!k.Src.IsNone)
        {
            Sketched(t.Sources, k.Src, ref e, attempts, detail: true);
        }

        if (e.Port >= 0)
        {
            Sketched(t.Ports, (ushort)e.Port, ref e, attempts, detail: false);
        }

        if (k.HasUid)
        {
            KeyStat uid = Sketched(t.Uids, k.Uid, ref e, attempts, detail: true);
            if (e.HasGid)
            {
                uid.Gid = e.Gid;
            }
        }
        else
        {
            t.WithoutUid.AddSketched(e.Copies, attempts, in e.Time, e.HasDst, e.DstHash, detail: true, e.Port, _budget);
        }

        if (_serviceOfName[k.Prefix] is { } service)
        {
            Sketched(t.Services, service, ref e, attempts, detail: true).Uid = k.HasUid ? k.Uid : null;
        }
        else if (k.HasUid && t.UidsWithoutService is not null)
        {
            Sketched(t.UidsWithoutService, k.Uid, ref e, attempts, detail: true);
        }

        string inName = _names[k.In];
        string outName = _names[k.Out];
        Sketched(t.OutInterfaces, outName, ref e, attempts, detail: true);
        KeyStat inStat = Sketched(t.InInterfaces, inName, ref e, attempts, detail: true);
        Sketched(t.Prefixes, _names[k.Prefix], ref e, attempts, detail: false);
        if (inName.Length > 0 && outName.Length > 0)
        {
            inStat.AddSourceSketched(k.Src, KeyPrecision);
            t.Forwarded.AddSketched(e.Copies, attempts, in e.Time, e.HasDst, e.DstHash, detail: true, e.Port, _budget);
        }

        if (_hosts.Count > 1)
        {
            CountHostSketched(t, ref e, attempts, inName, outName);
        }

        _sequence++;
    }

    /// <summary>Past the key budget: the per-UID table without services, made as a copy of the UIDs' when a service first appears.</summary>
    private KeyStats<uint> ServicelessUids(Rollup t)
    {
        if (t.UidsWithoutService is null)
        {
            var table = new KeyStats<uint>(trackDestinations: true, actor: true);
            table.ToBounded(SketchCapacity, static _ => { });
            table.MergeSketched(t.Uids, KeyPrecision, ActorTimelineBuckets);
            t.UidsWithoutService = table;
        }

        return t.UidsWithoutService;
    }

    private static KeyStat Sketched<TKey>(KeyStats<TKey> table, TKey key, ref PendingEntry e, long attempts, bool detail)
        where TKey : notnull
    {
        KeyStat stat = table.Slot(key);
        stat.EnsureSketch(e.HasDst, KeyPrecision); // a key first seen past the budget
        stat.AddSketched(e.Copies, attempts, in e.Time, e.HasDst, e.DstHash, detail, e.Port, ActorTimelineBuckets);
        table.Counted(stat);
        return stat;
    }

    /// <summary>
    /// Leaves exact counting for good: the histograms summed from the cells become bounded summaries (Space-Saving of
    /// <see cref="SketchCapacity"/> keys each, distinct sets as HyperLogLog sketches), the destinations the
    /// <see cref="TrafficStatsOptions.KeyBudget"/> most frequent, and the cells are dropped.
    /// </summary>
    private void SwitchToBounded()
    {
        var r = new Rollup(this, perHost: true);
        DestinationStats destinations = _destinations;
        Func<int, ulong> hashOf = destinations.HashOf;
        Action<KeyStat> convert = s => s.ToSketches(hashOf, KeyPrecision, ActorTimelineBuckets);
        int k = SketchCapacity;
        r.Ports.ToBounded(k, convert);
        r.Uids.ToBounded(k, convert);
        r.Sources.ToBounded(k, convert);
        r.OutInterfaces.ToBounded(k, convert);
        r.InInterfaces.ToBounded(k, convert);
        r.Prefixes.ToBounded(k, convert);
        r.Services.ToBounded(k, convert);
        r.UidsWithoutService?.ToBounded(k, convert);
        r.All.ToSketches(hashOf, AllPrecision, _budget);
        r.WithoutUid.ToSketches(hashOf, KeyPrecision, _budget);
        r.Forwarded.ToSketches(hashOf, KeyPrecision, _budget);
        r.Hosts?.ToBounded(k, convert);
        r.PerHost?.ToBounded(k, convert);
        destinations.ToBounded(_budget, AllPrecision);
        _cells.Clear();
        _cells.TrimExcess();
        _lastCell = null;
        _rollup = r;
        _bounded = true;
    }

    /// <summary>What <see cref="Count"/> needs of an entry, taken from its record.</summary>
    private struct PendingEntry
    {
        public long Copies;
        public Stamp Time;
        public long Clock;
        public NetAddress Dst;
        public bool HasDst;
        public ulong DstHash;
        public int Port;
        public ulong Flow;
        public uint Gid;
        public bool HasGid;
        public bool Opens; // a SYN without ACK: a connection being opened
        public CellKey Key;
    }

    /// <summary>
    /// Remembers the flow of an entry that is counted elsewhere (a <see cref="LineKind.Duplicate"/>: the
    /// same line in another input, or the lead-in of a parallel chunk), so that its retransmissions are not
    /// taken for new attempts. Counts nothing.
    /// </summary>
    /// <param name="record">The parsed line.</param>
    public void Observe(ref LogRecord record)
    {
        Flush(); // the flows in order
        ref readonly NetfilterPacket p = ref record.Entry.Packet;
        if (p.Has(NetfilterFields.Ports))
        {
            _attempts.IsNew(p.Src, p.Dst, p.Spt, p.Dpt, record.Envelope.Time?.UtcTicks ?? record.Envelope.Uptime?.Ticks ?? 0, HostId(record.Envelope.Host));
        }
    }

    /// <summary>Adds everything of <paramref name="other"/> to this instance.</summary>
    /// <remarks>Attempts add up: a retransmission series split across the two parts counts in both.</remarks>
    /// <param name="other">Statistics of another input or another part of the same input.</param>
    public void Merge(TrafficStats other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Flush();
        other.Flush();
        _attempts.Forgotten += other._attempts.Forgotten;
        _namesDropped += other._namesDropped;
        if (_bounded || other._bounded)
        {
            MergeSketched(other);
            return;
        }

        // The other instance numbered its destinations and names its own way: map them to ours first.
        int[] ids = _destinations.Merge(other._destinations);
        int[] names = new int[other._names.Count];
        for (int i = 0; i < names.Length; i++)
        {
            names[i] = NameId(other._names.BytesOf(i), other._names[i]);
        }

        int[] hosts = MergeHostNames(other);

        foreach ((CellKey k, Cell theirs) in other._cells)
        {
            var key = new CellKey(k.Src, k.Uid, k.Port, names[k.In], names[k.Out], names[k.Prefix], k.HasUid, hosts[k.Host]);
            ref Cell? slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_cells, key, out _);
            Cell mine = slot ??= new Cell(key);
            mine.Writable.Merge(theirs.Stat, ids);
            if (theirs.Gid is not null)
            {
                mine.Gid = theirs.Gid; // the other part comes after this one
                mine.GidSequence = _sequence + theirs.GidSequence;
            }
        }

        _sequence += other._sequence;
        _cellMinutes += other._cellMinutes;
        Timeline.Merge(other.Timeline);
        Forged.Merge(other.Forged);
        if (other.HasOtherPrefixMail)
        {
            OtherPrefixMail.Merge(other.OtherPrefixMail);
        }
        _lastCell = null;
        _version++;
        if (_cells.Count > _budget || _destinations.Held > _budget || _cellMinutes > MaxCellMinutes)
        {
            SwitchToBounded();
        }
    }

    /// <summary>Merge when either side is past its key budget: bounded summaries added (errors added).</summary>
    private void MergeSketched(TrafficStats other)
    {
        if (!_bounded)
        {
            SwitchToBounded();
        }

        TrafficStats theirs = other;
        if (!other._bounded)
        {
            theirs = new TrafficStats(Options);
            theirs.Merge(other);
            if (!theirs._bounded)
            {
                theirs.SwitchToBounded();
            }
        }

        _anyService |= other._anyService;
        _destinations.MergeSketched(theirs._destinations);
        Rollup a = _rollup!;
        Rollup b = theirs._rollup!;
        MergeHostsSketched(a, theirs); // first: a side with one host seeds its per-host tables from its own figures
        a.Ports.MergeSketched(b.Ports, KeyPrecision, ActorTimelineBuckets);
        a.Uids.MergeSketched(b.Uids, KeyPrecision, ActorTimelineBuckets);
        a.Sources.MergeSketched(b.Sources, KeyPrecision, ActorTimelineBuckets);
        a.OutInterfaces.MergeSketched(b.OutInterfaces, KeyPrecision, ActorTimelineBuckets);
        a.InInterfaces.MergeSketched(b.InInterfaces, KeyPrecision, ActorTimelineBuckets);
        a.Prefixes.MergeSketched(b.Prefixes, KeyPrecision, ActorTimelineBuckets);
        a.Services.MergeSketched(b.Services, KeyPrecision, ActorTimelineBuckets);
        if (a.UidsWithoutService is not null || b.UidsWithoutService is not null)
        {
            ServicelessUids(a).MergeSketched(b.UidsWithoutService ?? b.Uids, KeyPrecision, ActorTimelineBuckets);
        }

        a.All.MergeSketched(b.All, AllPrecision, _budget);
        a.WithoutUid.MergeSketched(b.WithoutUid, KeyPrecision, _budget);
        a.Forwarded.MergeSketched(b.Forwarded, KeyPrecision, _budget);
        _sequence += other._sequence;
        Timeline.Merge(other.Timeline);
        Forged.Merge(other.Forged);
        if (other.HasOtherPrefixMail)
        {
            OtherPrefixMail.Merge(other.OtherPrefixMail);
        }

        _version++;
    }

    /// <summary>The per-key histograms, summed from the cells when read after a change (past the key budget: counted directly).</summary>
    private Rollup Summed
    {
        get
        {
            Flush();
            if (_bounded || _viewOf is not null)
            {
                return _rollup!;
            }

            if (_rollup is null || _rollup.Version != _version)
            {
                _rollup = new Rollup(this);
            }

            return _rollup;
        }
    }

    /// <summary>The id of an interned name (interfaces, prefixes); raw bytes (a Latin-1 prefix) are shown as UTF-8 replacement text but keyed by their bytes.</summary>
    private int NameId(ReadOnlySpan<byte> bytes, string? known = null)
    {
        int id = _names.Find(bytes);
        if (id >= 0)
        {
            return id;
        }

        if (_names.Count >= SketchCapacity && _overflowName >= 0)
        {
            _namesDropped++;
            return _overflowName;
        }

        if (_names.Count >= SketchCapacity)
        {
            // Past the budget every further name is counted under one: a flood of forged prefixes cannot grow memory.
            bytes = "(other names past the key budget)"u8;
            known = null;
            _namesDropped++;
            _overflowName = _names.Count;
        }

        string? service = ServicePrefix.TryParse(bytes, out _, out ReadOnlySpan<byte> name) ? Encoding.ASCII.GetString(name) : null;
        _serviceOfName.Add(service);
        _anyService |= service is not null;
        return _names.Add(bytes, known);
    }

    /// <summary>A combination of the keys an entry is counted under (besides its destination).</summary>
    private readonly struct CellKey(NetAddress src, uint uid, int port, int @in, int @out, int prefix, bool hasUid, int host) : IEquatable<CellKey>
    {
        public readonly NetAddress Src = src;
        public readonly uint Uid = uid;
        public readonly int Port = port;
        public readonly int In = @in;
        public readonly int Out = @out;
        public readonly int Prefix = prefix;
        public readonly bool HasUid = hasUid;
        public readonly int Host = host;

        public bool Equals(CellKey other) =>
            Uid == other.Uid && Port == other.Port && In == other.In && Out == other.Out && Prefix == other.Prefix && HasUid == other.HasUid && Host == other.Host && Src.Equals(other.Src);

        public override bool Equals(object? obj) => obj is CellKey other && Equals(other);

        public override int GetHashCode()
        {
            ulong h = Src.Hash64 ^ ((ulong)Uid * 0x9E3779B97F4A7C15UL) ^ ((ulong)(uint)Port << 32) ^ ((ulong)In * 0xC2B2AE3D27D4EB4FUL) ^ ((ulong)Out << 48) ^ ((ulong)Prefix << 24) ^ ((ulong)Host * 0x165667B19E3779F9UL) ^ (HasUid ? 1UL : 0);
            return (int)NetAddress.Mix64(h);
        }
    }

    private sealed class Cell(CellKey key)
    {
        public readonly CellKey Key = key;
        public uint? Gid;
        public long GidSequence = -1;
        public long LastMinute = long.MinValue; // of its attempt timeline
        private KeyStat _stat = new();

        /// <summary>The cell's figures, to read (a snapshot may hold the same object: see <see cref="KeyStats{TKey}.Absorb"/>).</summary>
        public KeyStat Stat => _stat;

        /// <summary>The cell's figures, to change: copied first when a snapshot holds them.</summary>
        public KeyStat Writable => _stat.Shared ? _stat = _stat.Clone() : _stat;
    }

    /// <summary>
    /// The name ids of the previous entry's prefix, IN= and OUT=: most entries repeat them, and the three
    /// lie together at the start of the message, so one comparison of that head usually settles all three.
    /// </summary>
    private sealed class LastNames
    {
        private byte[] _head = new byte[128];
        private int _length = -1;
        private ByteRange _prefix;
        private ByteRange _in;
        private ByteRange _out;
        private int _prefixId;
        private int _inId;
        private int _outId;

        public void Ids(TrafficStats owner, ReadOnlySpan<byte> msg, ByteRange prefix, ByteRange @in, ByteRange @out, out int prefixId, out int inId, out int outId)
        {
            int end = Math.Max(prefix.End, Math.Max(@in.End, @out.End));
            if (end == _length && prefix == _prefix && @in == _in && @out == _out && msg[..end].SequenceEqual(_head.AsSpan(0, end)))
            {
                prefixId = _prefixId;
                inId = _inId;
                outId = _outId;
                return;
            }

            prefixId = _prefixId = owner.NameId(prefix.Slice(msg).TrimEnd((byte)' '));
            inId = _inId = owner.NameId(@in.Slice(msg));
            outId = _outId = owner.NameId(@out.Slice(msg));
            if (end > _head.Length)
            {
                _head = new byte[end];
            }

            msg[..end].CopyTo(_head);
            _length = end;
            _prefix = prefix;
            _in = @in;
            _out = @out;
        }
    }

    /// <summary>The per-key histograms summed from the cells.</summary>
    private sealed class Rollup
    {
        public readonly long Version;
        public readonly KeyStats<ushort> Ports = new(trackDestinations: true);
        public readonly KeyStats<uint> Uids = new(trackDestinations: true, actor: true);
        public readonly KeyStat WithoutUid = new();
        public readonly KeyStats<NetAddress> Sources = new(trackDestinations: true, actor: true);
        public readonly KeyStats<string> OutInterfaces = new(trackDestinations: true, actor: true);
        public readonly KeyStats<string> InInterfaces = new(trackDestinations: true, actor: true);
        public readonly KeyStats<string> Prefixes = new(trackDestinations: true);
        public readonly KeyStats<string> Services = new(trackDestinations: true, actor: true);
        public KeyStats<uint>? UidsWithoutService;
        public KeyStat All = new();
        public readonly KeyStat Forwarded = new();

        /// <summary>Per host name, when more than one host was seen (else null: the one host's figures are <see cref="All"/>).</summary>
        public KeyStats<string>? Hosts;

        /// <summary>The actors of each host (null unless <see cref="Hosts"/> is set and the figures are past the key budget, or asked for).</summary>
        public HostActors? PerHost;

        /// <summary>The histograms of the cells, all (<paramref name="host"/> -1) or of one host's; with <paramref name="perHost"/> the actors of each host too.</summary>
        public Rollup(TrafficStats owner, int host = -1, bool perHost = false)
            : this(owner._version, owner._anyService)
        {
            Hosts = host < 0 && owner._hosts.Count > 1 ? new(trackDestinations: true, actor: true) : null;
            PerHost = perHost && Hosts is not null ? new HostActors() : null;
            foreach (Cell cell in owner._cells.Values)
            {
                CellKey k = cell.Key;
                if (host >= 0 && k.Host != host)
                {
                    continue;
                }

                Hosts?.Absorb(owner._hosts[k.Host], cell.Stat);
                PerHost?.Absorb(owner, k, cell.Stat);
                Add(owner, cell);
            }
        }

        /// <summary>An empty rollup, filled by the caller (one host's part); <paramref name="services"/>: some prefix names a service.</summary>
        public Rollup(long version, bool services = false)
        {
            Version = version;
            UidsWithoutService = services ? new(trackDestinations: true, actor: true) : null;
        }

        private readonly Dictionary<uint, long> _gidOrder = [];

        /// <summary>Adds a cell to the histograms.</summary>
        public void Add(TrafficStats owner, Cell cell)
        {
            CellKey k = cell.Key;
            KeyStat s = cell.Stat;
            if (owner._serviceOfName[k.Prefix] is { } service)
            {
                Services.Absorb(service, s).Uid = k.HasUid ? k.Uid : null;
            }
            else if (k.HasUid)
            {
                UidsWithoutService?.Absorb(k.Uid, s);
            }

            All.Absorb(s, detail: true);
            if (!k.Src.IsNone)
            {
                Sources.Absorb(k.Src, s, share: true); // as many sources as cells at worst: no second copy of each
            }

            if (k.Port >= 0)
            {
                Ports.Absorb((ushort)k.Port, s);
            }

            if (k.HasUid)
            {
                KeyStat uid = Uids.Absorb(k.Uid, s);
                if (cell.Gid is not null && (!_gidOrder.TryGetValue(k.Uid, out long seq) || cell.GidSequence > seq))
                {
                    uid.Gid = cell.Gid;
                    _gidOrder[k.Uid] = cell.GidSequence;
                }
            }
            else
            {
                WithoutUid.Absorb(s, detail: true);
            }

            string inName = owner._names[k.In];
            string outName = owner._names[k.Out];
            OutInterfaces.Absorb(outName, s);
            KeyStat inStat = InInterfaces.Absorb(inName, s);
            Prefixes.Absorb(owner._names[k.Prefix], s);
            if (inName.Length > 0 && outName.Length > 0)
            {
                inStat.AddSource(k.Src);
                Forwarded.Absorb(s, detail: true);
            }
        }
    }
}
