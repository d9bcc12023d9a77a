using System.Runtime.CompilerServices;
using MailGuard.Parsing.Internals;

namespace MailGuard.Parsing;

/// <summary>
/// The per-destination histogram (<c>DST=</c>): for each address, entries, connection attempts, first and
/// last time. Kept compact for the scan (100,000 destinations: about 9 MB); the <see cref="KeyStat"/>
/// objects it hands out are snapshots made when asked for.
/// </summary>
/// <remarks>
/// A hash index of 8-byte slots (32 hash bits and a dense id) over an array of 64-byte records, one cache
/// line each: an entry touches the index (small enough to stay in cache) and its destination's line. A
/// <see cref="Dictionary{TKey, TValue}"/> of <see cref="KeyStat"/> objects touched a bucket, an entry and
/// an object, mostly out of cache, and took twice the memory.
/// </remarks>
public sealed class DestinationStats
{
    private ulong[] _index = new ulong[256]; // (hash >> 32) << 32 | (id + 1); 0: empty
    private int _mask = 255;
    private Record[] _records = new Record[64];
    private int _last = -1; // consecutive entries often share a destination
    private int _held; // records in use
    private HyperLogLog? _distinct; // past the key budget: the distinct count
    private int[]? _heap; // past the key budget: record ids, a min-heap on Count (Space-Saving)
    private int[]? _heapAt; // per record id: its place in _heap
    private long[]? _errors; // per record id: how much its counts may be over
    private long _dropped;
    private long _droppedMax;

    internal DestinationStats()
    {
    }

    /// <summary>The number of different destinations (a HyperLogLog estimate when <see cref="Estimated"/>).</summary>
    public int Count => _distinct is { } d ? (int)Math.Min(d.Estimate(), int.MaxValue) : _held;

    /// <summary>
    /// True past the key budget (<see cref="TrafficStatsOptions.KeyBudget"/>): <see cref="Count"/> is a HyperLogLog estimate
    /// (relative standard error <see cref="CountRelativeError"/>), the destinations listed are the most frequent within their
    /// <see cref="KeyStat.CountError"/> (Space-Saving), and one not listed had at most <see cref="MaxError"/> entries.
    /// </summary>
    public bool Estimated => _distinct is not null;

    /// <summary>The relative standard error of <see cref="Count"/>: 0 when exact.</summary>
    public double CountRelativeError => _distinct?.RelativeError ?? 0;

    /// <summary>Past the key budget: the most entries of a destination not listed, and the most a listed count can be over; else 0.</summary>
    public long MaxError => _heap is null ? 0 : Math.Max(_droppedMax, _dropped > 0 && _held > 0 ? _records[_heap[0]].Count : 0);

    /// <summary>How many destinations were dropped (and others counted in their place) to stay within the key budget.</summary>
    public long DroppedKeys => _dropped;

    /// <summary>The destinations kept (every one while exact).</summary>
    internal int Held => _held;

    /// <summary>The address hash of a kept destination by its id (to turn id sets into sketches).</summary>
    internal ulong HashOf(int id) => _records[id].Address.Hash64;

    /// <summary>A snapshot of one destination's figures, or null when it was not seen.</summary>
    /// <param name="address">The destination address.</param>
    /// <returns>The figures, or null.</returns>
    public KeyStat? this[NetAddress address]
    {
        get
        {
            int id = Lookup(address, address.Hash64);
            return id < 0 ? null : Snapshot(id);
        }
    }

    /// <summary>Destinations with their figures, most entries first (ties by address order); snapshots.</summary>
    /// <param name="top">At most this many (0: all).</param>
    /// <returns>The sorted list.</returns>
    public IReadOnlyList<KeyValuePair<NetAddress, KeyStat>> Top(int top = 0)
    {
        Record[] records = _records;
        int Order(int a, int b)
        {
            int c = records[b].Count.CompareTo(records[a].Count);
            return c != 0 ? c : records[a].Address.CompareTo(records[b].Address);
        }

        List<int> ids;
        if (top > 0 && _held / 4 > top)
        {
            // A few of many (the top 10 of 100,000): keep the best in a heap whose root is the worst kept; sized by
            // top, which is here below a quarter of the destinations, never by a huge request.
            var heap = new PriorityQueue<int, int>(top + 1, Comparer<int>.Create((a, b) => Order(b, a)));
            for (int id = 0; id < _held; id++)
            {
                if (heap.Count < top)
                {
                    heap.Enqueue(id, id);
                }
                else if (Order(id, heap.Peek()) < 0)
                {
                    heap.DequeueEnqueue(id, id);
                }
            }

            ids = new List<int>(heap.Count);
            while (heap.TryDequeue(out int id, out _))
            {
                ids.Add(id);
            }
        }
        else
        {
            ids = new List<int>(_held);
            for (int id = 0; id < _held; id++)
            {
                ids.Add(id);
            }
        }

        ids.Sort(Order);
        int n = top > 0 ? Math.Min(top, ids.Count) : ids.Count;
        var list = new List<KeyValuePair<NetAddress, KeyStat>>(n);
        for (int i = 0; i < n; i++)
        {
            list.Add(new KeyValuePair<NetAddress, KeyStat>(records[ids[i]].Address, Snapshot(ids[i])));
        }

        return list;
    }

    /// <summary>Starts loading the index slot where an address with this hash (<see cref="NetAddress.Hash64"/>) is looked up first.</summary>
    internal void Prefetch(ulong hash) => Internals.Prefetch.Line(ref _index[(int)hash & _mask]);

    /// <summary>Starts loading the record the index slot of <paramref name="hash"/> points to, when its hash bits match (the slot itself should be in cache by now: see <see cref="Prefetch"/>).</summary>
    internal void PrefetchRecord(ulong hash)
    {
        ulong e = _index[(int)hash & _mask];
        if (e != 0 && (uint)(e >> 32) == (uint)(hash >> 32))
        {
            Internals.Prefetch.Line(ref _records[(int)(uint)e - 1]);
        }
    }

    /// <summary>Counts one entry for <paramref name="address"/>, whose <see cref="NetAddress.Hash64"/> is <paramref name="hash"/>; returns the address's dense id (0, 1, … in order of first sight).</summary>
    internal int Add(NetAddress address, ulong hash, long copies, long attempts, in Stamp time)
    {
        int id = _last >= 0 && _records[_last].Address.Equals(address) ? _last : Find(address, hash);
        _last = id;
        Update(ref _records[id], copies, attempts, in time);
        return id;
    }

    /// <summary>
    /// Past the key budget: counts one entry for <paramref name="address"/> (Space-Saving: a new destination takes the
    /// record of the one with the fewest entries, and its counts as its error) and adds it to the distinct count.
    /// </summary>
    internal void AddSketched(NetAddress address, ulong hash, long copies, long attempts, in Stamp time)
    {
        _distinct!.Add(hash);
        int id = _last >= 0 && _records[_last].Address.Equals(address) ? _last : Lookup(address, hash);
        if (id < 0)
        {
            id = Replace(address, hash);
        }

        _last = id;
        Update(ref _records[id], copies, attempts, in time);
        SiftDown(_heapAt![id]);
    }

    /// <summary>Keeps at most <paramref name="capacity"/> destinations from now on (the most frequent), and counts distinct ones with a HyperLogLog sketch of 2^<paramref name="precision"/> registers.</summary>
    internal void ToBounded(int capacity, int precision)
    {
        capacity = Math.Max(1, capacity);
        _distinct = new HyperLogLog(precision);
        for (int id = 0; id < _held; id++)
        {
            _distinct.Add(_records[id].Address.Hash64);
        }

        if (_held > capacity)
        {
            int[] order = new int[_held];
            for (int i = 0; i < order.Length; i++)
            {
                order[i] = i;
            }

            Record[] old = _records;
            Array.Sort(order, (a, b) => old[b].Count.CompareTo(old[a].Count));
            var kept = new Record[capacity];
            for (int i = 0; i < order.Length; i++)
            {
                if (i < capacity)
                {
                    kept[i] = old[order[i]];
                }
                else
                {
                    _droppedMax = Math.Max(_droppedMax, old[order[i]].Count);
                    _dropped++;
                }
            }

            _records = kept;
            _held = capacity;
        }
        else if (_records.Length != capacity)
        {
            Array.Resize(ref _records, capacity);
        }

        int size = 256;
        while (size < 2 * capacity)
        {
            size *= 2;
        }

        _index = new ulong[size];
        _mask = size - 1;
        for (int id = 0; id < _held; id++)
        {
            Place(_records[id].Address.Hash64, id);
        }

        _errors = new long[capacity];
        _heap = new int[capacity];
        _heapAt = new int[capacity];
        for (int i = 0; i < _held; i++)
        {
            _heap[i] = i;
            _heapAt[i] = i;
        }

        for (int i = (_held / 2) - 1; i >= 0; i--)
        {
            SiftDown(i);
        }

        _last = -1;
    }

    /// <summary>Past the key budget: adds every destination of <paramref name="other"/> (errors added; destinations one side lacks may have had up to its <see cref="MaxError"/>).</summary>
    internal void MergeSketched(DestinationStats other)
    {
        long mine = MaxError;
        long theirs = other.MaxError;
        if (other._distinct is { } d)
        {
            _distinct!.UnionWith(d);
        }

        bool[]? touched = theirs > 0 ? new bool[_records.Length] : null;
        for (int o = 0; o < other._held; o++)
        {
            ref Record t = ref other._records[o];
            ulong hash = t.Address.Hash64;
            if (other._distinct is null)
            {
                _distinct!.Add(hash);
            }

            int id = Lookup(t.Address, hash);
            long error = other._errors?[o] ?? 0;
            if (id < 0)
            {
                bool room = _held < _records.Length;
                id = Replace(t.Address, hash);
                if (room && mine > 0)
                {
                    error += mine;
                    _records[id].Count += mine;
                    _records[id].Attempts += mine;
                }
            }

            ref Record r = ref _records[id];
            r.Count += t.Count;
            r.Attempts += t.Attempts;
            _errors![id] += error;
            MergeTimes(ref r, in t);
            SiftDown(_heapAt![id]);
            touched?[id] = true;
        }

        if (touched is not null)
        {
            for (int id = 0; id < _held; id++)
            {
                if (!touched[id])
                {
                    _records[id].Count += theirs;
                    _records[id].Attempts += theirs;
                    _errors![id] += theirs;
                }
            }

            for (int i = (_held / 2) - 1; i >= 0; i--)
            {
                SiftDown(i);
            }
        }

        _droppedMax = Math.Max(_droppedMax, mine + theirs);
        _dropped += other._dropped;
        _last = -1;
    }

    /// <summary>A record for a destination not kept: a free one, or the one with the fewest entries, whose counts the new one inherits as its error.</summary>
    private int Replace(NetAddress address, ulong hash)
    {
        int id;
        if (_held < _records.Length)
        {
            id = _held++;
            _records[id] = new Record { Address = address, First = long.MaxValue, Last = long.MinValue };
            _heap![id] = id;
            _heapAt![id] = id;
            _errors![id] = 0;
            Place(hash, id);
            SiftUp(id);
            return id;
        }

        id = _heap![0];
        ref Record r = ref _records[id];
        Unplace(r.Address.Hash64, id);
        _droppedMax = Math.Max(_droppedMax, r.Count);
        _dropped++;
        _errors![id] = r.Count;
        r = new Record { Address = address, Count = r.Count, Attempts = r.Attempts, First = long.MaxValue, Last = long.MinValue };
        Place(hash, id);
        return id;
    }

    /// <summary>Removes the index slot of record <paramref name="id"/> (linear-probing deletion by backward shift).</summary>
    private void Unplace(ulong hash, int id)
    {
        int hole = (int)hash & _mask;
        while ((uint)_index[hole] != (uint)(id + 1))
        {
            hole = (hole + 1) & _mask;
        }

        int j = hole;
        while (true)
        {
            j = (j + 1) & _mask;
            ulong e = _index[j];
            if (e == 0)
            {
                break;
            }

            int home = (int)_records[(int)(uint)e - 1].Address.Hash64 & _mask;
            bool reachable = hole <= j ? hole < home && home <= j : hole < home || home <= j;
            if (!reachable)
            {
                _index[hole] = e;
                hole = j;
            }
        }

        _index[hole] = 0;
    }

    private void SiftDown(int i)
    {
        int[] heap = _heap!;
        int n = _held;
        while (true)
        {
            int left = (2 * i) + 1;
            if (left >= n)
            {
                return;
            }

            int child = left + 1 < n && _records[heap[left + 1]].Count < _records[heap[left]].Count ? left + 1 : left;
            if (_records[heap[child]].Count >= _records[heap[i]].Count)
            {
                return;
            }

            Swap(i, child);
            i = child;
        }
    }

    private void SiftUp(int i)
    {
        int[] heap = _heap!;
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (_records[heap[parent]].Count <= _records[heap[i]].Count)
            {
                return;
            }

            Swap(i, parent);
            i = parent;
        }
    }

    private void Swap(int a, int b)
    {
        int[] heap = _heap!;
        (heap[a], heap[b]) = (heap[b], heap[a]);
        _heapAt![heap[a]] = a;
        _heapAt[heap[b]] = b;
    }

    private static void MergeTimes(ref Record r, in Record theirs)
    {
        if (theirs.First != long.MaxValue && r.First != long.MaxValue && (theirs.FirstOffset == UptimeMark) != (r.FirstOffset == UptimeMark))
        {
            // one clock per destination: the wall clock wins
            if (r.FirstOffset == UptimeMark)
            {
                (r.First, r.FirstOffset, r.Last, r.LastOffset) = (theirs.First, theirs.FirstOffset, theirs.Last, theirs.LastOffset);
            }

            return;
        }

        if (theirs.First < r.First)
        {
            r.First = theirs.First;
            r.FirstOffset = theirs.FirstOffset;
        }

        if (theirs.Last > r.Last)
        {
            r.Last = theirs.Last;
            r.LastOffset = theirs.LastOffset;
        }
    }

    private static void Update(ref Record r, long copies, long attempts, in Stamp time)
    {
        r.Count += copies;
        r.Attempts += attempts;
        if (time.HasTime)
        {
            if (r.FirstOffset == UptimeMark)
            {
                // times since boot so far: a wall-clock time replaces them (the report shows one clock per row)
                r.First = long.MaxValue;
                r.Last = long.MinValue;
                r.FirstOffset = r.LastOffset = 0;
            }

            if (time.Ticks < r.First)
            {
                r.First = time.Ticks;
                r.FirstOffset = (short)time.Offset.TotalMinutes;
            }

            if (time.Ticks > r.Last)
            {
                r.Last = time.Ticks;
                r.LastOffset = (short)time.Offset.TotalMinutes;
            }
        }
        else if (time.HasUptime && (r.FirstOffset == UptimeMark || r.First == long.MaxValue))
        {
            // no wall-clock time for this destination (yet): its times since boot
            r.First = Math.Min(r.First, time.Uptime);
            r.Last = Math.Max(r.Last, time.Uptime);
            r.FirstOffset = r.LastOffset = UptimeMark;
        }
    }

    /// <summary>Adds every destination of <paramref name="other"/>; returns the map from its ids to ours.</summary>
    internal int[] Merge(DestinationStats other)
    {
        int[] ids = new int[other._held];
        for (int o = 0; o < other._held; o++)
        {
            ref Record theirs = ref other._records[o];
            int id = Find(theirs.Address);
            ref Record r = ref _records[id];
            r.Count += theirs.Count;
            r.Attempts += theirs.Attempts;
            MergeTimes(ref r, in theirs);
            ids[o] = id;
        }

        return ids;
    }

    private KeyStat Snapshot(int id)
    {
        ref Record r = ref _records[id];
        var stat = new KeyStat();
        stat.Load(r.Count, r.Attempts, r.First, r.FirstOffset, r.Last, r.LastOffset, r.FirstOffset == UptimeMark, _errors?[id] ?? 0);
        return stat;
    }

    private int Lookup(NetAddress address, ulong hash)
    {
        uint tag = (uint)(hash >> 32);
        int i = (int)hash & _mask;
        while (true)
        {
            ulong e = _index[i];
            if (e == 0)
            {
                return -1;
            }

            if ((uint)(e >> 32) == tag && _records[(int)(uint)e - 1].Address.Equals(address))
            {
                return (int)(uint)e - 1;
            }

            i = (i + 1) & _mask;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Find(NetAddress address) => Find(address, address.Hash64);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Find(NetAddress address, ulong hash)
    {
        int id = Lookup(address, hash);
        return id >= 0 ? id : New(address, hash);
    }

    private int New(NetAddress address, ulong hash)
    {
        if (2 * (_held + 1) > _index.Length)
        {
            ulong[] old = _index;
            _index = new ulong[old.Length * 2];
            _mask = _index.Length - 1;
            for (int id = 0; id < _held; id++)
            {
                Place(_records[id].Address.Hash64, id);
            }
        }

        if (_held == _records.Length)
        {
            Array.Resize(ref _records, _records.Length * 2);
        }

        int newId = _held++;
        _records[newId] = new Record { Address = address, First = long.MaxValue, Last = long.MinValue };
        Place(hash, newId);
        return newId;
    }

    private void Place(ulong hash, int id)
    {
        int i = (int)hash & _mask;
        while (_index[i] != 0)
        {
            i = (i + 1) & _mask;
        }

        _index[i] = (hash & 0xFFFF_FFFF_0000_0000UL) | (uint)(id + 1);
    }

    /// <summary>In <see cref="Record.FirstOffset"/> and <see cref="Record.LastOffset"/>: First and Last are times since boot (no UTC offset is this far out).</summary>
    private const short UptimeMark = short.MinValue;

    /// <summary>One destination: 64 bytes, one cache line.</summary>
    private struct Record
    {
        public NetAddress Address;
        public long Count;
        public long Attempts;
        public long First; // UTC ticks; ticks since boot when the offsets are UptimeMark
        public long Last;
        public short FirstOffset; // minutes
        public short LastOffset;
    }
}
