namespace MailGuard.Parsing;

/// <summary>
/// The network and transport layer part of a netfilter LOG message: what the kernel's IPv4/IPv6 printer
/// wrote. Used for the logged packet (<see cref="NetfilterEntry.Packet"/>) and, kept apart, for the
/// packet quoted inside an ICMP error (<see cref="NetfilterEntry.InnerPacket"/>).
/// </summary>
/// <remarks>
/// A field is meaningful only when its flag is set in <see cref="Fields"/>; otherwise it reads as zero.
/// Ranges are relative to the span that was parsed.
/// </remarks>
public struct NetfilterPacket
{
    /// <summary>The fields this packet holds.</summary>
    public NetfilterFields Fields { get; internal set; }

    /// <summary>For an inner packet, the text between <c>[</c> and <c>]</c>; for the outer packet, from <c>SRC=</c> to the end of the transport part.</summary>
    public ByteRange Range { get; internal set; }

    /// <summary><c>SRC=</c>: the source address.</summary>
    public NetAddress Src { get; internal set; }

    /// <summary><c>DST=</c>: the destination address.</summary>
    public NetAddress Dst { get; internal set; }

    /// <summary><c>LEN=</c> of the IP header: total length (IPv4), payload length + 40 (IPv6).</summary>
    public uint Len { get; internal set; }

    /// <summary><c>TOS=</c>: the TOS byte masked with 0x1E, as the kernel prints it (IPv4).</summary>
    public byte Tos { get; internal set; }

    /// <summary><c>PREC=</c>: the TOS byte masked with 0xE0 (IPv4).</summary>
    public byte Prec { get; internal set; }

    /// <summary><c>TTL=</c> (IPv4).</summary>
    public byte Ttl { get; internal set; }

    /// <summary><c>ID=</c>: the IPv4 identification field.</summary>
    public ushort Id { get; internal set; }

    /// <summary><c>CE</c>, <c>DF</c>, <c>MF</c> (IPv4); <c>MF</c> also for an IPv6 fragment header with <c>INCOMPLETE</c>.</summary>
    public IpFragmentFlags FragmentFlags { get; internal set; }

    /// <summary><c>FRAG:</c> as printed: IPv4 in 8-byte units, IPv6 in bytes.</summary>
    public uint Frag { get; internal set; }

    /// <summary>The text of the IP <c>OPT (…)</c> field (IPv4 option bytes in hex, or the IPv6 extension header list).</summary>
    public ByteRange IpOptions { get; internal set; }

    /// <summary><c>TC=</c>: IPv6 traffic class.</summary>
    public byte Tc { get; internal set; }

    /// <summary><c>HOPLIMIT=</c> (IPv6).</summary>
    public byte HopLimit { get; internal set; }

    /// <summary><c>FLOWLBL=</c>: IPv6 flow label.</summary>
    public uint FlowLabel { get; internal set; }

    /// <summary>IPv6 fragment header <c>ID:</c>.</summary>
    public uint FragmentId { get; internal set; }

    /// <summary><c>PROTO=</c>: the transport protocol number (named ones map to <see cref="NetfilterProtocol"/> members).</summary>
    public NetfilterProtocol Proto { get; internal set; }

    /// <summary><c>SPT=</c>: source port (TCP, UDP, UDPLITE).</summary>
    public ushort Spt { get; internal set; }

    /// <summary><c>DPT=</c>: destination port (TCP, UDP, UDPLITE).</summary>
    public ushort Dpt { get; internal set; }

    /// <summary>TCP <c>SEQ=</c>.</summary>
    public uint Seq { get; internal set; }

    /// <summary>TCP <c>ACK=</c> (the acknowledgement number field; see <see cref="TcpFlags"/> for the flag).</summary>
    public uint Ack { get; internal set; }

    /// <summary>TCP <c>WINDOW=</c>.</summary>
    public ushort Window { get; internal set; }

    /// <summary>TCP <c>RES=</c>: the reserved bits.</summary>
    public byte Res { get; internal set; }

    /// <summary>TCP flags.</summary>
    public TcpFlags TcpFlags { get; internal set; }

    /// <summary>TCP <c>URGP=</c>: the urgent pointer.</summary>
    public ushort Urgp { get; internal set; }

    /// <summary>The hex text of the TCP <c>OPT (…)</c> field.</summary>
    public ByteRange TcpOptions { get; internal set; }

    /// <summary>UDP <c>LEN=</c>: the UDP length field (the second <c>LEN=</c> on the line).</summary>
    public ushort UdpLen { get; internal set; }

    /// <summary>ICMP / ICMPv6 <c>TYPE=</c>.</summary>
    public byte IcmpType { get; internal set; }

    /// <summary>ICMP / ICMPv6 <c>CODE=</c>.</summary>
    public byte IcmpCode { get; internal set; }

    /// <summary>ICMP echo <c>ID=</c> (the second <c>ID=</c> on the line).</summary>
    public ushort IcmpId { get; internal set; }

    /// <summary>ICMP echo <c>SEQ=</c>.</summary>
    public ushort IcmpSeq { get; internal set; }

    /// <summary>ICMP redirect <c>GATEWAY=</c>.</summary>
    public NetAddress Gateway { get; internal set; }

    /// <summary><c>MTU=</c> of an ICMP frag-needed or ICMPv6 packet-too-big error.</summary>
    public uint Mtu { get; internal set; }

    /// <summary>ICMP <c>PARAMETER=</c> (decimal) or ICMPv6 <c>POINTER=</c> (hex).</summary>
    public uint Parameter { get; internal set; }

    /// <summary>AH / ESP <c>SPI=</c>.</summary>
    public uint Spi { get; internal set; }

    /// <summary>The <c>n</c> of <c>INCOMPLETE [n bytes]</c>.</summary>
    public uint IncompleteBytes { get; internal set; }

    /// <summary>True when <see cref="Fields"/> has all of <paramref name="fields"/>.</summary>
    /// <param name="fields">One or more flags.</param>
    /// <returns>True when every flag is set.</returns>
    public readonly bool Has(NetfilterFields fields) => (Fields & fields) == fields;
}
