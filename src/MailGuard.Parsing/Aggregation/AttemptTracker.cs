using System.Runtime.CompilerServices;

namespace MailGuard.Parsing.Internals;

/// <summary>
/// Tells a new connection attempt from a retransmission: remembers when each flow (SRC, SPT, DST, DPT)
/// was last seen, for the retry window. A flow is kept as a 64-bit fingerprint: two different flows of
/// one window share a fingerprint with a chance of about n²/2⁶⁵ (n = 250,000 flows: 2·10⁻⁹), and would
/// then count as one attempt.
/// </summary>
/// <remarks>
/// Two generations of open-addressing tables (16 bytes a slot, one cache line touched per lookup instead
/// of the bucket, entry and queue of a <see cref="Dictionary{TKey, TValue}"/>): new flows go into the
/// current one; when the log's time passes the current generation's start by a window, the previous
/// generation is dropped (every flow in it was last seen over a window ago) and the current one becomes
/// the previous. A flow found in the previous generation moves to the current one. So memory holds the
/// flows of two windows at most, and a generation never holds more than <see cref="MaxFlows"/> (for logs
/// without times, where nothing ages, the generations then turn over by count).
/// </remarks>
internal sealed class AttemptTracker(long window)
{
    /// <summary>The most flows one generation holds.</summary>
    public const int MaxFlows = 1 << 19;

    private Table _current = new();
    private Table _previous = new();
    private long _generationStart = long.MinValue;

    /// <summary>Flows remembered now (both generations).</summary>
    public int Remembered => _current.Count + _previous.Count;

    /// <summary>Records a packet; true when it starts a new attempt.</summary>
    public bool IsNew(NetAddress src, NetAddress dst, ushort spt, ushort dpt, long time)
    {
        ulong flow = NetAddress.Mix64(src.Hash64 ^ (dst.Hash64 * 0x9E3779B97F4A7C15UL) ^ ((ulong)spt << 16) ^ dpt);
        flow |= 1; // 0 marks an empty slot; the low bit is not used for the slot either
        if (_generationStart == long.MinValue)
        {
            _generationStart = time;
        }
        else if (time - _generationStart > window || _current.Count >= MaxFlows)
        {
            (_previous, _current) = (_current, _previous);
            _current.Clear();
            _generationStart = time;
        }

        ref long seen = ref _current.Find(flow, out bool known);
        if (known)
        {
            return Update(ref seen, time);
        }

        ref long before = ref _previous.Find(flow, out bool old);
        if (old)
        {
            long last = before;
            _current.Add(flow, last);
            return Update(ref _current.Find(flow, out _), time);
        }

        _current.Add(flow, time);
        return true;
    }

    private bool Update(ref long last, long time)
    {
        bool isNew = time - last > window || time < last - window;
        last = time;
        return isNew;
    }

    /// <summary>Fingerprint → time, linear probing, at most half full; no removal (a generation is cleared whole).</summary>
    private sealed class Table
    {
        private Slot[] _slots = new Slot[1024];
        private int _mask = 1023;

        public int Count { get; private set; }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ref long Find(ulong flow, out bool found)
        {
            Slot[] slots = _slots;
            int i = (int)(flow >> 40) & _mask;
            while (true)
            {
                ref Slot s = ref slots[i];
                if (s.Flow == flow)
                {
                    found = true;
                    return ref s.Seen;
                }

                if (s.Flow == 0)
                {
                    found = false;
                    return ref s.Seen;
                }

                i = (i + 1) & _mask;
            }
        }

        public void Add(ulong flow, long time)
        {
            if (2 * (Count + 1) > _slots.Length)
            {
                Grow();
            }

            int i = (int)(flow >> 40) & _mask;
            while (_slots[i].Flow != 0)
            {
                i = (i + 1) & _mask;
            }

            _slots[i] = new Slot { Flow = flow, Seen = time };
            Count++;
        }

        public void Clear()
        {
            if (Count > 0)
            {
                Array.Clear(_slots);
                Count = 0;
            }
        }

        private void Grow()
        {
            Slot[] old = _slots;
            _slots = new Slot[old.Length * 2];
            _mask = _slots.Length - 1;
            Count = 0;
            foreach (Slot s in old)
            {
                if (s.Flow != 0)
                {
                    Add(s.Flow, s.Seen);
                }
            }
        }
    }

    private struct Slot
    {
        public ulong Flow;
        public long Seen;
    }
}
