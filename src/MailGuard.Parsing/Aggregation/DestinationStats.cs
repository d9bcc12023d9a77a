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

    internal DestinationStats()
    {
    }

    /// <summary>The number of different destinations.</summary>
    public int Count { get; private set; }

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
        if (top > 0 && Count / 4 > top)
        {
            // A few of many (the top 10 of 100,000): keep the best in a heap whose root is the worst kept; sized by
            // top, which is here below a quarter of the destinations, never by a huge request.
            var heap = new PriorityQueue<int, int>(top + 1, Comparer<int>.Create((a, b) => Order(b, a)));
            for (int id = 0; id < Count; id++)
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
            ids = new List<int>(Count);
            for (int id = 0; id < Count; id++)
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
        ref Record r = ref _records[id];
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

        return id;
    }

    /// <summary>Adds every destination of <paramref name="other"/>; returns the map from its ids to ours.</summary>
    internal int[] Merge(DestinationStats other)
    {
        int[] ids = new int[other.Count];
        for (int o = 0; o < other.Count; o++)
        {
            ref Record theirs = ref other._records[o];
            int id = Find(theirs.Address);
            ref Record r = ref _records[id];
            r.Count += theirs.Count;
            r.Attempts += theirs.Attempts;
            if (theirs.First != long.MaxValue && r.First != long.MaxValue && (theirs.FirstOffset == UptimeMark) != (r.FirstOffset == UptimeMark))
            {
                // one clock per destination: the wall clock wins
                if (r.FirstOffset == UptimeMark)
                {
                    (r.First, r.FirstOffset, r.Last, r.LastOffset) = (theirs.First, theirs.FirstOffset, theirs.Last, theirs.LastOffset);
                }
            }
            else
            {
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

            ids[o] = id;
        }

        return ids;
    }

    private KeyStat Snapshot(int id)
    {
        ref Record r = ref _records[id];
        var stat = new KeyStat();
        stat.Load(r.Count, r.Attempts, r.First, r.FirstOffset, r.Last, r.LastOffset, r.FirstOffset == UptimeMark);
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
        if (2 * (Count + 1) > _index.Length)
        {
            ulong[] old = _index;
            _index = new ulong[old.Length * 2];
            _mask = _index.Length - 1;
            for (int id = 0; id < Count; id++)
            {
                Place(_records[id].Address.Hash64, id);
            }
        }

        if (Count == _records.Length)
        {
            Array.Resize(ref _records, _records.Length * 2);
        }

        int newId = Count++;
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
