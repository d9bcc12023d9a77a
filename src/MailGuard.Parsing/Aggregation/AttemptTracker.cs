using System.Runtime.InteropServices;

namespace MailGuard.Parsing.Internals;

/// <summary>
/// Tells a new connection attempt from a retransmission: remembers when each flow (SRC, SPT, DST, DPT)
/// was last seen, for the retry window; older flows are forgotten, so memory holds only the flows of the
/// last window (and at most <see cref="MaxFlows"/>).
/// </summary>
internal sealed class AttemptTracker(long window)
{
    /// <summary>The most flows remembered (for logs without times, where nothing ages).</summary>
    public const int MaxFlows = 1 << 20;

    private readonly Dictionary<Flow, long> _lastSeen = [];
    private readonly Queue<(long Time, Flow Flow)> _order = new();

    public int Remembered => _lastSeen.Count;

    /// <summary>Records a packet; true when it starts a new attempt.</summary>
    public bool IsNew(NetAddress src, NetAddress dst, ushort spt, ushort dpt, long time)
    {
        var flow = new Flow(src, dst, spt, dpt);
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
        while (_order.TryPeek(out (long Time, Flow Flow) oldest) && (oldest.Time < now - window || _order.Count > MaxFlows))
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

    private readonly record struct Flow(NetAddress Src, NetAddress Dst, ushort Spt, ushort Dpt);
}
