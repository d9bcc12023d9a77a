using System.Runtime.CompilerServices;

namespace MailGuard.Parsing.Internals;

/// <summary>
/// The per-destination histogram on the hot path: an open-addressing table whose 64-byte slot holds the
/// address, its dense id and its counts and times, so an entry touches one cache line for its destination
/// (a <see cref="Dictionary{TKey, TValue}"/> of <see cref="KeyStat"/> touched the bucket, the entry and the
/// object: three, for 100,000 destinations mostly out of cache). <see cref="TrafficStats.Destinations"/>
/// is made from it when asked for.
/// </summary>
internal sealed class DestinationTable
{
    private Slot[] _slots = new Slot[256];
    private int _mask = 255;
    private int _last = -1; // consecutive entries often share a destination

    /// <summary>Different destinations so far; their ids are 0..Count-1 in order of first sight.</summary>
    public int Count { get; private set; }

    /// <summary>Counts one entry for <paramref name="address"/>; returns the address's dense id.</summary>
    public int Add(NetAddress address, long copies, long attempts, in Stamp time)
    {
        ref Slot s = ref Find(address);
        s.Count += copies;
        s.Attempts += attempts;
        if (time.HasTime)
        {
            if (time.Ticks < s.First)
            {
                s.First = time.Ticks;
                s.FirstOffset = (short)time.Offset.TotalMinutes;
            }

            if (time.Ticks > s.Last)
            {
                s.Last = time.Ticks;
                s.LastOffset = (short)time.Offset.TotalMinutes;
            }
        }

        return s.Id - 1;
    }

    /// <summary>Adds every destination of <paramref name="other"/>; returns the map from its ids to ours.</summary>
    public int[] Merge(DestinationTable other)
    {
        int[] ids = new int[other.Count];
        foreach (Slot o in other._slots)
        {
            if (o.Id == 0)
            {
                continue;
            }

            ref Slot s = ref Find(o.Address);
            s.Count += o.Count;
            s.Attempts += o.Attempts;
            if (o.First < s.First)
            {
                s.First = o.First;
                s.FirstOffset = o.FirstOffset;
            }

            if (o.Last > s.Last)
            {
                s.Last = o.Last;
                s.LastOffset = o.LastOffset;
            }

            ids[o.Id - 1] = s.Id - 1;
        }

        return ids;
    }

    /// <summary>The histogram as <see cref="KeyStat"/> objects (made on demand: the report's, not the scan's, cost).</summary>
    public void CopyTo(KeyStats<NetAddress> target)
    {
        foreach (Slot s in _slots)
        {
            if (s.Id != 0)
            {
                target.Get(s.Address, out _).Load(s.Count, s.Attempts, s.First, s.FirstOffset, s.Last, s.LastOffset);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref Slot Find(NetAddress address)
    {
        Slot[] slots = _slots;
        if ((uint)_last < (uint)slots.Length && slots[_last].Address.Equals(address))
        {
            return ref slots[_last];
        }

        int i = (int)(address.Hash64 >> 32) & _mask;
        while (true)
        {
            ref Slot s = ref slots[i];
            if (s.Id == 0)
            {
                return ref New(address, i);
            }

            if (s.Address.Equals(address))
            {
                _last = i;
                return ref s;
            }

            i = (i + 1) & _mask;
        }
    }

    private ref Slot New(NetAddress address, int i)
    {
        if (2 * (Count + 1) > _slots.Length)
        {
            Grow();
            i = (int)(address.Hash64 >> 32) & _mask;
            while (_slots[i].Id != 0)
            {
                i = (i + 1) & _mask;
            }
        }

        Count++;
        _slots[i] = new Slot { Address = address, Id = Count, First = long.MaxValue, Last = long.MinValue };
        _last = i;
        return ref _slots[i];
    }

    private void Grow()
    {
        Slot[] old = _slots;
        _slots = new Slot[old.Length * 2];
        _mask = _slots.Length - 1;
        _last = -1;
        foreach (Slot s in old)
        {
            if (s.Id != 0)
            {
                int i = (int)(s.Address.Hash64 >> 32) & _mask;
                while (_slots[i].Id != 0)
                {
                    i = (i + 1) & _mask;
                }

                _slots[i] = s;
            }
        }
    }

    /// <summary>One destination: 64 bytes, one cache line.</summary>
    private struct Slot
    {
        public NetAddress Address;
        public long Count;
        public long Attempts;
        public long First; // UTC ticks
        public long Last;
        public int Id; // dense id + 1; 0 marks an empty slot
        public short FirstOffset; // minutes
        public short LastOffset;
    }
}
