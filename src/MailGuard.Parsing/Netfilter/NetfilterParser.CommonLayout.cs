using System.Runtime.CompilerServices;
using MailGuard.Parsing.Internals;

namespace MailGuard.Parsing;

/// <summary>How <see cref="NetfilterParser"/> reads the body of a line from <c>SRC=</c> on.</summary>
internal enum BodyReading : byte
{
    /// <summary>Field by field with the general parser (what the straight-line readings are tested against).</summary>
    General,

    /// <summary>The usual layout in one straight pass, everything checked; the general parser for any other.</summary>
    Common,

    /// <summary>As <see cref="Common"/>, but the fields a report does not use are passed over unchecked (<see cref="LogLineParserOptions.LeanEntries"/>).</summary>
    Lean,
}

/// <summary>The straight-line reading of the layout nearly every mail-blocking rule logs.</summary>
public static partial class NetfilterParser
{
    /// <summary>
    /// Reads, from <c>SRC=</c> to the end of the line, the layout the kernel prints for an unfragmented IPv4 or
    /// IPv6 packet without IP options carrying TCP (without TCP options) or UDP, then <c>UID=</c>/<c>GID=</c>/
    /// <c>MARK=</c>: fields in the kernel's order, each key compared at once, no error bookkeeping. It checks
    /// what the general parser checks (every number against its width, every separator, nothing but spaces
    /// after the last field); only the order and the absence of rarer fields are assumed. On anything else it
    /// returns false with the entry and the cursor as they were, and the general parser reads the line: the
    /// result is the same either way, which the differential tests hold it to.
    /// </summary>
    internal static bool TryCommonLayout(ref NetfilterEntry entry, ref Scanner sc, bool lean)
    {
        int start = sc.Pos;
        if (CommonLayout(ref entry, ref sc, start, lean))
        {
            return true;
        }

        entry._packet = default;
        entry.Uid = 0;
        entry.Gid = 0;
        entry.Mark = 0;
        entry._fields &= ~(NetfilterFields.Uid | NetfilterFields.Gid | NetfilterFields.Mark);
        sc.Pos = start;
        return false;
    }

    private static bool CommonLayout(ref NetfilterEntry entry, ref Scanner sc, int start, bool lean)
    {
        ref NetfilterPacket p = ref entry._packet;
        if (!sc.Take("SRC="u8) || !QuickAddress(ref sc, out NetAddress src) || !sc.Take("DST="u8) || !QuickAddress(ref sc, out NetAddress dst))
        {
            return false;
        }

        p.Src = src;
        p.Dst = dst;
        if (src.IsIPv4)
        {
            // LEN=%u TOS=0x%02X PREC=0x%02X TTL=%u ID=%u [CE ][DF ][MF ]
            if (!sc.Take("LEN="u8) || !QuickDecimal(ref sc, 0xFFFF, out uint len) || !(lean ? LeanIPv4(ref sc) : CommonIPv4(ref p, ref sc)))
            {
                return false;
            }

            p.Len = len;
            p.Fields |= NetfilterFields.Src | NetfilterFields.Dst | NetfilterFields.Len;
        }
        else
        {
            // LEN=%zu TC=%u HOPLIMIT=%u FLOWLBL=%u
            if (!sc.Take("LEN="u8) || !QuickDecimal(ref sc, uint.MaxValue, out uint len) ||
                !sc.Take("TC="u8) || !QuickDecimal(ref sc, 0xFF, out uint tc) ||
                !sc.Take("HOPLIMIT="u8) || !QuickDecimal(ref sc, 0xFF, out uint hop) ||
                !sc.Take("FLOWLBL="u8) || !QuickDecimal(ref sc, 0xFFFFF, out uint flow))
            {
                return false;
            }

            p.Len = len;
            p.Tc = (byte)tc;
            p.HopLimit = (byte)hop;
            p.FlowLabel = flow;
            p.Fields |= NetfilterFields.Src | NetfilterFields.Dst | NetfilterFields.Len | NetfilterFields.Ipv6Header;
        }

        NetfilterProtocol proto;
        if (sc.Take("PROTO=TCP "u8))
        {
            proto = NetfilterProtocol.Tcp;
        }
        else if (sc.Take("PROTO=UDP "u8))
        {
            proto = NetfilterProtocol.Udp;
        }
        else
        {
            return false; // a fragment, IP options, another protocol
        }

        if (!sc.Take("SPT="u8) || !QuickDecimal(ref sc, 0xFFFF, out uint spt) || !sc.Take("DPT="u8) || !QuickDecimal(ref sc, 0xFFFF, out uint dpt))
        {
            return false;
        }

        p.Proto = proto;
        p.Spt = (ushort)spt;
        p.Dpt = (ushort)dpt;
        p.Fields |= NetfilterFields.Proto | NetfilterFields.Ports;
        if (proto == NetfilterProtocol.Udp)
        {
            if (!sc.Take("LEN="u8) || !QuickDecimal(ref sc, 0xFFFF, out uint ulen))
            {
                return false;
            }

            p.UdpLen = (ushort)ulen;
            p.Fields |= NetfilterFields.UdpLen;
        }
        else if (!(lean ? LeanTcp(ref sc) : CommonTcp(ref p, ref sc)))
        {
            return false;
        }

        p.Range = new ByteRange(start, TrimEnd(sc.S, start, sc.Pos) - start);

        // UID=%u GID=%u MARK=0x%x, each optional.
        if (sc.Take("UID="u8))
        {
            if (!QuickDecimal(ref sc, uint.MaxValue, out uint uid))
            {
                return false;
            }

            entry.Uid = uid;
            entry._fields |= NetfilterFields.Uid;
            if (sc.Take("GID="u8))
            {
                if (!QuickDecimal(ref sc, uint.MaxValue, out uint gid))
                {
                    return false;
                }

                entry.Gid = gid;
                entry._fields |= NetfilterFields.Gid;
            }
        }

        if (sc.Take("MARK=0x"u8))
        {
            if (!QuickHex(ref sc, uint.MaxValue, out uint mark))
            {
                return false;
            }

            entry.Mark = mark;
            entry._fields |= NetfilterFields.Mark;
        }

        return sc.OnlySpacesLeft();
    }

    /// <summary>
    /// The IPv4 header after LEN= up to PROTO= (TTL, ID, flags, fragment, options) passed over unchecked, but for
    /// TOS=0x: ulogd's look-alike lines print TOS=%02X. The first " PROTO=" is the packet's own: an ICMP error's
    /// inner packet comes after it. (IPv6 is read checked: its extension headers tell ulogd apart.)
    /// </summary>
    private static bool LeanIPv4(ref Scanner sc)
    {
        int protoAt = sc.Peek("TOS=0x"u8) ? sc.Rest.IndexOf(" PROTO="u8) : -1;
        if (protoAt < 0)
        {
            return false;
        }

        sc.Pos += protoAt + 1;
        return true;
    }

    /// <summary>TOS=0x%02X PREC=0x%02X TTL=%u ID=%u [CE ][DF ][MF ], after LEN=.</summary>
    private static bool CommonIPv4(ref NetfilterPacket p, ref Scanner sc)
    {
        if (!sc.Take("TOS=0x"u8) || !QuickHex(ref sc, 0xFF, out uint tos) ||
            !sc.Take("PREC=0x"u8) || !QuickHex(ref sc, 0xFF, out uint prec) ||
            !sc.Take("TTL="u8) || !QuickDecimal(ref sc, 0xFF, out uint ttl) ||
            !sc.Take("ID="u8) || !QuickDecimal(ref sc, 0xFFFF, out uint id))
        {
            return false;
        }

        IpFragmentFlags flags = IpFragmentFlags.None;
        if (sc.Take("CE "u8))
        {
            flags |= IpFragmentFlags.Ce;
        }

        if (sc.Take("DF "u8))
        {
            flags |= IpFragmentFlags.Df;
        }

        if (sc.Take("MF "u8))
        {
            flags |= IpFragmentFlags.Mf;
        }

        p.Tos = (byte)tos;
        p.Prec = (byte)prec;
        p.Ttl = (byte)ttl;
        p.Id = (ushort)id;
        p.FragmentFlags = flags;
        p.Fields |= NetfilterFields.Tos | NetfilterFields.Ttl | NetfilterFields.Id;
        return true;
    }

    /// <summary>SEQ= to URGP= and TCP options passed over unchecked, up to the trailer (UID=, MARK=) or the end.</summary>
    private static bool LeanTcp(ref Scanner sc)
    {
        int urgp = sc.Rest.IndexOf("URGP="u8);
        if (urgp < 0)
        {
            return false;
        }

        sc.Pos += urgp + 5;
        if (!QuickDecimal(ref sc, 0xFFFF, out _))
        {
            return false;
        }

        if (sc.Take("OPT ("u8))
        {
            int close = sc.Rest.IndexOf((byte)')');
            if (close < 0)
            {
                return false;
            }

            sc.Pos += close + 1;
            return QuickFieldEnd(ref sc, sc.Pos);
        }

        return true;
    }

    /// <summary>[SEQ=%u ACK=%u ]WINDOW=%u RES=0x%02x flags URGP=%u, and no OPT.</summary>
    private static bool CommonTcp(ref NetfilterPacket p, ref Scanner sc)
    {
        if (sc.Take("SEQ="u8))
        {
            if (!QuickDecimal(ref sc, uint.MaxValue, out uint seq) || !sc.Take("ACK="u8) || !QuickDecimal(ref sc, uint.MaxValue, out uint ack))
            {
                return false;
            }

            p.Seq = seq;
            p.Ack = ack;
            p.Fields |= NetfilterFields.Sequence;
        }

        if (!sc.Take("WINDOW="u8) || !QuickDecimal(ref sc, 0xFFFF, out uint window) || !sc.Take("RES=0x"u8) || !QuickHex(ref sc, 0xFF, out uint res))
        {
            return false;
        }

        TcpFlags flags = TakeTcpFlags(ref sc, sc.Take("SYN "u8) ? TcpFlags.Syn : TcpFlags.None); // SYN alone: a blocked connection attempt

        if (!sc.Take("URGP="u8) || !QuickDecimal(ref sc, 0xFFFF, out uint urgp) || sc.Peek("OPT ("u8))
        {
            return false;
        }

        SetTcpHeader(ref p, window, res, flags, urgp);
        return true;
    }

    /// <summary>Decimal digits within <paramref name="max"/>, then a space (consumed) or the end of the line.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool QuickDecimal(ref Scanner sc, uint max, out uint value)
    {
        ReadOnlySpan<byte> rest = sc.S[sc.Pos..];
        int n = Utf8Number.ParseShortUInt32(rest, out value);
        if (n != 0)
        {
            // Up to 7 digits and the byte after them, which is in the span: no end of line to consider.
            if (value > max || rest[n] != (byte)' ')
            {
                return false;
            }

            sc.Pos += n + 1;
            return true;
        }

        n = Utf8Number.ParseUInt32(rest, out value);
        return n != 0 && value <= max && QuickFieldEnd(ref sc, sc.Pos + n);
    }

    /// <summary>Hex digits within <paramref name="max"/>, then a space (consumed) or the end of the line.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool QuickHex(ref Scanner sc, uint max, out uint value)
    {
        int n = Utf8Number.ParseHex32(sc.S[sc.Pos..], out value);
        return n != 0 && value <= max && QuickFieldEnd(ref sc, sc.Pos + n);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool QuickFieldEnd(ref Scanner sc, int end)
    {
        if (end < sc.S.Length)
        {
            if (sc.S[end] != (byte)' ')
            {
                return false;
            }

            end++;
        }

        sc.Pos = end;
        return true;
    }

    /// <summary>An address followed by a space (an address may have been cut where it ends the line; the general parser decides that case).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool QuickAddress(ref Scanner sc, out NetAddress address)
    {
        ReadOnlySpan<byte> rest = sc.S[sc.Pos..];

        // A dotted quad read in place gives the value NetAddress.TryParse gives the token.
        int i = NetAddress.ParseIPv4Prefix(rest, out uint v4);
        if (i != 0 && i < rest.Length && rest[i] == (byte)' ')
        {
            address = NetAddress.FromIPv4(v4);
            sc.Pos += i + 1;
            return true;
        }

        int space = rest.IndexOf((byte)' ');
        if (space > 0 && NetAddress.TryParse(rest[..space], out address))
        {
            sc.Pos += space + 1;
            return true;
        }

        address = default;
        return false;
    }
}
