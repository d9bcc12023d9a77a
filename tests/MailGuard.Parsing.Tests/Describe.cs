using System.Globalization;

namespace MailGuard.Parsing.Tests;

/// <summary>Test helper: the parsed values of an entry as "key" → "value" (absent fields are missing).</summary>
internal static class Describe
{
    public static Dictionary<string, string> Entry(in NetfilterEntry e, ReadOnlySpan<byte> msg)
    {
        var d = new Dictionary<string, string>
        {
            ["prefix"] = KernelText.Latin1(e.Prefix.Slice(msg)).Replace("\u00c3\u00a9", "é", StringComparison.Ordinal),
        };
        if (e.Has(NetfilterFields.In))
        {
            d["in"] = KernelText.Latin1(e.In.Slice(msg));
        }

        if (e.Has(NetfilterFields.Out))
        {
            d["out"] = KernelText.Latin1(e.Out.Slice(msg));
        }

        if (e.Has(NetfilterFields.PhysIn))
        {
            d["physin"] = KernelText.Latin1(e.PhysIn.Slice(msg));
        }

        if (e.Has(NetfilterFields.PhysOut))
        {
            d["physout"] = KernelText.Latin1(e.PhysOut.Slice(msg));
        }

        if (e.Has(NetfilterFields.Mac))
        {
            d["mac"] = KernelText.Latin1(e.Mac.Slice(msg));
        }

        if (e.Has(NetfilterFields.MacDecoded))
        {
            d["macsrc"] = KernelText.Latin1(e.MacSrc.Slice(msg));
            d["macdst"] = KernelText.Latin1(e.MacDst.Slice(msg));
            d["macproto"] = e.MacProto.ToString("x4", CultureInfo.InvariantCulture);
        }

        if (e.Has(NetfilterFields.Arp))
        {
            d["arp.op"] = Inv(e.ArpOpcode);
            if (e.Has(NetfilterFields.ArpAddresses))
            {
                d["arp.ipsrc"] = e.ArpIpSrc.ToString();
                d["arp.ipdst"] = e.ArpIpDst.ToString();
            }
        }

        Packet(d, "", e.Packet, msg);
        if (e.Packet.Has(NetfilterFields.InnerPacket))
        {
            Packet(d, "inner.", e.InnerPacket, msg);
        }

        if (e.Has(NetfilterFields.Uid))
        {
            d["uid"] = Inv(e.Uid);
        }

        if (e.Has(NetfilterFields.Gid))
        {
            d["gid"] = Inv(e.Gid);
        }

        if (e.Has(NetfilterFields.Mark))
        {
            d["mark"] = "0x" + e.Mark.ToString("x", CultureInfo.InvariantCulture);
        }

        return d;
    }

    private static void Packet(Dictionary<string, string> d, string k, in NetfilterPacket p, ReadOnlySpan<byte> msg)
    {
        if (p.Has(NetfilterFields.Src))
        {
            d[k + "src"] = p.Src.ToString();
        }

        if (p.Has(NetfilterFields.Dst))
        {
            d[k + "dst"] = p.Dst.ToString();
        }

        if (p.Has(NetfilterFields.Len))
        {
            d[k + "len"] = Inv(p.Len);
        }

        if (p.Has(NetfilterFields.Tos))
        {
            d[k + "tos"] = "0x" + p.Tos.ToString("X2", CultureInfo.InvariantCulture);
            d[k + "prec"] = "0x" + p.Prec.ToString("X2", CultureInfo.InvariantCulture);
        }

        if (p.Has(NetfilterFields.Ttl))
        {
            d[k + "ttl"] = Inv(p.Ttl);
        }

        if (p.Has(NetfilterFields.Id))
        {
            d[k + "id"] = Inv(p.Id);
        }

        // IPv4 flags are known once the parser got past them (to FRAG:, OPT or PROTO=).
        if ((p.Src.IsIPv4 && (p.Has(NetfilterFields.Proto) || p.Has(NetfilterFields.Frag) || p.Has(NetfilterFields.IpOptions))) || p.FragmentFlags != IpFragmentFlags.None)
        {
            d[k + "flags"] = p.FragmentFlags.ToString();
        }

        if (p.Has(NetfilterFields.Frag))
        {
            d[k + "frag"] = Inv(p.Frag);
        }

        if (p.Has(NetfilterFields.FragmentId))
        {
            d[k + "fragid"] = p.FragmentId.ToString("x8", CultureInfo.InvariantCulture);
        }

        if (p.Has(NetfilterFields.IpOptions))
        {
            d[k + "ipopt"] = KernelText.Latin1(p.IpOptions.Slice(msg));
        }

        if (p.Has(NetfilterFields.Ipv6Header))
        {
            d[k + "tc"] = Inv(p.Tc);
            d[k + "hoplimit"] = Inv(p.HopLimit);
            d[k + "flowlbl"] = Inv(p.FlowLabel);
        }

        if (p.Has(NetfilterFields.Proto))
        {
            d[k + "proto"] = p.Proto.ToString();
        }

        if (p.Has(NetfilterFields.Ports))
        {
            d[k + "spt"] = Inv(p.Spt);
            d[k + "dpt"] = Inv(p.Dpt);
        }

        if (p.Has(NetfilterFields.Sequence))
        {
            d[k + "seq"] = Inv(p.Seq);
            d[k + "ack"] = Inv(p.Ack);
        }

        if (p.Has(NetfilterFields.TcpHeader))
        {
            d[k + "window"] = Inv(p.Window);
            d[k + "res"] = "0x" + p.Res.ToString("x2", CultureInfo.InvariantCulture);
            d[k + "tcp"] = p.TcpFlags.ToString();
            d[k + "urgp"] = Inv(p.Urgp);
        }

        if (p.Has(NetfilterFields.TcpOptions))
        {
            d[k + "tcpopt"] = KernelText.Latin1(p.TcpOptions.Slice(msg));
        }

        if (p.Has(NetfilterFields.UdpLen))
        {
            d[k + "udplen"] = Inv(p.UdpLen);
        }

        if (p.Has(NetfilterFields.IcmpTypeCode))
        {
            d[k + "type"] = Inv(p.IcmpType);
            d[k + "code"] = Inv(p.IcmpCode);
        }

        if (p.Has(NetfilterFields.IcmpEcho))
        {
            d[k + "icmpid"] = Inv(p.IcmpId);
            d[k + "icmpseq"] = Inv(p.IcmpSeq);
        }

        if (p.Has(NetfilterFields.Gateway))
        {
            d[k + "gw"] = p.Gateway.ToString();
        }

        if (p.Has(NetfilterFields.Mtu))
        {
            d[k + "mtu"] = Inv(p.Mtu);
        }

        if (p.Has(NetfilterFields.Parameter))
        {
            d[k + "param"] = Inv(p.Parameter);
        }

        if (p.Has(NetfilterFields.Spi))
        {
            d[k + "spi"] = "0x" + p.Spi.ToString("x", CultureInfo.InvariantCulture);
        }

        if (p.Has(NetfilterFields.Incomplete))
        {
            d[k + "incomplete"] = Inv(p.IncompleteBytes);
        }

        if (p.Has(NetfilterFields.Truncated))
        {
            d[k + "truncated"] = "yes";
        }
    }

    /// <summary>Checks "key=value;key=-" expectations ("-" means: the field must be absent).</summary>
    public static void AssertMatches(Dictionary<string, string> actual, string expectations)
    {
        foreach (string pair in expectations.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            string key = pair[..eq];
            string value = pair[(eq + 1)..];
            if (value == "-")
            {
                Assert.False(actual.ContainsKey(key), $"field '{key}' should be absent but is '{(actual.TryGetValue(key, out string? v) ? v : "")}'");
            }
            else
            {
                Assert.True(actual.TryGetValue(key, out string? got), $"field '{key}' is missing; parsed: {string.Join(", ", actual.Select(kv => kv.Key + "=" + kv.Value))}");
                Assert.Equal(value, got);
            }
        }
    }

    private static string Inv(uint v) => v.ToString(CultureInfo.InvariantCulture);
}
