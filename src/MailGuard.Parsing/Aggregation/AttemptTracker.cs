namespace MailGuard.Parsing.Internals;

/// <summary>
/// Tells a new connection attempt from a retransmission: remembers when each flow (SRC, SPT, DST, DPT)
/// was last seen, for the retry window.
/// </summary>
/// <remarks>
/// One open-addressing table of 8-byte slots, at most half full: a packet costs one probe sequence,
/// usually one cache line (a <see cref="Dictionary{TKey, TValue}"/> and a queue touched three or more,
/// at 44 bytes a flow; here 16 to 32). A slot holds a 47-bit fingerprint of the flow and its last time
/// in eighths of a second modulo 2¹⁶ (so whole-second syslog times compare exactly; finer times are
/// told within 1/8 s of the window's edge; a window under 8 s or over 17 minutes is cut into 4,096
/// units instead). Two different flows of one window share a fingerprint with a chance of about
/// n²/2⁴⁸ (n = 250,000 flows: 2·10⁻⁴) and would then count as one attempt. Once per window of log time
/// the flows last seen over a window before the latest time are deleted in place, so the table holds
/// the flows of two windows at most. Should more flows than the most kept be live then (a log
/// without times, where nothing ages, or a flood of flows), all are forgotten: their next packets count as new attempts,
/// at most one more attempt for each flow forgotten (<see cref="Forgotten"/>).
/// </remarks>
internal sealed class AttemptTracker
{
    /// <summary>The most flows kept by default (a table of 4 M slots, 32 MB, at most).</summary>
    public const int DefaultMaxFlows = 1 << 20;

    private readonly int _maxFlows;

    private const int MinSlots = 1024;

    private readonly long _unit; // ticks per time unit
    private readonly int _units; // the window, in time units
    private ulong[] _slots = new ulong[MinSlots]; // fingerprint << 16 | time unit; 0: empty
    private int _mask = MinSlots - 1;
    private int _count;
    private long _latest = long.MinValue;
    private long _rebuildAfter = long.MinValue;

    public AttemptTracker(long window, int maxFlows = DefaultMaxFlows)
    {
        _maxFlows = Math.Max(1024, maxFlows);
        // Eighths of a second: times that are whole seconds (syslog) or eighths compare exactly. A window under
        // 8 s or over 17 minutes is cut into 4,096 units instead, so that two windows fit in 16 bits.
        _unit = TimeSpan.TicksPerSecond / 8;
        if (window < 64 * _unit || window > 8192 * _unit)
        {
            _unit = Math.Max(1, window / 4096);
        }

        _units = (int)(window / _unit);
        Window = window;
    }

    /// <summary>The retry window, in ticks.</summary>
    public long Window { get; }

    /// <summary>Flows remembered now.</summary>
    public int Remembered => _count;

    /// <summary>Live flows forgotten because more than the most kept were live at once: the attempts may be over by at most this.</summary>
    public long Forgotten { get; set; }

    /// <summary>Records a packet; true when it starts a new attempt.</summary>
    public bool IsNew(NetAddress src, NetAddress dst, ushort spt, ushort dpt, long time, int host = 0) => IsNew(Fingerprint(src, dst, spt, dpt, host), time);

    /// <summary>The flow's fingerprint as kept in a slot (never 0); <paramref name="host"/> numbers the machine that logged it (two hosts' flows are two flows), 0 for the first.</summary>
    public static ulong Fingerprint(NetAddress src, NetAddress dst, ushort spt, ushort dpt, int host = 0) =>
        (NetAddress.Mix64(src.Hash64 ^ (dst.Hash64 * 0x9E3779B97F4A7C15UL) ^ ((ulong)spt << 16) ^ dpt ^ ((ulong)host * 0xD6E8FEB86659FD93UL)) & ~0xFFFFUL) | 0x10000;

    /// <summary>Starts loading the slot where <paramref name="fingerprint"/> is looked up first.</summary>
    public void Prefetch(ulong fingerprint) => Internals.Prefetch.Line(ref _slots[Home(fingerprint, _mask)]);

    /// <summary>Records a packet of the flow with this <see cref="Fingerprint"/>; true when it starts a new attempt.</summary>
    public bool IsNew(ulong fingerprint, long time)
    {
        ulong unit = (ulong)(time / _unit) & 0xFFFF;
        if (time > _latest)
        {
            _latest = time;
            if (_rebuildAfter == long.MinValue)
            {
                _rebuildAfter = time + Window;
            }
            else if (time > _rebuildAfter)
            {
                Rebuild(grow: false);
                _rebuildAfter = time + Window;
            }
        }

        ulong[] slots = _slots;
        int i = Home(fingerprint, _mask);
        while (true)
        {
            ulong s = slots[i];
            if ((s & ~0xFFFFUL) == fingerprint)
            {
                int apart = (short)(ushort)(unit - s); // how many units since the flow was last seen (negative: before)
                slots[i] = fingerprint | unit;
                return apart > _units || apart < -_units;
            }

            if (s == 0)
            {
                if (2 * (_count + 1) > slots.Length)
                {
                    Rebuild(grow: true);
                    Insert(_slots, _mask, fingerprint | unit);
                }
                else
                {
                    slots[i] = fingerprint | unit;
                }

                _count++;
                return true;
            }

            i = (i + 1) & _mask;
        }
    }

    private static int Home(ulong slot, int mask) => (int)(slot >> 40) & mask;

    private bool Stale(ulong slot, ulong latestUnit) => (short)(ushort)(latestUnit - slot) > _units;

    /// <summary>Drops the flows last seen over a window before the latest time; grows the table when those left fill a quarter of it.</summary>
    private void Rebuild(bool grow)
    {
        ulong latestUnit = (ulong)(_latest / _unit) & 0xFFFF;
        if (grow)
        {
            int live = 0;
            foreach (ulong s in _slots)
            {
                if (s != 0 && !Stale(s, latestUnit))
                {
                    live++;
                }
            }

            if (live > _maxFlows)
            {
                Array.Clear(_slots); // forget all
                Forgotten += live;
                _count = 0;
                return;
            }

            if (4 * live > _slots.Length)
            {
                ulong[] larger = new ulong[_slots.Length * 2];
                int mask = larger.Length - 1;
                foreach (ulong s in _slots)
                {
                    if (s != 0 && !Stale(s, latestUnit))
                    {
                        Insert(larger, mask, s);
                    }
                }

                _slots = larger;
                _mask = mask;
                _count = live;
                return;
            }
        }

        // In place: walk once round the table from an empty slot (no run of slots crosses it), deleting with
        // backward shift, so no tombstones are left and no second table is needed.
        ulong[] slots = _slots;
        int start = 0;
        while (slots[start] != 0)
        {
            start++;
        }

        int kept = 0;
        for (int k = 1; k <= slots.Length;)
        {
            int i = (start + k) & _mask;
            if (slots[i] == 0)
            {
                k++;
            }
            else if (Stale(slots[i], latestUnit))
            {
                DeleteAt(slots, _mask, i); // slot i now holds a later flow of its run, or nothing: look again
            }
            else
            {
                kept++;
                k++;
            }
        }

        _count = kept;
    }

    /// <summary>Linear-probing deletion: moves later flows of the run back so that every flow stays reachable from its home slot.</summary>
    private static void DeleteAt(ulong[] slots, int mask, int hole)
    {
        int j = hole;
        while (true)
        {
            j = (j + 1) & mask;
            if (slots[j] == 0)
            {
                break;
            }

            int home = Home(slots[j], mask);
            bool reachable = hole <= j ? hole < home && home <= j : hole < home || home <= j;
            if (!reachable)
            {
                slots[hole] = slots[j];
                hole = j;
            }
        }

        slots[hole] = 0;
    }

    private static void Insert(ulong[] slots, int mask, ulong slot)
    {
        int i = Home(slot, mask);
        while (slots[i] != 0)
        {
            i = (i + 1) & mask;
        }

        slots[i] = slot;
    }
}
