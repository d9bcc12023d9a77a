using System.Diagnostics.CodeAnalysis;

namespace MailGuard.Parsing;

/// <summary>
/// One netfilter LOG message (iptables <c>LOG</c>, nftables <c>log</c>), parsed into values without
/// allocating. Text fields are <see cref="ByteRange"/>s into the span that was parsed; numbers and
/// addresses are values. A field is meaningful only when its flag is set in <see cref="Fields"/>.
/// </summary>
public struct NetfilterEntry
{
    internal NetfilterPacket _packet;
    internal NetfilterPacket _inner;
    internal NetfilterFields _fields;

    /// <summary>Every field the line holds: the link-level and trailer fields plus those of <see cref="Packet"/>.</summary>
    public readonly NetfilterFields Fields => _fields | _packet.Fields;

    /// <summary>True when <see cref="Fields"/> has all of <paramref name="fields"/>.</summary>
    /// <param name="fields">One or more flags.</param>
    /// <returns>True when every flag is set.</returns>
    public readonly bool Has(NetfilterFields fields) => (Fields & fields) == fields;

    /// <summary>The rule's log prefix, verbatim (possibly empty; the kernel adds no separator before <c>IN=</c>).</summary>
    public ByteRange Prefix { get; internal set; }

    /// <summary><c>IN=</c>: the input interface (empty for locally generated packets).</summary>
    public ByteRange In { get; internal set; }

    /// <summary><c>OUT=</c>: the output interface (empty for packets to the local host).</summary>
    public ByteRange Out { get; internal set; }

    /// <summary><c>PHYSIN=</c>: the bridge port the packet came in on.</summary>
    public ByteRange PhysIn { get; internal set; }

    /// <summary><c>PHYSOUT=</c>: the bridge port the packet goes out on.</summary>
    public ByteRange PhysOut { get; internal set; }

    /// <summary><c>MAC=</c>: the raw link header as colon-separated hex (destination, source, EtherType for Ethernet), possibly empty.</summary>
    public ByteRange Mac { get; internal set; }

    /// <summary><c>MACSRC=</c> of the decoded Ethernet header.</summary>
    public ByteRange MacSrc { get; internal set; }

    /// <summary><c>MACDST=</c> of the decoded Ethernet header.</summary>
    public ByteRange MacDst { get; internal set; }

    /// <summary><c>MACPROTO=</c>: the EtherType of the decoded Ethernet header.</summary>
    public ushort MacProto { get; internal set; }

    /// <summary><c>VPROTO=</c>: the VLAN protocol.</summary>
    public ushort VlanProto { get; internal set; }

    /// <summary><c>VID=</c>: the VLAN id.</summary>
    public ushort VlanId { get; internal set; }

    /// <summary><c>TUNNEL=a-&gt;b</c> text of a SIT tunnel device.</summary>
    public ByteRange Tunnel { get; internal set; }

    /// <summary>The logged packet's network and transport fields.</summary>
    [UnscopedRef]
    public readonly ref readonly NetfilterPacket Packet => ref _packet;

    /// <summary>The packet quoted inside an ICMP / ICMPv6 error (<c>[ … ]</c>); never to be confused with the outer packet.</summary>
    [UnscopedRef]
    public readonly ref readonly NetfilterPacket InnerPacket => ref _inner;

    /// <summary><c>SRC=</c> of the logged packet (shortcut for <c>Packet.Src</c>).</summary>
    public readonly NetAddress Src => _packet.Src;

    /// <summary><c>DST=</c> of the logged packet (shortcut for <c>Packet.Dst</c>).</summary>
    public readonly NetAddress Dst => _packet.Dst;

    /// <summary><c>PROTO=</c> of the logged packet (shortcut for <c>Packet.Proto</c>).</summary>
    public readonly NetfilterProtocol Proto => _packet.Proto;

    /// <summary><c>SPT=</c> of the logged packet (shortcut for <c>Packet.Spt</c>).</summary>
    public readonly ushort Spt => _packet.Spt;

    /// <summary><c>DPT=</c> of the logged packet (shortcut for <c>Packet.Dpt</c>).</summary>
    public readonly ushort Dpt => _packet.Dpt;

    /// <summary><c>UID=</c>: the file-system UID owning the local socket (rules with <c>--log-uid</c> / <c>flags skuid</c>).</summary>
    public uint Uid { get; internal set; }

    /// <summary><c>GID=</c>: the file-system GID owning the local socket.</summary>
    public uint Gid { get; internal set; }

    /// <summary><c>MARK=</c>: the packet mark (printed only when non-zero).</summary>
    public uint Mark { get; internal set; }

    /// <summary>ARP <c>HTYPE=</c>.</summary>
    public ushort ArpHType { get; internal set; }

    /// <summary>ARP <c>PTYPE=</c>.</summary>
    public ushort ArpPType { get; internal set; }

    /// <summary>ARP <c>OPCODE=</c>.</summary>
    public ushort ArpOpcode { get; internal set; }

    /// <summary>ARP sender hardware address (<c>MACSRC=</c> after <c>OPCODE=</c>).</summary>
    public ByteRange ArpMacSrc { get; internal set; }

    /// <summary>ARP target hardware address (<c>MACDST=</c> after <c>OPCODE=</c>).</summary>
    public ByteRange ArpMacDst { get; internal set; }

    /// <summary>ARP <c>IPSRC=</c>.</summary>
    public NetAddress ArpIpSrc { get; internal set; }

    /// <summary>ARP <c>IPDST=</c>.</summary>
    public NetAddress ArpIpDst { get; internal set; }

    /// <summary>For a <see cref="NetfilterParseStatus.Malformed"/> message, the offset where parsing stopped; otherwise -1.</summary>
    public int ErrorOffset { get; internal set; }

    /// <summary>For a <see cref="NetfilterParseStatus.Malformed"/> message, what went wrong.</summary>
    public NetfilterError Error { get; internal set; }
}
