using System.Runtime.InteropServices;

namespace MailGuard.Parsing.Internals;

/// <summary>
/// Tells a new connection attempt from a retransmission: remembers when each flow (SRC, SPT, DST, DPT)
/// was last seen, for the retry window; older flows are forgotten, so memory holds only the flows of the
/// last two windows at most (a flow seen again is put back at the end of the queue, behind newer ones)
/// and never more than <see cref="MaxFlows"/>. A flow is kept as a 64-bit fingerprint (24 bytes an
/// entry instead of 80): two different flows of one window share a fingerprint with a chance of about
/// n²/2⁶⁵ (n = 250,000 flows: 2·10⁻⁹), and would then count as one attempt.
/// </summary>
internal sealed class AttemptTracker(long window)
{
    /// <summary>The most flows remembered (for logs without times, where nothing ages).</summary>
    public const int MaxFlows = 1 << 20;

    private readonly Dictionary<ulong, long> _lastSeen = [];
    private readonly Queue<(long Time, ulong Flow)> _order = new();

    public int Remembered => _lastSeen.Count;

    /// <summary>Records a packet; true when it starts a new attempt.</summary>
    public bool IsNew(NetAddress src, NetAddress dst, ushort spt, ushort dpt, long time)
    {
        ulong flow = NetAddress.Mix64(src.Hash64 ^ (dst.Hash64 * 0x9E3779B97F4A7C15UL) ^ ((ulong)spt << 16) ^ dpt);
        ref long last = ref CollectionsMarshal.GetValueRefOrAddDefault(_lastSeen, flow, out bool known);
        bool isNew = !known || time - last > window || time < last - window;
        if (!known)
        {
            _order.Enqueue((time, flow));
        }

        last = time;
        Forget(time);
        return isNew;
    }

    private void Forget(long now)
    {
        while (_order.TryPeek(out (long Time, ulong Flow) oldest) && (oldest.Time < now - window || _order.Count > MaxFlows))
        {
            _order.Dequeue();
            if (_lastSeen.TryGetValue(oldest.Flow, out long seen) && seen >= now - window && _order.Count < MaxFlows)
            {
                _order.Enqueue((seen, oldest.Flow)); // seen again since: keep it, in its new place
            }
            else
            {
                _lastSeen.Remove(oldest.Flow);
            }
        }
    }
}
