using System.Text;
using MailGuard.Parsing.Internals;

namespace MailGuard.Parsing;

/// <summary>
/// The histograms of the selected entries: per destination, destination port, UID, source, interface and
/// prefix, and over time (<see cref="Timeline"/>), with count, first/last time and distinct destinations for each key. Two instances built from
/// two inputs <see cref="Merge"/> to the same result as one instance over both.
/// </summary>
/// <remarks>
/// Adding an entry allocates only when a key is seen for the first time (and its name, for interfaces
/// and prefixes). Not thread-safe: one instance per thread, merged at the end.
/// </remarks>
public sealed class TrafficStats
{
    private readonly AttemptTracker _attempts;
    private readonly LastName _out = new();
    private readonly LastName _in = new();
    private readonly LastName _prefix = new();

    /// <summary>Creates empty statistics.</summary>
    /// <param name="options">Settings; defaults when null.</param>
    public TrafficStats(TrafficStatsOptions? options = null)
    {
        Options = options ?? new TrafficStatsOptions();
        _attempts = new AttemptTracker(Options.RetryWindow.Ticks);
    }

    /// <summary>The settings in use.</summary>
    public TrafficStatsOptions Options { get; }

    /// <summary>Per destination address (<c>DST=</c>).</summary>
    public DestinationStats Destinations { get; } = new();

    /// <summary>Per destination port (<c>DPT=</c>); entries without ports are not counted here.</summary>
    public KeyStats<ushort> Ports { get; } = new(trackDestinations: true);

    /// <summary>Per UID (<c>UID=</c>); see <see cref="WithoutUid"/> for entries without one.</summary>
    public KeyStats<uint> Uids { get; } = new(trackDestinations: true, actor: true);

    /// <summary>Entries without <c>UID=</c> (rule without <c>--log-uid</c>, forwarded or kernel-generated packets).</summary>
    public KeyStat WithoutUid { get; } = new();

    /// <summary>Per source address (<c>SRC=</c>).</summary>
    public KeyStats<NetAddress> Sources { get; } = new(trackDestinations: true, actor: true);

    /// <summary>Per output interface (<c>OUT=</c>; empty for packets to the host).</summary>
    public KeyStats<string> OutInterfaces { get; } = new(trackDestinations: true, actor: true);

    /// <summary>Per input interface (<c>IN=</c>; empty for locally generated packets).</summary>
    public KeyStats<string> InInterfaces { get; } = new(trackDestinations: true, actor: true);

    /// <summary>Per log prefix (trailing spaces removed).</summary>
    public KeyStats<string> Prefixes { get; } = new(trackDestinations: true);

    /// <summary>All entries together: count, time range, distinct destinations.</summary>
    public KeyStat All { get; } = new();

    /// <summary>All entries over time, per minute (packets; <see cref="KeyStat.AttemptTimeline"/> of <see cref="All"/> has the attempts).</summary>
    public Timeline Timeline { get; } = new();

    /// <summary>Selected entries that came in from another host and were forwarded (<c>IN=</c> and <c>OUT=</c> both set: a VPN, a container, a LAN client).</summary>
    public KeyStat Forwarded { get; } = new();

    private readonly Dictionary<int, (byte[] Bytes, string Name)> _names = [];

    /// <summary>Adds one parsed entry (<see cref="LineKind.Entry"/>), counted <see cref="LogRecord.Copies"/> times.</summary>
    /// <param name="record">The parsed line.</param>
    public void Add(ref LogRecord record)
    {
        long copies = record.Copies;
        var time = new Stamp(record.Envelope.Time);
        ref readonly NetfilterPacket p = ref record.Entry.Packet;
        NetAddress dst = p.Dst;
        int port = p.Has(NetfilterFields.Ports) ? p.Dpt : -1;
        long clock = time.HasTime ? time.Ticks : record.Envelope.Uptime?.Ticks ?? 0;
        long attempts = port < 0 || _attempts.IsNew(p.Src, dst, p.Spt, p.Dpt, clock) ? 1 : 0;

        int dstId = p.Has(NetfilterFields.Dst) ? Destinations.Add(dst, copies, attempts, in time) : -1;

        All.Add(copies, attempts, in time, dstId, trackDestinations: true);
        All.AddDetail(port, copies, attempts, in time);
        Timeline.Add(in time, copies);
        if (p.Has(NetfilterFields.Src))
        {
            Sources.Add(p.Src, copies, attempts, in time, dstId, port);
        }

        if (port >= 0)
        {
            Ports.Add(p.Dpt, copies, attempts, in time, dstId, port);
        }

        if (record.Entry.Has(NetfilterFields.Uid))
        {
            KeyStat uid = Uids.Add(record.Entry.Uid, copies, attempts, in time, dstId, port);
            if (record.Entry.Has(NetfilterFields.Gid))
            {
                uid.Gid = record.Entry.Gid;
            }
        }
        else
        {
            WithoutUid.Add(copies, attempts, in time, dstId, trackDestinations: true);
            WithoutUid.AddDetail(port, copies, attempts, in time);
        }

        ReadOnlySpan<byte> msg = record.Envelope.Message;
        ReadOnlySpan<byte> inName = record.Entry.In.Slice(msg);
        ReadOnlySpan<byte> outName = record.Entry.Out.Slice(msg);
        OutInterfaces.Record(_out.Stat(this, OutInterfaces, outName), copies, attempts, in time, dstId, port);
        KeyStat inStat = InInterfaces.Record(_in.Stat(this, InInterfaces, inName), copies, attempts, in time, dstId, port);
        Prefixes.Record(_prefix.Stat(this, Prefixes, record.Entry.Prefix.Slice(msg).TrimEnd((byte)' ')), copies, attempts, in time, dstId, port);
        if (!inName.IsEmpty && !outName.IsEmpty)
        {
            inStat.AddSource(p.Src);
            Forwarded.Add(copies, attempts, in time, dstId, trackDestinations: true);
            Forwarded.AddDetail(port, copies, attempts, in time);
        }
    }

    /// <summary>
    /// Remembers the flow of an entry that is counted elsewhere (a <see cref="LineKind.Duplicate"/>: the
    /// same line in another input, or the lead-in of a parallel chunk), so that its retransmissions are not
    /// taken for new attempts. Counts nothing.
    /// </summary>
    /// <param name="record">The parsed line.</param>
    public void Observe(ref LogRecord record)
    {
        ref readonly NetfilterPacket p = ref record.Entry.Packet;
        if (p.Has(NetfilterFields.Ports))
        {
            _attempts.IsNew(p.Src, p.Dst, p.Spt, p.Dpt, record.Envelope.Time?.UtcTicks ?? record.Envelope.Uptime?.Ticks ?? 0);
        }
    }

    /// <summary>The KeyStat of the name a field had on the previous entry: most entries repeat it, so the bytes are compared, not hashed and looked up.</summary>
    private sealed class LastName
    {
        private byte[] _bytes = new byte[64];
        private int _length = -1;
        private KeyStat? _stat;

        public KeyStat Stat(TrafficStats owner, KeyStats<string> stats, ReadOnlySpan<byte> name)
        {
            if (_stat is not null && name.SequenceEqual(_bytes.AsSpan(0, _length)))
            {
                return _stat;
            }

            _stat = stats.Get(owner.Name(name), out _);
            if (name.Length > _bytes.Length)
            {
                _bytes = new byte[name.Length];
            }

            name.CopyTo(_bytes);
            _length = name.Length;
            return _stat;
        }
    }

    /// <summary>Adds everything of <paramref name="other"/> to this instance.</summary>
    /// <remarks>Attempts add up: a retransmission series split across the two parts counts in both.</remarks>
    /// <param name="other">Statistics of another input or another part of the same input.</param>
    public void Merge(TrafficStats other)
    {
        ArgumentNullException.ThrowIfNull(other);

        // The other instance numbered its destinations its own way: map its ids to ours first.
        int[] ids = Destinations.Merge(other.Destinations);
        Ports.Merge(other.Ports, ids);
        Uids.Merge(other.Uids, ids);
        WithoutUid.Merge(other.WithoutUid, ids);
        Sources.Merge(other.Sources, ids);
        OutInterfaces.Merge(other.OutInterfaces, ids);
        InInterfaces.Merge(other.InInterfaces, ids);
        Prefixes.Merge(other.Prefixes, ids);
        All.Merge(other.All, ids);
        Timeline.Merge(other.Timeline);
        Forwarded.Merge(other.Forwarded, ids);
    }

    /// <summary>Interns byte names (interfaces, prefixes): a name seen before costs no allocation, whatever its encoding.</summary>
    private string Name(ReadOnlySpan<byte> bytes)
    {
        var hc = default(HashCode);
        hc.AddBytes(bytes);
        int hash = hc.ToHashCode();
        while (_names.TryGetValue(hash, out (byte[] Bytes, string Name) known))
        {
            if (known.Bytes.AsSpan().SequenceEqual(bytes))
            {
                return known.Name;
            }

            hash++; // a collision: probe the next slot
        }

        // Raw bytes (a Latin-1 prefix) are shown as the UTF-8 replacement text, but keyed by their bytes.
        string name = Encoding.UTF8.GetString(bytes);
        _names[hash] = (bytes.ToArray(), name);
        return name;
    }
}
