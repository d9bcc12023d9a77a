using System.Runtime.InteropServices;
using MailGuard.Parsing.Internals;

namespace MailGuard.Parsing;

/// <summary>Packets and connection attempts to one port.</summary>
/// <param name="Packets">Entries (logged packets, SYN retransmissions included).</param>
/// <param name="Attempts">Connection attempts: packets of one flow (SRC, SPT, DST, DPT) within the retry window count once.</param>
public readonly record struct PortCount(long Packets, long Attempts);

/// <summary>What is known about one key (a destination, a port, a UID…): how often, when, to how many destinations.</summary>
public sealed class KeyStat
{
    private IdSet? _destinations; // dense destination ids of the owning TrafficStats
    private HashSet<NetAddress>? _sources;
    private HyperLogLog? _destinationSketch; // instead of _destinations once the stats are past their key budget
    private HyperLogLog? _sourceSketch; // instead of _sources, likewise
    private ushort[]? _portKeys; // an actor uses few ports: a short list, the last one used first
    private PortCount[]? _portCounts;
    private int _portCount;
    private int _lastPort;

    /// <summary>Entries with this key (logged packets).</summary>
    public long Count { get; private set; }

    /// <summary>
    /// Connection attempts among them: a dropped SYN is retransmitted by the sender's kernel (after about
    /// 1 s, then 2, 4, 8 s…) and every retransmission is logged, so packets of one flow (SRC, SPT, DST,
    /// DPT) within <see cref="TrafficStatsOptions.RetryWindow"/> count as one attempt.
    /// </summary>
    public long Attempts { get; private set; }

    /// <summary>For actor keys (UIDs, sources, interfaces): packets and attempts per destination port; otherwise null.</summary>
    public IReadOnlyDictionary<ushort, PortCount>? Ports
    {
        get
        {
            if (_portKeys is null)
            {
                return null;
            }

            var ports = new Dictionary<ushort, PortCount>(_portCount);
            for (int i = 0; i < _portCount; i++)
            {
                ports[_portKeys[i]] = _portCounts![i];
            }

            return ports;
        }
    }

    /// <summary>For actor keys: connection attempts over time (per minute); otherwise null.</summary>
    public Timeline? AttemptTimeline { get; private set; }

    /// <summary>For input interfaces: how many different source addresses (<c>SRC=</c>) came in through it and were forwarded; otherwise 0.</summary>
    public int DistinctSources => _sourceSketch is { } s ? Clamp(s.Estimate()) : _sources?.Count ?? 0;

    /// <summary>
    /// How much <see cref="Count"/> and <see cref="Attempts"/> may exceed the true figures: 0 when they are exact. Past the key
    /// budget (<see cref="TrafficStatsOptions.KeyBudget"/>) a key that takes the place of a dropped one inherits its counts
    /// (Space-Saving): the true count lies in [<see cref="Count"/> − <see cref="CountError"/>, <see cref="Count"/>], and
    /// <see cref="First"/> may be later than the true first time.
    /// </summary>
    public long CountError { get; internal set; }

    /// <summary>True when <see cref="DistinctDestinations"/> is a HyperLogLog estimate (past the key budget), with <see cref="DistinctRelativeError"/>.</summary>
    public bool DistinctDestinationsEstimated => _destinationSketch is not null;

    /// <summary>True when <see cref="DistinctSources"/> is a HyperLogLog estimate.</summary>
    public bool DistinctSourcesEstimated => _sourceSketch is not null;

    /// <summary>The relative standard error of <see cref="DistinctDestinations"/> when it is estimated; 0 when exact.</summary>
    public double DistinctRelativeError => _destinationSketch?.RelativeError ?? 0;

    /// <summary>True when any figure of this key is an estimate.</summary>
    public bool Estimated => CountError > 0 || _destinationSketch is not null || _sourceSketch is not null || AttemptTimeline?.Resolution > TimeSpan.FromMinutes(1);

    /// <summary>The position in a bounded <see cref="KeyStats{TKey}"/>'s heap.</summary>
    internal int HeapIndex { get; set; } = -1;

    private static int Clamp(long n) => (int)Math.Min(n, int.MaxValue);

    /// <summary>For UIDs: the GID of the last entry with this UID; otherwise null.</summary>
    public uint? Gid { get; internal set; }

    /// <summary>For services (<see cref="TrafficStats.Services"/>): the UID of its entries (the last one summed), or null when they carried none.</summary>
    public uint? Uid { get; internal set; }

    /// <summary>The earliest time seen, when the lines carried times.</summary>
    public DateTimeOffset? First => _first == long.MaxValue ? null : new DateTimeOffset(_first + _firstOffset.Ticks, _firstOffset);

    /// <summary>The latest time seen.</summary>
    public DateTimeOffset? Last => _last == long.MinValue ? null : new DateTimeOffset(_last + _lastOffset.Ticks, _lastOffset);

    /// <summary>The earliest kernel time since boot among the entries whose lines gave no wall-clock time (<see cref="ClockKind.Uptime"/>), or null.</summary>
    public TimeSpan? FirstUptime => _firstUptime == long.MaxValue ? null : TimeSpan.FromTicks(_firstUptime);

    /// <summary>The latest kernel time since boot among the entries whose lines gave no wall-clock time, or null.</summary>
    public TimeSpan? LastUptime => _lastUptime == long.MinValue ? null : TimeSpan.FromTicks(_lastUptime);

    private long _first = long.MaxValue; // UTC ticks, compared as numbers on every entry
    private long _last = long.MinValue;
    private TimeSpan _firstOffset;
    private TimeSpan _lastOffset;
    private long _firstUptime = long.MaxValue; // ticks since boot, of entries without a wall-clock time
    private long _lastUptime = long.MinValue;

    /// <summary>How many different destination addresses the entries with this key went to (an estimate when <see cref="DistinctDestinationsEstimated"/>).</summary>
    public int DistinctDestinations => _destinationSketch is { } s ? Clamp(s.Estimate()) : _destinations?.Count ?? 0;

    /// <summary>Sets the figures of a destination kept in a <see cref="DestinationStats"/> (times since boot when <paramref name="uptime"/>).</summary>
    internal void Load(long count, long attempts, long first, short firstOffset, long last, short lastOffset, bool uptime, long error = 0)
    {
        Count = count;
        Attempts = attempts;
        CountError = error;
        if (uptime)
        {
            _firstUptime = first;
            _lastUptime = last;
            return;
        }

        _first = first;
        _last = last;
        _firstOffset = TimeSpan.FromMinutes(firstOffset);
        _lastOffset = TimeSpan.FromMinutes(lastOffset);
    }

    internal void Add(long copies, long attempts, in Stamp time, int dstId, bool trackDestinations)
    {
        Count += copies;
        Attempts += attempts;
        if (time.HasTime)
        {
            if (time.Ticks < _first)
            {
                _first = time.Ticks;
                _firstOffset = time.Offset;
            }

            if (time.Ticks > _last)
            {
                _last = time.Ticks;
                _lastOffset = time.Offset;
            }
        }
        else if (time.HasUptime)
        {
            _firstUptime = Math.Min(_firstUptime, time.Uptime);
            _lastUptime = Math.Max(_lastUptime, time.Uptime);
        }

        if (trackDestinations && dstId >= 0)
        {
            (_destinations ??= new IdSet()).Add(dstId);
        }
    }

    private ref PortCount PortSlot(ushort port)
    {
        if (_portKeys is not null)
        {
            if (_lastPort < _portCount && _portKeys[_lastPort] == port)
            {
                return ref _portCounts![_lastPort];
            }

            for (int i = 0; i < _portCount; i++)
            {
                if (_portKeys[i] == port)
                {
                    _lastPort = i;
                    return ref _portCounts![i];
                }
            }
        }

        if (_portKeys is null || _portCount == _portKeys.Length)
        {
            Array.Resize(ref _portKeys, Math.Max(4, _portCount * 2));
            Array.Resize(ref _portCounts, _portKeys.Length);
        }

        _portKeys[_portCount] = port;
        _lastPort = _portCount++;
        return ref _portCounts![_lastPort];
    }

    internal void AddSource(NetAddress src) => (_sources ??= []).Add(src);

    /// <summary>The per-port counts and attempt timeline of an actor key.</summary>
    internal void AddDetail(int port, long copies, long attempts, in Stamp time)
    {
        if (port >= 0)
        {
            ref PortCount pc = ref PortSlot((ushort)port);
            pc = new PortCount(pc.Packets + copies, pc.Attempts + attempts);
        }

        if (attempts > 0)
        {
            (AttemptTimeline ??= new Timeline()).Add(time, attempts);
        }
    }

    /// <summary>Adds the figures of a <see cref="TrafficStats"/> cell (same destination ids): count, attempts, times, destinations, and with <paramref name="detail"/> the per-port counts and the attempt timeline.</summary>
    internal void Absorb(KeyStat cell, bool detail, bool trackDestinations = true)
    {
        AddFigures(cell, detail);
        if (trackDestinations && cell._destinations is not null)
        {
            (_destinations ??= new IdSet()).UnionWith(cell._destinations);
        }
    }

    /// <summary>True when a histogram read from <see cref="TrafficStats"/> holds this object as well as the cell that made it.</summary>
    internal bool Shared { get; set; }

    /// <summary>A copy with everything: counts, times, destinations, ports, timeline, sources, GID.</summary>
    internal KeyStat Clone()
    {
        var copy = new KeyStat { Gid = Gid };
        copy.Absorb(this, detail: true);
        if (_sources is not null)
        {
            copy._sources = [.. _sources];
        }

        return copy;
    }

    /// <summary>Adds another instance's stat; <paramref name="ids"/> maps the other's destination ids to this one's.</summary>
    internal void Merge(KeyStat other, int[] ids)
    {
        AddFigures(other, detail: true);
        Gid = other.Gid ?? Gid;
        if (other._sources is not null)
        {
            (_sources ??= []).UnionWith(other._sources);
        }

        if (other._destinations is not null)
        {
            _destinations ??= new IdSet();
            foreach (int id in other._destinations.Ids())
            {
                _destinations.Add(ids[id]);
            }
        }
    }

    /// <summary>
    /// Turns the exact distinct sets into HyperLogLog sketches (the destinations by their address hashes, through
    /// <paramref name="hashOfId"/>) and limits the attempt timeline to <paramref name="timelineBuckets"/> buckets: the stats
    /// are past their key budget.
    /// </summary>
    internal void ToSketches(Func<int, ulong>? hashOfId, int precision, int timelineBuckets)
    {
        if (_destinationSketch is null)
        {
            _destinationSketch = new HyperLogLog(precision);
            if (_destinations is not null && hashOfId is not null)
            {
                foreach (int id in _destinations.Ids())
                {
                    _destinationSketch.Add(hashOfId(id));
                }
            }

            _destinations = null;
        }

        if (_sources is not null)
        {
            _sourceSketch = new HyperLogLog(precision);
            foreach (NetAddress src in _sources)
            {
                _sourceSketch.Add(src.Hash64);
            }

            _sources = null;
        }

        if (AttemptTimeline is not null && timelineBuckets > 0)
        {
            AttemptTimeline.MaxBuckets = timelineBuckets;
        }

        Shared = false;
    }

    /// <summary>Counts an entry past the key budget: the figures, the destination by its hash into the sketch, and with <paramref name="detail"/> the port and the attempt timeline.</summary>
    internal void AddSketched(long copies, long attempts, in Stamp time, bool hasDst, ulong dstHash, bool detail, int port, int timelineBuckets)
    {
        Add(copies, attempts, in time, -1, trackDestinations: false);
        if (hasDst)
        {
            _destinationSketch?.Add(dstHash);
        }

        if (detail)
        {
            if (attempts > 0 && AttemptTimeline is null)
            {
                AttemptTimeline = new Timeline { MaxBuckets = timelineBuckets };
            }

            AddDetail(port, copies, attempts, in time);
        }
    }

    /// <summary>Past the key budget: gives a key first seen then its distinct-destination sketch (<paramref name="hasDst"/>: the entry has a destination).</summary>
    internal void EnsureSketch(bool hasDst, int precision)
    {
        if (hasDst && _destinationSketch is null)
        {
            _destinationSketch = new HyperLogLog(precision);
        }
    }

    /// <summary>Past the key budget: adds a forwarded source to the sketch.</summary>
    internal void AddSourceSketched(NetAddress src, int precision) => (_sourceSketch ??= new HyperLogLog(precision)).Add(src.Hash64);

    /// <summary>
    /// Makes this object the stat of a new key that takes the place of the one it held (Space-Saving): the counts stay as the
    /// new key's over-estimate, <see cref="CountError"/> becomes them; times, ports, timeline and sketches start empty
    /// (no allocation: the arrays and registers are kept).
    /// </summary>
    internal void Recycle()
    {
        CountError = Count;
        _first = _firstUptime = long.MaxValue;
        _last = _lastUptime = long.MinValue;
        _firstOffset = _lastOffset = TimeSpan.Zero;
        _portCount = 0;
        _lastPort = 0;
        AttemptTimeline?.Clear();
        _destinationSketch?.Clear();
        _sourceSketch?.Clear();
        Gid = null;
        Uid = null;
    }

    /// <summary>Past the key budget: adds another stat of the same key (sketches united, errors added).</summary>
    internal void MergeSketched(KeyStat other, int precision, int timelineBuckets)
    {
        if (other.AttemptTimeline is not null && AttemptTimeline is null)
        {
            AttemptTimeline = new Timeline { MaxBuckets = timelineBuckets };
        }

        AddFigures(other, detail: true);
        CountError += other.CountError;
        Gid = other.Gid ?? Gid;
        Uid = other.Uid ?? Uid;
        if (other._destinationSketch is not null)
        {
            (_destinationSketch ??= new HyperLogLog(precision)).UnionWith(other._destinationSketch);
        }

        if (other._sourceSketch is not null)
        {
            (_sourceSketch ??= new HyperLogLog(precision)).UnionWith(other._sourceSketch);
        }
    }

    /// <summary>Adds <paramref name="n"/> to the count and to its error bound (a merged part that may have held this key below its own bound).</summary>
    internal void AddUnknown(long n)
    {
        Count += n;
        Attempts += n;
        CountError += n;
    }

    /// <summary>Count, attempts, time range, and with <paramref name="detail"/> the per-port counts and attempt timeline of <paramref name="other"/>.</summary>
    private void AddFigures(KeyStat other, bool detail)
    {
        Count += other.Count;
        Attempts += other.Attempts;
        if (other._first < _first)
        {
            _first = other._first;
            _firstOffset = other._firstOffset;
        }

        if (other._last > _last)
        {
            _last = other._last;
            _lastOffset = other._lastOffset;
        }

        _firstUptime = Math.Min(_firstUptime, other._firstUptime);
        _lastUptime = Math.Max(_lastUptime, other._lastUptime);
        if (!detail)
        {
            return;
        }

        for (int i = 0; i < other._portCount; i++)
        {
            PortCount pc = other._portCounts![i];
            ref PortCount mine = ref PortSlot(other._portKeys![i]);
            mine = new PortCount(mine.Packets + pc.Packets, mine.Attempts + pc.Attempts);
        }

        if (other.AttemptTimeline is not null)
        {
            (AttemptTimeline ??= new Timeline()).Merge(other.AttemptTimeline);
        }
    }
}

/// <summary>A histogram: per key, a <see cref="KeyStat"/>.</summary>
/// <typeparam name="TKey">The key: an address, a port, a UID, a name.</typeparam>
public sealed class KeyStats<TKey>
    where TKey : notnull
{
    private readonly Dictionary<TKey, KeyStat> _map = [];
    private readonly bool _trackDestinations;
    private readonly bool _actor;
    private TKey? _lastKey;
    private KeyStat? _lastStat; // consecutive entries often share a key: skip the lookup
    private KeyStat[]? _heap; // past the key budget: the kept stats, a min-heap on Count (Space-Saving)
    private TKey[]? _heapKeys;
    private long _dropped; // keys dropped to keep the capacity
    private long _droppedMax; // the largest count of a dropped key, or a bound from a merge

    internal KeyStats(bool trackDestinations, bool actor = false)
    {
        _trackDestinations = trackDestinations;
        _actor = actor;
    }

    /// <summary>The number of different keys (kept: past the key budget, the most that are kept).</summary>
    public int Count => _map.Count;

    /// <summary>
    /// True when keys were dropped to stay within the key budget (<see cref="TrafficStatsOptions.KeyBudget"/>): the counts
    /// are then Space-Saving estimates, each within its <see cref="KeyStat.CountError"/>, and a key that is not listed
    /// had at most <see cref="MaxError"/> entries.
    /// </summary>
    public bool Estimated => _dropped > 0 || _droppedMax > 0;

    /// <summary>
    /// Past the key budget: the most entries a key that is not listed can have had, and the most any listed count can be
    /// over (the smallest count kept); 0 while every key is kept.
    /// </summary>
    public long MaxError => !Estimated ? 0 : Math.Max(_droppedMax, _heap is { Length: > 0 } h && _map.Count == h.Length ? h[0].Count : 0);

    /// <summary>How many keys were dropped (and others counted in their place) to stay within the key budget.</summary>
    public long DroppedKeys => _dropped;

    /// <summary>True once the histogram keeps at most a fixed number of keys.</summary>
    internal bool Bounded => _heap is not null;

    /// <summary>The stat of one key, or null.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The stat, or null when the key was not seen.</returns>
    public KeyStat? this[TKey key] => _map.GetValueOrDefault(key);

    /// <summary>Every key with its stat, highest count first (ties by key order).</summary>
    /// <param name="top">At most this many (0: all).</param>
    /// <returns>The sorted list.</returns>
    public IReadOnlyList<KeyValuePair<TKey, KeyStat>> Top(int top = 0)
    {
        static int Order(KeyValuePair<TKey, KeyStat> a, KeyValuePair<TKey, KeyStat> b)
        {
            int c = b.Value.Count.CompareTo(a.Value.Count);
            return c != 0 ? c : Comparer<TKey>.Default.Compare(a.Key, b.Key);
        }

        List<KeyValuePair<TKey, KeyStat>> list;
        if (top > 0 && _map.Count / 4 > top)
        {
            // A few of many (the top 10 of 100,000 destinations): keep the best in a heap, sort only those. The heap
            // is sized by top, which is here below a quarter of the keys: never by a huge request (--top 2000000000).
            var heap = new PriorityQueue<KeyValuePair<TKey, KeyStat>, KeyValuePair<TKey, KeyStat>>(top + 1, Comparer<KeyValuePair<TKey, KeyStat>>.Create(static (a, b) => Order(b, a)));
            foreach (KeyValuePair<TKey, KeyStat> pair in _map)
            {
                if (heap.Count < top)
                {
                    heap.Enqueue(pair, pair);
                }
                else if (Order(pair, heap.Peek()) < 0)
                {
                    heap.DequeueEnqueue(pair, pair);
                }
            }

            list = new List<KeyValuePair<TKey, KeyStat>>(heap.Count);
            while (heap.TryDequeue(out KeyValuePair<TKey, KeyStat> pair, out _))
            {
                list.Add(pair);
            }
        }
        else
        {
            list = new List<KeyValuePair<TKey, KeyStat>>(_map);
        }

        list.Sort(Order);
        if (top > 0 && list.Count > top)
        {
            list.RemoveRange(top, list.Count - top);
        }

        return list;
    }

    /// <summary>
    /// Keeps at most <paramref name="capacity"/> keys from now on (Space-Saving): the stats are converted by
    /// <paramref name="convert"/>, the smallest dropped when there are more.
    /// </summary>
    internal void ToBounded(int capacity, Action<KeyStat> convert)
    {
        capacity = Math.Max(1, capacity);
        var all = new List<KeyValuePair<TKey, KeyStat>>(_map);
        if (all.Count > capacity)
        {
            all.Sort(static (a, b) => b.Value.Count.CompareTo(a.Value.Count));
            for (int i = capacity; i < all.Count; i++)
            {
                _map.Remove(all[i].Key);
                _droppedMax = Math.Max(_droppedMax, all[i].Value.Count);
                _dropped++;
            }

            all.RemoveRange(capacity, all.Count - capacity);
            _map.TrimExcess();
        }

        foreach (KeyValuePair<TKey, KeyStat> pair in all)
        {
            convert(pair.Value); // only the kept: the sketches cost memory
        }

        _heap = new KeyStat[capacity];
        _heapKeys = new TKey[capacity];
        for (int i = 0; i < all.Count; i++)
        {
            _heap[i] = all[i].Value;
            _heapKeys[i] = all[i].Key;
            _heap[i].HeapIndex = i;
        }

        for (int i = (all.Count / 2) - 1; i >= 0; i--)
        {
            SiftDown(i);
        }

        _lastStat = null;
    }

    /// <summary>
    /// Past the key budget: the stat to count an entry of <paramref name="key"/> in — its own, a new one while there is room,
    /// or the one of the smallest key, which it replaces (<see cref="KeyStat.Recycle"/>). Call <see cref="Counted"/> after.
    /// </summary>
    internal KeyStat Slot(TKey key)
    {
        if (_lastStat is not null && EqualityComparer<TKey>.Default.Equals(key, _lastKey))
        {
            return _lastStat;
        }

        ref KeyStat? slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_map, key, out bool exists);
        if (!exists)
        {
            KeyStat[] heap = _heap!;
            int n = _map.Count - 1; // kept before this key
            if (n < heap.Length)
            {
                slot = new KeyStat { HeapIndex = n };
                heap[n] = slot;
                _heapKeys![n] = key;
                SiftUp(n);
            }
            else
            {
                KeyStat smallest = heap[0];
                _map.Remove(_heapKeys![0]);
                slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_map, key, out _);
                _droppedMax = Math.Max(_droppedMax, smallest.Count);
                _dropped++;
                smallest.Recycle();
                _heapKeys[0] = key;
                slot = smallest;
            }
        }

        _lastKey = key;
        _lastStat = slot;
        return slot!;
    }

    /// <summary>Past the key budget: restores the heap after <paramref name="stat"/>'s count grew.</summary>
    internal void Counted(KeyStat stat) => SiftDown(stat.HeapIndex);

    /// <summary>Past the key budget: adds the stats of <paramref name="other"/> (bounded or not), errors added; keys this one lacks may have had up to its <see cref="MaxError"/>.</summary>
    internal void MergeSketched(KeyStats<TKey> other, int precision, int timelineBuckets) => MergeSketched(other, static k => k, precision, timelineBuckets);

    /// <summary>As <see cref="MergeSketched(KeyStats{TKey}, int, int)"/>, each key of <paramref name="other"/> under the key <paramref name="map"/> gives (one to one).</summary>
    internal void MergeSketched<TOther>(KeyStats<TOther> other, Func<TOther, TKey> map, int precision, int timelineBuckets)
        where TOther : notnull
    {
        long mine = MaxError;
        long theirs = other.MaxError;
        var seen = theirs > 0 ? new HashSet<TKey>() : null;
        foreach ((TOther from, KeyStat stat) in other.Pairs)
        {
            TKey key = map(from);
            bool known = _map.ContainsKey(key);
            KeyStat target = Slot(key);
            if (!known && target.CountError == 0 && mine > 0)
            {
                target.AddUnknown(mine); // this part may have counted the key and dropped it
            }

            target.MergeSketched(stat, precision, timelineBuckets);
            Counted(target);
            seen?.Add(key);
        }

        if (seen is not null)
        {
            foreach ((TKey key, KeyStat stat) in _map)
            {
                if (!seen.Contains(key))
                {
                    stat.AddUnknown(theirs);
                }
            }

            for (int i = (_map.Count / 2) - 1; i >= 0; i--)
            {
                SiftDown(i);
            }
        }

        _droppedMax = Math.Max(_droppedMax, mine + theirs);
        _dropped += other.DroppedKeys;
    }

    /// <summary>The keys with their stats, unordered.</summary>
    internal Dictionary<TKey, KeyStat> Pairs => _map;

    /// <summary>Sets the stat of a key of a histogram that is a read-only view (one host's part of a bounded histogram).</summary>
    internal void Put(TKey key, KeyStat stat) => _map[key] = stat;

    private void SiftDown(int i)
    {
        KeyStat[] heap = _heap!;
        TKey[] keys = _heapKeys!;
        int n = Math.Min(_map.Count, heap.Length);
        while (true)
        {
            int left = (2 * i) + 1;
            if (left >= n)
            {
                return;
            }

            int child = left + 1 < n && heap[left + 1].Count < heap[left].Count ? left + 1 : left;
            if (heap[child].Count >= heap[i].Count)
            {
                return;
            }

            Swap(heap, keys, i, child);
            i = child;
        }
    }

    private void SiftUp(int i)
    {
        KeyStat[] heap = _heap!;
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (heap[parent].Count <= heap[i].Count)
            {
                return;
            }

            Swap(heap, _heapKeys!, i, parent);
            i = parent;
        }
    }

    private static void Swap(KeyStat[] heap, TKey[] keys, int a, int b)
    {
        (heap[a], heap[b]) = (heap[b], heap[a]);
        (keys[a], keys[b]) = (keys[b], keys[a]);
        heap[a].HeapIndex = a;
        heap[b].HeapIndex = b;
    }

    /// <summary>The stat of a key, created when new.</summary>
    internal KeyStat Get(TKey key, out bool created)
    {
        if (_lastStat is not null && EqualityComparer<TKey>.Default.Equals(key, _lastKey))
        {
            created = false;
            return _lastStat;
        }

        ref KeyStat? stat = ref CollectionsMarshal.GetValueRefOrAddDefault(_map, key, out bool exists);
        created = !exists;
        stat ??= new KeyStat();
        _lastKey = key;
        _lastStat = stat;
        return stat;
    }

    /// <summary>
    /// Adds a <see cref="TrafficStats"/> cell to the stat of <paramref name="key"/> (with the per-port detail
    /// for actor keys). With <paramref name="share"/> (an actor histogram whose keys may be as many as the
    /// cells), a key's first cell is taken as it is — marked <see cref="KeyStat.Shared"/>, so the cell copies
    /// it before it changes again — and copied only when a second cell comes.
    /// </summary>
    internal KeyStat Absorb(TKey key, KeyStat cell, bool share = false)
    {
        if (share && _actor && _trackDestinations)
        {
            ref KeyStat? slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_map, key, out bool exists);
            if (!exists)
            {
                cell.Shared = true;
                slot = cell;
                return cell;
            }

            if (slot!.Shared)
            {
                slot = slot.Clone(); // the first cell's own object stays the cell's
            }

            slot.Absorb(cell, detail: true);
            _lastStat = null;
            return slot;
        }

        KeyStat stat = Get(key, out _);
        stat.Absorb(cell, _actor, _trackDestinations);
        return stat;
    }
}
