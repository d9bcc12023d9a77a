using System.Globalization;
using System.Text;

namespace MailGuard.Parsing.Tests;

/// <summary>
/// Test helper: prints a parsed entry back in the kernel's own format (nf_log_syslog.c), from the parsed
/// values only. If the result equals the original message, every field was parsed, field for field.
/// </summary>
internal static class KernelText
{
    public static string Render(in NetfilterEntry e, ReadOnlySpan<byte> message)
    {
        var sb = new StringBuilder();
        sb.Append(Latin1(e.Prefix.Slice(message)));
        sb.Append("IN=").Append(Latin1(e.In.Slice(message))).Append(" OUT=").Append(Latin1(e.Out.Slice(message))).Append(' ');
        if (e.Has(NetfilterFields.PhysIn))
        {
            sb.Append("PHYSIN=").Append(Latin1(e.PhysIn.Slice(message))).Append(' ');
        }

        if (e.Has(NetfilterFields.PhysOut))
        {
            sb.Append("PHYSOUT=").Append(Latin1(e.PhysOut.Slice(message))).Append(' ');
        }

        if (e.Has(NetfilterFields.Mac))
        {
            sb.Append("MAC=").Append(Latin1(e.Mac.Slice(message))).Append(' ');
        }

        if (e.Has(NetfilterFields.MacDecoded))
        {
            sb.Append("MACSRC=").Append(Latin1(e.MacSrc.Slice(message))).Append(" MACDST=").Append(Latin1(e.MacDst.Slice(message))).Append(' ');
            if (e.Has(NetfilterFields.Vlan))
            {
                sb.Append(Inv($"VPROTO={e.VlanProto:x4} VID={e.VlanId} "));
            }

            sb.Append(Inv($"MACPROTO={e.MacProto:x4} "));
        }

        if (e.Has(NetfilterFields.Arp))
        {
            sb.Append(Inv($"ARP HTYPE={e.ArpHType} PTYPE=0x{e.ArpPType:x4} OPCODE={e.ArpOpcode}"));
            if (e.Has(NetfilterFields.ArpAddresses))
            {
                sb.Append(" MACSRC=").Append(Latin1(e.ArpMacSrc.Slice(message))).Append(" IPSRC=").Append(e.ArpIpSrc)
                  .Append(" MACDST=").Append(Latin1(e.ArpMacDst.Slice(message))).Append(" IPDST=").Append(e.ArpIpDst);
            }

            return sb.ToString();
        }

        if (e.Packet.Has(NetfilterFields.Src) || e.Packet.Has(NetfilterFields.Truncated))
        {
            Packet(sb, e.Packet, e.InnerPacket, message);
        }

        if (e.Has(NetfilterFields.Uid))
        {
            sb.Append(Inv($"UID={e.Uid} "));
            if (e.Has(NetfilterFields.Gid))
            {
                sb.Append(Inv($"GID={e.Gid} "));
            }
        }

        if (e.Has(NetfilterFields.Mark))
        {
            sb.Append(Inv($"MARK=0x{e.Mark:x} "));
        }

        return sb.ToString();
    }

    private static void Packet(StringBuilder sb, in NetfilterPacket p, in NetfilterPacket inner, ReadOnlySpan<byte> message)
    {
        if (!p.Has(NetfilterFields.Src))
        {
            sb.Append("TRUNCATED");
            return;
        }

        if (p.Src.IsIPv4)
        {
            sb.Append(Inv($"SRC={p.Src} DST={p.Dst} LEN={p.Len} TOS=0x{p.Tos:X2} PREC=0x{p.Prec:X2} TTL={p.Ttl} ID={p.Id} "));
            if ((p.FragmentFlags & IpFragmentFlags.Ce) != 0)
            {
                sb.Append("CE ");
            }

            if ((p.FragmentFlags & IpFragmentFlags.Df) != 0)
            {
                sb.Append("DF ");
            }

            if ((p.FragmentFlags & IpFragmentFlags.Mf) != 0)
            {
                sb.Append("MF ");
            }

            if (p.Has(NetfilterFields.Frag))
            {
                sb.Append(Inv($"FRAG:{p.Frag} "));
            }

            if (p.Has(NetfilterFields.IpOptions))
            {
                sb.Append("OPT (").Append(Latin1(p.IpOptions.Slice(message))).Append(") ");
            }
        }
        else
        {
            sb.Append(Inv($"SRC={Full6(p.Src)} DST={Full6(p.Dst)} LEN={p.Len} TC={p.Tc} HOPLIMIT={p.HopLimit} FLOWLBL={p.FlowLabel} "));
            bool opt = p.Has(NetfilterFields.IpOptions);
            if (opt)
            {
                sb.Append("OPT ( ");
            }

            if (p.Has(NetfilterFields.Frag))
            {
                sb.Append(Inv($"FRAG:{p.Frag} "));
                if ((p.FragmentFlags & IpFragmentFlags.Mf) != 0)
                {
                    sb.Append("INCOMPLETE ");
                }

                sb.Append(Inv($"ID:{p.FragmentId:x8} "));
            }

            if (p.Has(NetfilterFields.Ah6))
            {
                sb.Append(Inv($"AH SPI=0x{p.Spi:x} "));
            }

            if (p.Has(NetfilterFields.Esp6))
            {
                sb.Append(Inv($"ESP SPI=0x{p.Spi:x} )"));
                return;
            }

            if (opt)
            {
                sb.Append(") ");
            }
        }

        if (!p.Has(NetfilterFields.Proto))
        {
            return;
        }

        sb.Append("PROTO=").Append(p.Proto switch
        {
            NetfilterProtocol.Tcp => "TCP",
            NetfilterProtocol.Udp => "UDP",
            NetfilterProtocol.UdpLite => "UDPLITE",
            NetfilterProtocol.Icmp => "ICMP",
            NetfilterProtocol.IcmpV6 => "ICMPv6",
            NetfilterProtocol.Ah => "AH",
            NetfilterProtocol.Esp => "ESP",
            _ => ((int)p.Proto).ToString(CultureInfo.InvariantCulture),
        }).Append(' ');

        if (p.Has(NetfilterFields.IcmpTypeCode))
        {
            sb.Append(Inv($"TYPE={p.IcmpType} CODE={p.IcmpCode} "));
        }

        if (p.Has(NetfilterFields.Incomplete))
        {
            sb.Append(Inv($"INCOMPLETE [{p.IncompleteBytes} bytes] "));
        }

        if (p.Has(NetfilterFields.Ports))
        {
            sb.Append(Inv($"SPT={p.Spt} DPT={p.Dpt} "));
        }

        if (p.Has(NetfilterFields.Sequence))
        {
            sb.Append(Inv($"SEQ={p.Seq} ACK={p.Ack} "));
        }

        if (p.Has(NetfilterFields.TcpHeader))
        {
            sb.Append(Inv($"WINDOW={p.Window} RES=0x{p.Res:x2} "));
            foreach ((TcpFlags f, string name) in new[] { (TcpFlags.Ae, "AE"), (TcpFlags.Cwr, "CWR"), (TcpFlags.Ece, "ECE"), (TcpFlags.Urg, "URG"), (TcpFlags.Ack, "ACK"), (TcpFlags.Psh, "PSH"), (TcpFlags.Rst, "RST"), (TcpFlags.Syn, "SYN"), (TcpFlags.Fin, "FIN") })
            {
                if ((p.TcpFlags & f) != 0)
                {
                    sb.Append(name).Append(' ');
                }
            }

            sb.Append(Inv($"URGP={p.Urgp} "));
        }

        if (p.Has(NetfilterFields.TcpOptions))
        {
            sb.Append("OPT (").Append(Latin1(p.TcpOptions.Slice(message))).Append(") ");
        }

        if (p.Has(NetfilterFields.UdpLen))
        {
            sb.Append(Inv($"LEN={p.UdpLen} "));
        }

        if (p.Has(NetfilterFields.IcmpEcho))
        {
            sb.Append(Inv($"ID={p.IcmpId} SEQ={p.IcmpSeq} "));
        }

        if (p.Has(NetfilterFields.Parameter))
        {
            sb.Append(p.Proto == NetfilterProtocol.IcmpV6 ? Inv($"POINTER={p.Parameter:x8} ") : Inv($"PARAMETER={p.Parameter} "));
        }

        if (p.Has(NetfilterFields.Spi) && p.Proto is NetfilterProtocol.Ah or NetfilterProtocol.Esp)
        {
            sb.Append(Inv($"SPI=0x{p.Spi:x} "));
        }

        if (p.Has(NetfilterFields.Gateway))
        {
            sb.Append(Inv($"GATEWAY={p.Gateway} "));
        }

        if (p.Has(NetfilterFields.InnerPacket))
        {
            sb.Append('[');
            Packet(sb, inner, default, message);
            sb.Append("] ");
        }

        if (p.Has(NetfilterFields.Mtu))
        {
            sb.Append(Inv($"MTU={p.Mtu} "));
        }
    }

    public static string Full6(NetAddress a)
    {
        byte[] b = a.ToIPAddress().GetAddressBytes();
        var sb = new StringBuilder();
        for (int i = 0; i < 16; i += 2)
        {
            if (i > 0)
            {
                sb.Append(':');
            }

            sb.Append(b[i].ToString("x2", CultureInfo.InvariantCulture)).Append(b[i + 1].ToString("x2", CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }

    public static string Latin1(ReadOnlySpan<byte> s) => Encoding.Latin1.GetString(s);

    public static byte[] Bytes(string latin1) => Encoding.Latin1.GetBytes(latin1);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
