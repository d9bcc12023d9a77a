namespace MailGuard.Parsing;

/// <summary>What <see cref="NetfilterParser.Parse(ReadOnlySpan{byte}, out NetfilterEntry)"/> found in a message.</summary>
public enum NetfilterParseStatus : byte
{
    /// <summary>Not a netfilter LOG message: no <c>IN=… OUT=…</c> header followed by a link or network layer field.</summary>
    NotNetfilter = 0,

    /// <summary>A complete netfilter LOG message: every field the kernel printed was understood.</summary>
    Entry = 1,

    /// <summary>
    /// A netfilter LOG message that stops early or holds something the kernel does not print
    /// (a truncated line, an out-of-range number, an unknown token). The fields recognised before
    /// <see cref="NetfilterEntry.ErrorOffset"/> are set; <see cref="NetfilterEntry.Error"/> says what went wrong.
    /// </summary>
    Malformed = 2,

    /// <summary>An <c>ebtables --log</c> line (<c>MAC source = …</c>): a different format, recognised and not parsed further.</summary>
    Ebtables = 3,

    /// <summary>A ulogd2 LOGEMU / UniFi imitation of a LOG line (<c>TOS=00</c> without <c>0x</c>): recognised and not parsed further.</summary>
    Ulogd = 4,
}

/// <summary>Why a netfilter message is <see cref="NetfilterParseStatus.Malformed"/>.</summary>
public enum NetfilterError : byte
{
    /// <summary>No error.</summary>
    None = 0,

    /// <summary>The line ends where the kernel always prints more (a truncated line).</summary>
    UnexpectedEnd,

    /// <summary>A token the kernel does not print at this position.</summary>
    UnexpectedToken,

    /// <summary>A number that is missing, not decimal/hex as required, or out of range for its field.</summary>
    InvalidNumber,

    /// <summary>An address that is not a valid IPv4 or IPv6 address.</summary>
    InvalidAddress,

    /// <summary>
    /// An interface name (<c>IN=</c>, <c>OUT=</c>, <c>PHYSIN=</c>, <c>PHYSOUT=</c>) no device can have: longer than
    /// 15 bytes, <c>.</c> or <c>..</c>, or holding '/', ':' or white space (the kernel's <c>dev_valid_name</c>).
    /// The kernel did not write such a line; a local user may have.
    /// </summary>
    InvalidInterface,
}

/// <summary>IP protocol numbers as the kernel names them after <c>PROTO=</c>; any other number is printed and kept numerically.</summary>
public enum NetfilterProtocol : byte
{
    /// <summary>No <c>PROTO=</c> field (e.g. IPv6 ESP without the IP-options flag, or an ARP entry).</summary>
    None = 0,

    /// <summary><c>PROTO=ICMP</c> (1).</summary>
    Icmp = 1,

    /// <summary><c>PROTO=TCP</c> (6).</summary>
    Tcp = 6,

    /// <summary><c>PROTO=UDP</c> (17).</summary>
    Udp = 17,

    /// <summary><c>PROTO=ESP</c> (50).</summary>
    Esp = 50,

    /// <summary><c>PROTO=AH</c> (51).</summary>
    Ah = 51,

    /// <summary><c>PROTO=ICMPv6</c> (58).</summary>
    IcmpV6 = 58,

    /// <summary><c>PROTO=UDPLITE</c> (136).</summary>
    UdpLite = 136,
}

/// <summary>TCP flags as printed by the kernel (<c>AE CWR ECE URG ACK PSH RST SYN FIN</c>).</summary>
[Flags]
public enum TcpFlags : ushort
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary><c>FIN</c>.</summary>
    Fin = 0x001,

    /// <summary><c>SYN</c>.</summary>
    Syn = 0x002,

    /// <summary><c>RST</c>.</summary>
    Rst = 0x004,

    /// <summary><c>PSH</c>.</summary>
    Psh = 0x008,

    /// <summary><c>ACK</c>.</summary>
    Ack = 0x010,

    /// <summary><c>URG</c>.</summary>
    Urg = 0x020,

    /// <summary><c>ECE</c>.</summary>
    Ece = 0x040,

    /// <summary><c>CWR</c>.</summary>
    Cwr = 0x080,

    /// <summary><c>AE</c> (AccECN, printed by recent kernels).</summary>
    Ae = 0x100,
}

/// <summary>IPv4 fragment bits as printed by the kernel (<c>CE DF MF</c>).</summary>
[Flags]
public enum IpFragmentFlags : byte
{
    /// <summary>No bit.</summary>
    None = 0,

    /// <summary><c>CE</c>: the reserved ("evil") bit 0x8000.</summary>
    Ce = 1,

    /// <summary><c>DF</c>: don't fragment.</summary>
    Df = 2,

    /// <summary><c>MF</c>: more fragments.</summary>
    Mf = 4,
}

/// <summary>Which fields a parsed line or packet holds. Absent fields read as zero / empty.</summary>
[Flags]
public enum NetfilterFields : ulong
{
    /// <summary>No field.</summary>
    None = 0,

    /// <summary><c>IN=</c> (always printed, may be empty).</summary>
    In = 1UL << 0,

    /// <summary><c>OUT=</c> (always printed, may be empty).</summary>
    Out = 1UL << 1,

    /// <summary><c>PHYSIN=</c> (bridged packets via br_netfilter).</summary>
    PhysIn = 1UL << 2,

    /// <summary><c>PHYSOUT=</c>.</summary>
    PhysOut = 1UL << 3,

    /// <summary><c>MAC=</c> (raw link header, possibly empty).</summary>
    Mac = 1UL << 4,

    /// <summary><c>MACSRC=</c>/<c>MACDST=</c>/<c>MACPROTO=</c> (decoded Ethernet header).</summary>
    MacDecoded = 1UL << 5,

    /// <summary><c>VPROTO=</c>/<c>VID=</c> (VLAN tag, with decoded MAC).</summary>
    Vlan = 1UL << 6,

    /// <summary><c>TUNNEL=</c> (SIT tunnel endpoints after <c>MAC=</c>).</summary>
    Tunnel = 1UL << 7,

    /// <summary><c>SRC=</c>.</summary>
    Src = 1UL << 8,

    /// <summary><c>DST=</c>.</summary>
    Dst = 1UL << 9,

    /// <summary>IP <c>LEN=</c> (total length; IPv6: payload + 40).</summary>
    Len = 1UL << 10,

    /// <summary><c>TOS=</c> and <c>PREC=</c> (IPv4).</summary>
    Tos = 1UL << 11,

    /// <summary><c>TTL=</c> (IPv4).</summary>
    Ttl = 1UL << 12,

    /// <summary>IPv4 <c>ID=</c>.</summary>
    Id = 1UL << 13,

    /// <summary><c>FRAG:</c> (fragment offset).</summary>
    Frag = 1UL << 14,

    /// <summary><c>OPT (…)</c> after the IP header (IPv4 options or IPv6 extension headers).</summary>
    IpOptions = 1UL << 15,

    /// <summary><c>TC=</c>, <c>HOPLIMIT=</c>, <c>FLOWLBL=</c> (IPv6).</summary>
    Ipv6Header = 1UL << 16,

    /// <summary>IPv6 fragment header <c>ID:</c>.</summary>
    FragmentId = 1UL << 17,

    /// <summary><c>PROTO=</c>.</summary>
    Proto = 1UL << 18,

    /// <summary><c>SPT=</c> and <c>DPT=</c>.</summary>
    Ports = 1UL << 19,

    /// <summary><c>SEQ=</c> and <c>ACK=</c> (TCP sequence logging).</summary>
    Sequence = 1UL << 20,

    /// <summary><c>WINDOW=</c>, <c>RES=</c>, the flags and <c>URGP=</c> (TCP).</summary>
    TcpHeader = 1UL << 21,

    /// <summary>TCP <c>OPT (…)</c>.</summary>
    TcpOptions = 1UL << 22,

    /// <summary>UDP <c>LEN=</c> (the second LEN on the line).</summary>
    UdpLen = 1UL << 23,

    /// <summary><c>TYPE=</c> and <c>CODE=</c> (ICMP, ICMPv6).</summary>
    IcmpTypeCode = 1UL << 24,

    /// <summary>ICMP echo <c>ID=</c> and <c>SEQ=</c>.</summary>
    IcmpEcho = 1UL << 25,

    /// <summary>ICMP redirect <c>GATEWAY=</c>.</summary>
    Gateway = 1UL << 26,

    /// <summary><c>MTU=</c> (ICMP frag-needed, ICMPv6 packet-too-big).</summary>
    Mtu = 1UL << 27,

    /// <summary>ICMP <c>PARAMETER=</c> / ICMPv6 <c>POINTER=</c>.</summary>
    Parameter = 1UL << 28,

    /// <summary>AH/ESP <c>SPI=</c>.</summary>
    Spi = 1UL << 29,

    /// <summary><c>INCOMPLETE [n bytes]</c>: the kernel could not read the header.</summary>
    Incomplete = 1UL << 30,

    /// <summary><c>TRUNCATED</c>, <c>OPT (TRUNCATED)</c> or <c>Unknown Ext Hdr</c>: the kernel stopped printing.</summary>
    Truncated = 1UL << 31,

    /// <summary>The nested <c>[ … ]</c> packet of an ICMP error.</summary>
    InnerPacket = 1UL << 32,

    /// <summary><c>UID=</c> (owner of the local socket).</summary>
    Uid = 1UL << 33,

    /// <summary><c>GID=</c>.</summary>
    Gid = 1UL << 34,

    /// <summary><c>MARK=</c>.</summary>
    Mark = 1UL << 35,

    /// <summary>An ARP packet (<c>ARP HTYPE=… PTYPE=… OPCODE=…</c>).</summary>
    Arp = 1UL << 36,

    /// <summary>The Ethernet/IPv4 ARP addresses (<c>MACSRC= IPSRC= MACDST= IPDST=</c>).</summary>
    ArpAddresses = 1UL << 37,

    /// <summary>IPv6 ESP extension header (<c>OPT ( ESP SPI=… )</c>): the line ends there.</summary>
    Esp6 = 1UL << 38,

    /// <summary>IPv6 AH extension header (<c>OPT ( AH SPI=… )</c>).</summary>
    Ah6 = 1UL << 39,
}
