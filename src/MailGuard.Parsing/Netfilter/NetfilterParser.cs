using System.Buffers;
using System.Runtime.CompilerServices;
using MailGuard.Parsing.Internals;

namespace MailGuard.Parsing;

/// <summary>
/// Parses the kernel's netfilter LOG text (iptables/ip6tables <c>LOG</c>, nftables <c>log</c>, the
/// netdev/bridge/arp families) into a <see cref="NetfilterEntry"/>, following the printer in
/// <c>net/netfilter/nf_log_syslog.c</c> field by field. Allocation-free and exception-free for any input.
/// </summary>
/// <remarks>
/// Give it the message part of a log line (after the syslog/journal header); a kernel
/// <c>[ 123.456789]</c> stamp in front is harmless but becomes part of the prefix, so strip it first
/// (see <see cref="EnvelopeParser"/>). A trailing space, CR or LF is accepted.
/// </remarks>
public static partial class NetfilterParser
{
    /// <summary>The bytes no device name holds: '/', ':' and what the kernel's isspace() calls white space (its Latin-1 table counts 0xA0).</summary>
    private static readonly SearchValues<byte> s_notInDeviceName = SearchValues.Create([(byte)'/', (byte)':', (byte)' ', (byte)'\t', (byte)'\n', 0x0B, 0x0C, (byte)'\r', 0xA0]);

    /// <summary>Parses one message.</summary>
    /// <param name="message">The message bytes (UTF-8 or any other encoding: the prefix and interface names are kept as raw bytes).</param>
    /// <param name="entry">The parsed fields; ranges are relative to <paramref name="message"/>.</param>
    /// <returns>What the message is; for <see cref="NetfilterParseStatus.Malformed"/>, <paramref name="entry"/> holds the fields recognised before the error.</returns>
    public static NetfilterParseStatus Parse(ReadOnlySpan<byte> message, out NetfilterEntry entry) => Parse(message, out entry, BodyReading.Common);

    /// <summary>Parses one message, reading the body as <paramref name="reading"/> says.</summary>
    internal static NetfilterParseStatus Parse(ReadOnlySpan<byte> message, out NetfilterEntry entry, BodyReading reading)
    {
        entry = default;
        entry.ErrorOffset = -1;

        int len = message.Length;
        while (len > 0 && (message[len - 1] == (byte)'\n' || message[len - 1] == (byte)'\r'))
        {
            len--;
        }

        ReadOnlySpan<byte> s = message[..len];
        int from = 0;
        while (true)
        {
            int rel = s[from..].IndexOf("IN="u8);
            if (rel < 0)
            {
                return NetfilterParseStatus.NotNetfilter;
            }

            int at = from + rel;
            from = at + 3;
            var sc = new Scanner(s, at + 3);
            ByteRange inIf = sc.Token();
            if (!sc.FieldEnd() || sc.AtEnd)
            {
                continue;
            }

            // 2.4-era bridge kernels printed PHYSIN= between IN= and OUT=.
            ByteRange physIn = default;
            bool hasPhysIn = false;
            if (sc.Take("PHYSIN="u8))
            {
                physIn = sc.Token();
                hasPhysIn = true;
                if (!sc.FieldEnd())
                {
                    continue;
                }
            }

            if (!sc.Take("OUT="u8))
            {
                continue;
            }

            ByteRange outIf = sc.Token();
            sc.FieldEnd();

            if (sc.Peek("MAC source = "u8))
            {
                SetHeader(ref entry, at, inIf, outIf);
                return NetfilterParseStatus.Ebtables;
            }

            if (!StartsBody(ref sc))
            {
                // "IN=… OUT=…" inside an ordinary message, or a prefix that itself contains "IN=":
                // keep looking; a line that ends inside the next key is a truncated LOG line.
                if (sc.AtEnd || IsPrefixOfBodyKey(sc.Rest))
                {
                    SetHeader(ref entry, at, inIf, outIf);
                    if (hasPhysIn)
                    {
                        entry.PhysIn = physIn;
                        entry._fields |= NetfilterFields.PhysIn;
                    }

                    sc.Fail(NetfilterError.UnexpectedEnd);
                    CheckDeviceNames(in entry, ref sc);
                    return Finish(ref entry, ref sc);
                }

                continue;
            }

            SetHeader(ref entry, at, inIf, outIf);
            if (hasPhysIn)
            {
                entry.PhysIn = physIn;
                entry._fields |= NetfilterFields.PhysIn;
            }

            ParseBody(ref entry, ref sc, reading);
            CheckDeviceNames(in entry, ref sc);
            return Finish(ref entry, ref sc);
        }
    }

    private static void SetHeader(ref NetfilterEntry entry, int at, ByteRange inIf, ByteRange outIf)
    {
        entry.Prefix = new ByteRange(0, at);
        entry.In = inIf;
        entry.Out = outIf;
        entry._fields |= NetfilterFields.In | NetfilterFields.Out;
    }

    /// <summary>
    /// After the whole line is read (so that both readings of the body see the same line and keep the same fields):
    /// a device name no device can have makes the line <see cref="NetfilterError.InvalidInterface"/> at that name,
    /// which comes before any error of the body.
    /// </summary>
    private static void CheckDeviceNames(in NetfilterEntry entry, ref Scanner sc)
    {
        int bad = Math.Min(Math.Min(InvalidAt(sc.S, entry.In), InvalidAt(sc.S, entry.Out)), Math.Min(InvalidAt(sc.S, entry.PhysIn), InvalidAt(sc.S, entry.PhysOut)));
        if (bad != int.MaxValue && (sc.Error == NetfilterError.None || bad < sc.ErrorPos))
        {
            sc.Error = NetfilterError.InvalidInterface;
            sc.ErrorPos = bad;
        }
    }

    /// <summary>
    /// Where <paramref name="name"/> starts when no device can be called so, else <see cref="int.MaxValue"/>. Empty is
    /// no device (an absent field too); otherwise the kernel's dev_valid_name: at most 15 bytes, not "." or "..",
    /// without '/', ':' or white space.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int InvalidAt(ReadOnlySpan<byte> s, ByteRange name)
    {
        ReadOnlySpan<byte> n = name.Slice(s);
        return n.Length > 15 || (n.Length is 1 or 2 && n[0] == (byte)'.' && n[^1] == (byte)'.') || n.IndexOfAny(s_notInDeviceName) >= 0 ? name.Start : int.MaxValue;
    }

    private static NetfilterParseStatus Finish(ref NetfilterEntry entry, ref Scanner sc)
    {
        if (sc.IsUlogd)
        {
            return NetfilterParseStatus.Ulogd;
        }

        if (sc.Error != NetfilterError.None)
        {
            entry.Error = sc.Error;
            entry.ErrorOffset = sc.ErrorPos;
            return NetfilterParseStatus.Malformed;
        }

        return NetfilterParseStatus.Entry;
    }

    private static bool StartsBody(ref Scanner sc) =>
        sc.Peek("SRC="u8) || sc.Peek("MAC="u8) || sc.Peek("MACSRC="u8) || sc.Peek("PHYSIN="u8) ||
        sc.Peek("PHYSOUT="u8) || sc.Peek("ARP "u8) || sc.Peek("TRUNCATED"u8);

    private static bool IsPrefixOfBodyKey(ReadOnlySpan<byte> rest) =>
        rest.Length < 9 && ("SRC="u8.StartsWith(rest) || "MAC="u8.StartsWith(rest) || "MACSRC="u8.StartsWith(rest) ||
        "PHYSIN="u8.StartsWith(rest) || "PHYSOUT="u8.StartsWith(rest) || "ARP "u8.StartsWith(rest) || "TRUNCATED"u8.StartsWith(rest));

    private static void ParseBody(ref NetfilterEntry entry, ref Scanner sc, BodyReading reading)
    {
        while (true)
        {
            if (sc.Take("PHYSIN="u8))
            {
                entry.PhysIn = sc.Token();
                entry._fields |= NetfilterFields.PhysIn;
                sc.FieldEnd();
            }
            else if (sc.Take("PHYSOUT="u8))
            {
                entry.PhysOut = sc.Token();
                entry._fields |= NetfilterFields.PhysOut;
                sc.FieldEnd();
            }
            else
            {
                break;
            }
        }

        bool link = false;
        if (sc.Take("MAC="u8))
        {
            entry.Mac = sc.Token();
            entry._fields |= NetfilterFields.Mac;
            link = true;
            sc.FieldEnd();
            if (sc.Take("TUNNEL="u8))
            {
                entry.Tunnel = sc.Token();
                entry._fields |= NetfilterFields.Tunnel;
                sc.FieldEnd();
            }
        }
        else if (sc.Take("MACSRC="u8))
        {
            link = true;
            if (!ParseDecodedMac(ref entry, ref sc))
            {
                return;
            }
        }

        if (sc.Peek("SRC="u8))
        {
            if (reading != BodyReading.General && TryCommonLayout(ref entry, ref sc, reading == BodyReading.Lean))
            {
                return;
            }

            if (!ParseIp(ref entry._packet, ref entry._inner, ref sc, inner: false))
            {
                return;
            }

            ParseTrailer(ref entry, ref sc);
        }
        else if (sc.Take("ARP "u8))
        {
            ParseArp(ref entry, ref sc);
        }
        else if (sc.TakeWord("TRUNCATED"u8))
        {
            entry._packet.Fields |= NetfilterFields.Truncated;
        }
        else if (!sc.OnlySpacesLeft() || !link)
        {
            // A link header alone is a complete line (netdev/bridge families, unknown EtherType).
            sc.Fail(sc.OnlySpacesLeft() || IsPrefixOfBodyKey(sc.Rest) ? NetfilterError.UnexpectedEnd : NetfilterError.UnexpectedToken);
            return;
        }

        if (sc.Error == NetfilterError.None && !sc.OnlySpacesLeft())
        {
            sc.Fail(NetfilterError.UnexpectedToken);
        }
    }

    private static bool ParseDecodedMac(ref NetfilterEntry entry, ref Scanner sc)
    {
        entry.MacSrc = sc.Token();
        sc.FieldEnd();
        if (!sc.Take("MACDST="u8))
        {
            return sc.Missing("MACDST="u8);
        }

        entry.MacDst = sc.Token();
        sc.FieldEnd();
        if (sc.Peek("VPROTO="u8))
        {
            if (!sc.Hex("VPROTO="u8, 0xFFFF, out uint vproto) || !sc.Decimal("VID="u8, 0xFFFF, out uint vid))
            {
                return false;
            }

            entry.VlanProto = (ushort)vproto;
            entry.VlanId = (ushort)vid;
            entry._fields |= NetfilterFields.Vlan;
        }

        if (!sc.Hex("MACPROTO="u8, 0xFFFF, out uint proto))
        {
            return false;
        }

        entry.MacProto = (ushort)proto;
        entry._fields |= NetfilterFields.MacDecoded;
        return true;
    }

    /// <summary>The IPv4 or IPv6 dump, starting at <c>SRC=</c>; for the outer packet this includes an ICMP error's inner packet.</summary>
    private static bool ParseIp(ref NetfilterPacket p, ref NetfilterPacket innerPacket, ref Scanner sc, bool inner)
    {
        int start = sc.Pos;
        if (sc.TakeWord("TRUNCATED"u8))
        {
            p.Fields |= NetfilterFields.Truncated;
            p.Range = new ByteRange(start, sc.Pos - start);
            return true;
        }

        if (!sc.Address("SRC="u8, out NetAddress src))
        {
            return false;
        }

        p.Src = src;
        p.Fields |= NetfilterFields.Src;
        if (!sc.Address("DST="u8, out NetAddress dst))
        {
            return false;
        }

        p.Dst = dst;
        p.Fields |= NetfilterFields.Dst;

        bool ok;
        if (src.IsIPv4)
        {
            ok = ParseIPv4Header(ref p, ref sc);
            if (ok)
            {
                if (sc.Peek("PROTO="u8))
                {
                    ok = ParseTransport(ref p, ref innerPacket, ref sc, inner);
                }
                else if (!(p.Has(NetfilterFields.Frag) && p.Frag != 0))
                {
                    // Only a non-first AH fragment prints nothing after the IP header.
                    ok = sc.Missing("PROTO="u8);
                }
            }
        }
        else
        {
            // IPv6 may legitimately end without PROTO= (ESP without the IP-options flag).
            ok = ParseIPv6Header(ref p, ref sc, out bool stop) &&
                (stop || !sc.Peek("PROTO="u8) || ParseTransport(ref p, ref innerPacket, ref sc, inner));
        }

        p.Range = new ByteRange(start, TrimEnd(sc.S, start, sc.Pos) - start);
        return ok;
    }

    private static int TrimEnd(ReadOnlySpan<byte> s, int start, int end)
    {
        while (end > start && s[end - 1] == ' ')
        {
            end--;
        }

        return end;
    }

    private static bool ParseIPv4Header(ref NetfilterPacket p, ref Scanner sc)
    {
        if (!sc.Decimal("LEN="u8, 0xFFFF, out uint len))
        {
            return false;
        }

        p.Len = len;
        p.Fields |= NetfilterFields.Len;

        if (!sc.Take("TOS=0x"u8))
        {
            // ulogd2 prints TOS=%02X without 0x.
            if (sc.Peek("TOS="u8) && sc.Rest.Length >= 6 && Utf8Number.HexValue(sc.Rest[4]) >= 0 && Utf8Number.HexValue(sc.Rest[5]) >= 0)
            {
                sc.IsUlogd = true;
                return false;
            }

            return sc.Missing("TOS=0x"u8);
        }

        if (!sc.HexValue(0xFF, out uint tos) || !sc.Hex("PREC=0x"u8, 0xFF, out uint prec))
        {
            return false;
        }

        p.Tos = (byte)tos;
        p.Prec = (byte)prec;
        p.Fields |= NetfilterFields.Tos;
        if (!sc.Decimal("TTL="u8, 0xFF, out uint ttl))
        {
            return false;
        }

        p.Ttl = (byte)ttl;
        p.Fields |= NetfilterFields.Ttl;
        if (!sc.Decimal("ID="u8, 0xFFFF, out uint id))
        {
            return false;
        }

        p.Id = (ushort)id;
        p.Fields |= NetfilterFields.Id;

        IpFragmentFlags flags = IpFragmentFlags.None;
        while (true)
        {
            if (sc.TakeWord("CE"u8))
            {
                flags |= IpFragmentFlags.Ce;
            }
            else if (sc.TakeWord("DF"u8))
            {
                flags |= IpFragmentFlags.Df;
            }
            else if (sc.TakeWord("MF"u8))
            {
                flags |= IpFragmentFlags.Mf;
            }
            else
            {
                break;
            }
        }

        p.FragmentFlags = flags;
        if (sc.Take("FRAG:"u8))
        {
            if (sc.Peek(" "u8))
            {
                sc.IsUlogd = true; // ulogd2: "FRAG: %u"
                return false;
            }

            if (!sc.DecimalValue(0x1FFF, out uint frag))
            {
                return false;
            }

            p.Frag = frag;
            p.Fields |= NetfilterFields.Frag;
        }

        if (sc.Take("OPT ("u8))
        {
            int optStart = sc.Pos;
            int close = sc.Rest.IndexOf((byte)')');
            if (close < 0)
            {
                return sc.Fail(NetfilterError.UnexpectedEnd);
            }

            p.IpOptions = new ByteRange(optStart, close);
            p.Fields |= NetfilterFields.IpOptions;
            sc.Pos += close + 1;
            if (!sc.FieldEnd())
            {
                return sc.Fail(NetfilterError.UnexpectedToken);
            }
        }

        return true;
    }

    /// <summary>The IPv6 header and extension headers; <paramref name="stop"/> is set when the kernel stops printing (ESP, unknown header, truncation).</summary>
    private static bool ParseIPv6Header(ref NetfilterPacket p, ref Scanner sc, out bool stop)
    {
        stop = false;
        if (!sc.Decimal("LEN="u8, uint.MaxValue, out uint len))
        {
            return false;
        }

        p.Len = len;
        p.Fields |= NetfilterFields.Len;
        if (!sc.Decimal("TC="u8, 0xFF, out uint tc) || !sc.Decimal("HOPLIMIT="u8, 0xFF, out uint hop) ||
            !sc.Decimal("FLOWLBL="u8, 0xFFFFF, out uint flow))
        {
            return false;
        }

        p.Tc = (byte)tc;
        p.HopLimit = (byte)hop;
        p.FlowLabel = flow;
        p.Fields |= NetfilterFields.Ipv6Header;

        while (true)
        {
            if (sc.Take("OPT ( "u8) || sc.Take("OPT ("u8))
            {
                int optStart = sc.Pos;
                while (!sc.Take(")"u8))
                {
                    if (!ParseIPv6ExtItem(ref p, ref sc, out stop))
                    {
                        return false;
                    }

                    if (stop)
                    {
                        break;
                    }

                    if (sc.AtEnd)
                    {
                        return sc.Fail(NetfilterError.UnexpectedEnd);
                    }
                }

                int optEnd = sc.Pos;
                if (optEnd > optStart && sc.S[optEnd - 1] == (byte)')')
                {
                    optEnd--;
                }

                p.IpOptions = new ByteRange(optStart, TrimEnd(sc.S, optStart, optEnd) - optStart);
                p.Fields |= NetfilterFields.IpOptions;
                if (stop)
                {
                    return true;
                }

                sc.FieldEnd();
            }
            else if (sc.Peek("FRAG:"u8) || sc.Peek("Unknown Ext Hdr"u8) || sc.Peek("TRUNCATED"u8))
            {
                if (!ParseIPv6ExtItem(ref p, ref sc, out stop))
                {
                    return false;
                }

                if (stop)
                {
                    return true;
                }
            }
            else
            {
                return true;
            }
        }
    }

    private static bool ParseIPv6ExtItem(ref NetfilterPacket p, ref Scanner sc, out bool stop)
    {
        stop = false;
        if (sc.Take("FRAG:"u8))
        {
            if (sc.TakeWord("TRUNCATED"u8))
            {
                p.Fields |= NetfilterFields.Truncated;
                stop = true;
                return true;
            }

            if (sc.Peek(" "u8))
            {
                sc.IsUlogd = true; // ulogd2: "FRAG: %u ID: %08x"
                return false;
            }

            if (!sc.DecimalValue(0xFFFF, out uint frag))
            {
                return false;
            }

            p.Frag = frag;
            p.Fields |= NetfilterFields.Frag;
            if (sc.TakeWord("INCOMPLETE"u8))
            {
                p.FragmentFlags |= IpFragmentFlags.Mf;
            }

            if (!sc.Hex("ID:"u8, uint.MaxValue, out uint id))
            {
                return false;
            }

            p.FragmentId = id;
            p.Fields |= NetfilterFields.FragmentId;
            return true;
        }

        if (sc.Take("AH SPI=0x"u8))
        {
            if (!sc.HexValue(uint.MaxValue, out uint spi))
            {
                return false;
            }

            p.Spi = spi;
            p.Fields |= NetfilterFields.Ah6 | NetfilterFields.Spi;
            return true;
        }

        if (sc.Take("ESP SPI=0x"u8))
        {
            // Terminal: "OPT ( ESP SPI=0x… )" and the line ends.
            if (!sc.HexValue(uint.MaxValue, out uint spi))
            {
                return false;
            }

            if (!sc.Take(")"u8))
            {
                return sc.Missing(")"u8);
            }

            p.Spi = spi;
            p.Fields |= NetfilterFields.Esp6 | NetfilterFields.Spi;
            stop = true;
            return true;
        }

        if (sc.Take("Unknown Ext Hdr "u8))
        {
            if (!sc.DecimalValue(0xFF, out _))
            {
                return false;
            }

            p.Fields |= NetfilterFields.Truncated;
            stop = true;
            return true;
        }

        if (sc.TakeWord("TRUNCATED"u8))
        {
            p.Fields |= NetfilterFields.Truncated;
            stop = true;
            return true;
        }

        if (sc.Peek("INCOMPLETE ["u8))
        {
            if (!TakeIncomplete(ref p, ref sc))
            {
                return false;
            }

            sc.Take(")"u8);
            stop = true;
            return true;
        }

        return sc.Fail(sc.AtEnd ? NetfilterError.UnexpectedEnd : NetfilterError.UnexpectedToken);
    }

    /// <summary>Returns true and sets the field when <c>INCOMPLETE [n bytes]</c> stands here.</summary>
    private static bool TakeIncomplete(ref NetfilterPacket p, ref Scanner sc)
    {
        if (!sc.Take("INCOMPLETE ["u8))
        {
            return false;
        }

        int n = Utf8Number.ParseUInt32(sc.Rest, out uint bytes);
        if (n == 0)
        {
            return sc.Fail(sc.AtEnd ? NetfilterError.UnexpectedEnd : NetfilterError.InvalidNumber);
        }

        sc.Pos += n;
        if (!sc.Take(" bytes]"u8))
        {
            return sc.Missing(" bytes]"u8);
        }

        sc.FieldEnd();
        p.IncompleteBytes = bytes;
        p.Fields |= NetfilterFields.Incomplete;
        return true;
    }

    private static bool ParseTransport(ref NetfilterPacket p, ref NetfilterPacket innerPacket, ref Scanner sc, bool inner)
    {
        sc.Take("PROTO="u8);
        NetfilterProtocol proto;
        if (sc.TakeWord("TCP"u8))
        {
            proto = NetfilterProtocol.Tcp;
        }
        else if (sc.TakeWord("UDP"u8))
        {
            proto = NetfilterProtocol.Udp;
        }
        else if (sc.TakeWord("ICMP"u8))
        {
            proto = NetfilterProtocol.Icmp;
        }
        else if (sc.TakeWord("ICMPv6"u8))
        {
            proto = NetfilterProtocol.IcmpV6;
        }
        else if (sc.TakeWord("UDPLITE"u8))
        {
            proto = NetfilterProtocol.UdpLite;
        }
        else if (sc.TakeWord("ESP"u8))
        {
            proto = NetfilterProtocol.Esp;
        }
        else if (sc.TakeWord("AH"u8))
        {
            proto = NetfilterProtocol.Ah;
        }
        else if (sc.Peek("SCTP"u8) || sc.Peek("ARP"u8))
        {
            sc.IsUlogd = true; // ulogd2 names SCTP and ARP; the kernel never does
            return false;
        }
        else
        {
            if (!sc.DecimalValue(0xFF, out uint number))
            {
                return false;
            }

            proto = (NetfilterProtocol)number;
        }

        p.Proto = proto;
        p.Fields |= NetfilterFields.Proto;
        if (p.Has(NetfilterFields.Frag) && p.Frag != 0 && !sc.Peek("INCOMPLETE ["u8) && !sc.Peek("SPT="u8) && !sc.Peek("TYPE="u8) && !sc.Peek("SPI="u8))
        {
            return true; // non-first fragment: only the protocol is printed
        }

        switch (proto)
        {
            case NetfilterProtocol.Tcp:
                return ParseTcp(ref p, ref sc);
            case NetfilterProtocol.Udp:
            case NetfilterProtocol.UdpLite:
                return ParseUdp(ref p, ref sc);
            case NetfilterProtocol.Icmp:
            case NetfilterProtocol.IcmpV6:
                return ParseIcmp(ref p, ref innerPacket, ref sc, inner, proto == NetfilterProtocol.IcmpV6);
            case NetfilterProtocol.Ah:
            case NetfilterProtocol.Esp:
                if (TakeIncomplete(ref p, ref sc) || sc.Error != NetfilterError.None)
                {
                    return sc.Error == NetfilterError.None;
                }

                if (sc.Peek("SPI=0x"u8))
                {
                    if (!sc.Hex("SPI=0x"u8, uint.MaxValue, out uint spi))
                    {
                        return false;
                    }

                    p.Spi = spi;
                    p.Fields |= NetfilterFields.Spi;
                }

                return true;
            default:
                return true;
        }
    }

    private static bool ParsePorts(ref NetfilterPacket p, ref Scanner sc)
    {
        if (!sc.Decimal("SPT="u8, 0xFFFF, out uint spt) || !sc.Decimal("DPT="u8, 0xFFFF, out uint dpt))
        {
            return false;
        }

        p.Spt = (ushort)spt;
        p.Dpt = (ushort)dpt;
        p.Fields |= NetfilterFields.Ports;
        return true;
    }

    private static bool ParseTcp(ref NetfilterPacket p, ref Scanner sc)
    {
        if (TakeIncomplete(ref p, ref sc) || sc.Error != NetfilterError.None)
        {
            return sc.Error == NetfilterError.None;
        }

        if (!sc.Peek("SPT="u8))
        {
            return true; // fragment or trailer follows
        }

        if (!ParsePorts(ref p, ref sc))
        {
            return false;
        }

        if (sc.Peek("SEQ="u8))
        {
            if (!sc.Decimal("SEQ="u8, uint.MaxValue, out uint seq) || !sc.Decimal("ACK="u8, uint.MaxValue, out uint ack))
            {
                return false;
            }

            p.Seq = seq;
            p.Ack = ack;
            p.Fields |= NetfilterFields.Sequence;
        }

        if (!sc.Decimal("WINDOW="u8, 0xFFFF, out uint window))
        {
            return false;
        }

        if (!sc.Take("RES=0x"u8))
        {
            // ulogd2 prints no RES= and always SEQ=/ACK=; the kernel always prints RES=.
            return sc.Missing("RES=0x"u8);
        }

        if (!sc.HexValue(0xFF, out uint res))
        {
            return false;
        }

        TcpFlags flags = TakeTcpFlags(ref sc, TcpFlags.None);

        if (!sc.Decimal("URGP="u8, 0xFFFF, out uint urgp))
        {
            return false;
        }

        SetTcpHeader(ref p, window, res, flags, urgp);

        if (sc.Take("OPT ("u8))
        {
            if (sc.Take("TRUNCATED)"u8))
            {
                p.Fields |= NetfilterFields.Truncated;
                sc.FieldEnd();
                return true;
            }

            int optStart = sc.Pos;
            int close = sc.Rest.IndexOf((byte)')');
            if (close < 0)
            {
                return sc.Fail(NetfilterError.UnexpectedEnd);
            }

            p.TcpOptions = new ByteRange(optStart, close);
            p.Fields |= NetfilterFields.TcpOptions;
            sc.Pos += close + 1;
            if (!sc.FieldEnd())
            {
                return sc.Fail(NetfilterError.UnexpectedToken);
            }
        }

        return true;
    }

    private static void SetTcpHeader(ref NetfilterPacket p, uint window, uint res, TcpFlags flags, uint urgp)
    {
        p.Window = (ushort)window;
        p.Res = (byte)res;
        p.TcpFlags = flags;
        p.Urgp = (ushort)urgp;
        p.Fields |= NetfilterFields.TcpHeader;
    }

    /// <summary>The flag words at the cursor, added to <paramref name="flags"/>.</summary>
    private static TcpFlags TakeTcpFlags(ref Scanner sc, TcpFlags flags)
    {
        while (true)
        {
            TcpFlags f = TakeTcpFlag(ref sc);
            if (f == TcpFlags.None)
            {
                return flags;
            }

            flags |= f;
        }
    }

    private static TcpFlags TakeTcpFlag(ref Scanner sc)
    {
        ReadOnlySpan<byte> r = sc.Rest;
        if (r.Length < 2)
        {
            return TcpFlags.None;
        }

        // Words of two or three capitals; dispatch on the first byte.
        switch (r[0])
        {
            case (byte)'A':
                return sc.TakeWord("ACK"u8) ? TcpFlags.Ack : sc.TakeWord("AE"u8) ? TcpFlags.Ae : TcpFlags.None;
            case (byte)'C':
                return sc.TakeWord("CWR"u8) ? TcpFlags.Cwr : TcpFlags.None;
            case (byte)'E':
                return sc.TakeWord("ECE"u8) ? TcpFlags.Ece : TcpFlags.None;
            case (byte)'F':
                return sc.TakeWord("FIN"u8) ? TcpFlags.Fin : TcpFlags.None;
            case (byte)'P':
                return sc.TakeWord("PSH"u8) ? TcpFlags.Psh : TcpFlags.None;
            case (byte)'R':
                return sc.TakeWord("RST"u8) ? TcpFlags.Rst : TcpFlags.None;
            case (byte)'S':
                return sc.TakeWord("SYN"u8) ? TcpFlags.Syn : TcpFlags.None;
            case (byte)'U':
                return sc.TakeWord("URG"u8) ? TcpFlags.Urg : TcpFlags.None;
            default:
                return TcpFlags.None;
        }
    }

    private static bool ParseUdp(ref NetfilterPacket p, ref Scanner sc)
    {
        if (TakeIncomplete(ref p, ref sc) || sc.Error != NetfilterError.None)
        {
            return sc.Error == NetfilterError.None;
        }

        if (!sc.Peek("SPT="u8))
        {
            return true;
        }

        if (!ParsePorts(ref p, ref sc) || !sc.Decimal("LEN="u8, 0xFFFF, out uint ulen))
        {
            return false;
        }

        p.UdpLen = (ushort)ulen;
        p.Fields |= NetfilterFields.UdpLen;
        return true;
    }

    private static bool ParseIcmp(ref NetfilterPacket p, ref NetfilterPacket innerPacket, ref Scanner sc, bool inner, bool v6)
    {
        if (TakeIncomplete(ref p, ref sc) || sc.Error != NetfilterError.None)
        {
            return sc.Error == NetfilterError.None;
        }

        if (!sc.Peek("TYPE="u8))
        {
            return true;
        }

        if (!sc.Decimal("TYPE="u8, 0xFF, out uint type) || !sc.Decimal("CODE="u8, 0xFF, out uint code))
        {
            return false;
        }

        p.IcmpType = (byte)type;
        p.IcmpCode = (byte)code;
        p.Fields |= NetfilterFields.IcmpTypeCode;
        if (TakeIncomplete(ref p, ref sc) || sc.Error != NetfilterError.None)
        {
            return sc.Error == NetfilterError.None;
        }

        if (sc.Peek("ID="u8))
        {
            if (!sc.Decimal("ID="u8, 0xFFFF, out uint id) || !sc.Decimal("SEQ="u8, 0xFFFF, out uint seq))
            {
                return false;
            }

            p.IcmpId = (ushort)id;
            p.IcmpSeq = (ushort)seq;
            p.Fields |= NetfilterFields.IcmpEcho;
            return true;
        }

        if (!v6 && sc.Peek("PARAMETER="u8))
        {
            if (!sc.Decimal("PARAMETER="u8, 0xFF, out uint parameter))
            {
                return false;
            }

            p.Parameter = parameter;
            p.Fields |= NetfilterFields.Parameter;
            return true;
        }

        if (v6 && sc.Peek("POINTER="u8))
        {
            if (!sc.Hex("POINTER="u8, uint.MaxValue, out uint pointer))
            {
                return false;
            }

            p.Parameter = pointer;
            p.Fields |= NetfilterFields.Parameter;
        }

        if (!v6 && sc.Peek("GATEWAY="u8))
        {
            if (!sc.Address("GATEWAY="u8, out NetAddress gateway))
            {
                return false;
            }

            p.Gateway = gateway;
            p.Fields |= NetfilterFields.Gateway;
        }

        if (sc.Peek("["u8))
        {
            if (inner)
            {
                return sc.Fail(NetfilterError.UnexpectedToken); // the kernel recurses one level only
            }

            sc.Take("["u8);
            int innerStart = sc.Pos;
            innerPacket = default;
            NetfilterPacket unused = default;
            if (!ParseIp(ref innerPacket, ref unused, ref sc, inner: true))
            {
                return false;
            }

            innerPacket.Range = new ByteRange(innerStart, TrimEnd(sc.S, innerStart, sc.Pos) - innerStart);
            if (!sc.Take("]"u8))
            {
                return sc.Missing("]"u8);
            }

            sc.FieldEnd();
            p.Fields |= NetfilterFields.InnerPacket;
        }

        if (sc.Peek("MTU="u8))
        {
            if (!sc.Decimal("MTU="u8, uint.MaxValue, out uint mtu))
            {
                return false;
            }

            p.Mtu = mtu;
            p.Fields |= NetfilterFields.Mtu;
        }

        return true;
    }

    private static void ParseTrailer(ref NetfilterEntry entry, ref Scanner sc)
    {
        if (sc.Peek("UID="u8))
        {
            if (!sc.Decimal("UID="u8, uint.MaxValue, out uint uid))
            {
                return;
            }

            entry.Uid = uid;
            entry._fields |= NetfilterFields.Uid;

            // 2.6.2x kernels printed UID without GID.
            if (sc.Peek("GID="u8))
            {
                if (!sc.Decimal("GID="u8, uint.MaxValue, out uint gid))
                {
                    return;
                }

                entry.Gid = gid;
                entry._fields |= NetfilterFields.Gid;
            }
        }

        if (sc.Take("MARK="u8))
        {
            // ulogd2 prints MARK=%x without 0x, but its lines are told apart earlier by TOS=%02X.
            if (!sc.Take("0x"u8))
            {
                sc.Missing("0x"u8);
                return;
            }

            if (!sc.HexValue(uint.MaxValue, out uint mark))
            {
                return;
            }

            entry.Mark = mark;
            entry._fields |= NetfilterFields.Mark;
        }
    }

    private static void ParseArp(ref NetfilterEntry entry, ref Scanner sc)
    {
        if (!sc.Decimal("HTYPE="u8, 0xFFFF, out uint htype) || !sc.Hex("PTYPE=0x"u8, 0xFFFF, out uint ptype) ||
            !sc.Decimal("OPCODE="u8, 0xFFFF, out uint opcode))
        {
            return;
        }

        entry._fields |= NetfilterFields.Arp;

        entry.ArpHType = (ushort)htype;
        entry.ArpPType = (ushort)ptype;
        entry.ArpOpcode = (ushort)opcode;
        if (sc.Take("MACSRC="u8))
        {
            entry.ArpMacSrc = sc.Token();
            sc.FieldEnd();
            if (!sc.Address("IPSRC="u8, out NetAddress ipSrc) || !sc.Take("MACDST="u8))
            {
                sc.Missing("MACDST="u8);
                return;
            }

            entry.ArpMacDst = sc.Token();
            sc.FieldEnd();
            if (!sc.Address("IPDST="u8, out NetAddress ipDst, mayEndLine: true))
            {
                return;
            }

            entry.ArpIpSrc = ipSrc;
            entry.ArpIpDst = ipDst;
            entry._fields |= NetfilterFields.ArpAddresses;
        }

        if (TakeIncomplete(ref entry._packet, ref sc) || sc.Error != NetfilterError.None)
        {
            return;
        }

        if (sc.TakeWord("TRUNCATED"u8))
        {
            entry._packet.Fields |= NetfilterFields.Truncated;
        }
    }
}
