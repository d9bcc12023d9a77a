using System.Text;

namespace MailGuard.Parsing.Tests;

public class NetfilterParserTests
{
    [Theory]
    [MemberData(nameof(ReferenceLines.Bodies), MemberType = typeof(ReferenceLines))]
    public void Parse_ReferenceLine_GivesExpectedFields(string name, string line, NetfilterParseStatus status, string expectations)
    {
        _ = name;
        byte[] bytes = Encoding.UTF8.GetBytes(line);
        NetfilterParseStatus got = NetfilterParser.Parse(bytes, out NetfilterEntry entry);
        Assert.Equal(status, got);
        Describe.AssertMatches(Describe.Entry(entry, bytes), expectations);
    }

    [Theory]
    [MemberData(nameof(ReferenceLines.Bodies), MemberType = typeof(ReferenceLines))]
    public void Parse_ReferenceLine_RendersBackToTheSameText(string name, string line, NetfilterParseStatus status, string expectations)
    {
        _ = name;
        _ = expectations;
        if (status != NetfilterParseStatus.Entry)
        {
            return;
        }

        byte[] bytes = Encoding.UTF8.GetBytes(line);
        Assert.Equal(NetfilterParseStatus.Entry, NetfilterParser.Parse(bytes, out NetfilterEntry entry));

        // Every field printed back from the parsed values: equal text means nothing was skipped or misread.
        Assert.Equal(KernelText.Latin1(bytes).TrimEnd(' '), KernelText.Render(entry, bytes).TrimEnd(' '));
    }

    [Theory]
    [MemberData(nameof(ReferenceLines.Bodies), MemberType = typeof(ReferenceLines))]
    public void Parse_WithoutTrailingSpaceOrWithCrLf_GivesTheSameEntry(string name, string line, NetfilterParseStatus status, string expectations)
    {
        _ = name;
        byte[] original = Encoding.UTF8.GetBytes(line);
        foreach (string variant in new[] { line.TrimEnd(' '), line.TrimEnd(' ') + "\r\n", line + "\r", line + "\n" })
        {
            byte[] bytes = Encoding.UTF8.GetBytes(variant);
            Assert.Equal(status, NetfilterParser.Parse(bytes, out NetfilterEntry entry));
            Describe.AssertMatches(Describe.Entry(entry, bytes), expectations);
        }

        Assert.Equal(status, NetfilterParser.Parse(original, out _));
    }

    [Theory]
    [MemberData(nameof(ReferenceLines.Bodies), MemberType = typeof(ReferenceLines))]
    public void Parse_TruncatedAtEveryLength_NeverThrowsAndNeverInventsValues(string name, string line, NetfilterParseStatus status, string expectations)
    {
        _ = name;
        _ = expectations;
        byte[] full = Encoding.UTF8.GetBytes(line);
        NetfilterParser.Parse(full, out NetfilterEntry whole);
        Dictionary<string, string> wholeFields = Describe.Entry(whole, full);

        for (int cut = 0; cut < full.Length; cut++)
        {
            byte[] part = full[..cut];
            NetfilterParseStatus got = NetfilterParser.Parse(part, out NetfilterEntry entry);
            if (status == NetfilterParseStatus.Ebtables)
            {
                Assert.True(got is NetfilterParseStatus.Ebtables or NetfilterParseStatus.NotNetfilter or NetfilterParseStatus.Malformed, $"cut {cut}: {got}");
                continue;
            }

            Assert.NotEqual(NetfilterParseStatus.Ulogd, got);
            Assert.NotEqual(NetfilterParseStatus.Ebtables, got);
            if (got == NetfilterParseStatus.NotNetfilter)
            {
                continue;
            }

            // Whatever was recognised must be what the whole line says, except the very last number,
            // which the cut may have shortened (the kernel's own truncation looks just like that).
            Dictionary<string, string> fields = Describe.Entry(entry, part);
            string? last = LastKeyBeforeCut(part);
            foreach ((string key, string value) in fields)
            {
                if (key == "prefix" || IsCutField(key, last))
                {
                    continue;
                }

                Assert.True(wholeFields.TryGetValue(key, out string? expected), $"cut {cut}: field {key}={value} is not in the whole line");
                Assert.Equal(expected, value);
            }

            if (got == NetfilterParseStatus.Malformed)
            {
                Assert.InRange(entry.ErrorOffset, 0, part.Length);
                Assert.NotEqual(NetfilterError.None, entry.Error);
            }
        }
    }

    private static string? LastKeyBeforeCut(byte[] part)
    {
        string s = KernelText.Latin1(part);
        int sp = s.LastIndexOf(' ');
        string tail = s[(sp + 1)..];
        int eq = tail.IndexOfAny(['=', ':']);
        return eq > 0 ? tail[..eq] : null;
    }

    private static bool IsCutField(string key, string? lastKernelKey)
    {
        if (lastKernelKey is null)
        {
            return false;
        }

        string k = key.StartsWith("inner.", StringComparison.Ordinal) ? key[6..] : key;
        return lastKernelKey switch
        {
            "LEN" => k is "len" or "udplen",
            "ID" => k is "id" or "icmpid" or "fragid",
            "SEQ" => k is "seq" or "icmpseq",
            "FLOWLBL" => k == "flowlbl",
            "PARAMETER" or "POINTER" => k == "param",
            "IPDST" => k == "arp.ipdst",
            "OPCODE" => k == "arp.op",
            _ => string.Equals(k, lastKernelKey, StringComparison.OrdinalIgnoreCase),
        };
    }

    [Theory]
    [InlineData("IPTABLES TCP-OUT 25:", "IPTABLES TCP-OUT 25:")]
    [InlineData("", "")]
    [InlineData("[UFW BLOCK] ", "[UFW BLOCK] ")]
    [InlineData("[FW_ADT]D=O CD=O ", "[FW_ADT]D=O CD=O ")]
    [InlineData("fw-chk drop [STATE=invalid] ", "fw-chk drop [STATE=invalid] ")]
    [InlineData("DESCR=\"no rule description\" ", "DESCR=\"no rule description\" ")]
    [InlineData("Shorewall:net2fw:DROP:", "Shorewall:net2fw:DROP:")]
    [InlineData("LOGIN", "LOGIN")]
    [InlineData("IN=x ", "IN=x ")]
    public void Parse_PrefixWithSpacesEqualsOrLookAlikes_IsKeptVerbatim(string prefix, string expected)
    {
        byte[] line = Encoding.UTF8.GetBytes(prefix + "IN= OUT=eth0 SRC=203.0.113.7 DST=198.51.100.23 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=51234 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=1001 GID=1001 ");
        Assert.Equal(NetfilterParseStatus.Entry, NetfilterParser.Parse(line, out NetfilterEntry e));
        Assert.Equal(expected, Encoding.UTF8.GetString(e.Prefix.Slice(line)));
        Assert.Equal(25, e.Dpt);
        Assert.Equal(1001u, e.Uid);
    }

    [Fact]
    public void Parse_RawNonUtf8Prefix_IsKeptAsBytes()
    {
        byte[] prefix = [(byte)'B', (byte)'A', (byte)'D', 0xFF, 0xFE, 0x01, (byte)'P', (byte)'F', (byte)'X', (byte)' '];
        byte[] line = [.. prefix, .. "IN=vB OUT= MAC=02:00:00:00:00:0b:02:00:00:00:00:0a:08:00 SRC=192.0.2.1 DST=192.0.2.2 LEN=29 TOS=0x00 PREC=0x00 TTL=64 ID=51235 DF PROTO=UDP SPT=58760 DPT=7100 LEN=9 "u8];
        Assert.Equal(NetfilterParseStatus.Entry, NetfilterParser.Parse(line, out NetfilterEntry e));
        Assert.Equal(prefix, e.Prefix.Slice(line).ToArray());
        Assert.Equal(7100, e.Dpt);
    }

    [Fact]
    public void Parse_LongestNftPrefix_IsKeptWhole()
    {
        string prefix = new string('p', 125) + ": ";
        Assert.Equal(127, prefix.Length);
        byte[] line = Encoding.UTF8.GetBytes(prefix + "IN= OUT=vA SRC=192.0.2.1 DST=192.0.2.2 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=24356 DF PROTO=TCP SPT=42070 DPT=25 SEQ=1737044203 ACK=0 WINDOW=64240 RES=0x00 SYN URGP=0 OPT (020405B40402080A34A8C08E000000000103030A) UID=1000 GID=1000 ");
        Assert.Equal(NetfilterParseStatus.Entry, NetfilterParser.Parse(line, out NetfilterEntry e));
        Assert.Equal(127, e.Prefix.Length);
        Assert.Equal(1000u, e.Gid);
    }

    [Theory]
    [InlineData("sshd[812]: Invalid user LOGIN=admin OUT=now from 192.0.2.1")]
    [InlineData("audit: IN= OUT= user said hello")]
    [InlineData("docker0: port 1(veth3f2a1c0) entered blocking state")]
    [InlineData("")]
    [InlineData("IN=")]
    [InlineData("LOG IN=eth0 something")]
    public void Parse_OrdinaryMessage_IsNotNetfilter(string message)
    {
        Assert.Equal(NetfilterParseStatus.NotNetfilter, NetfilterParser.Parse(Encoding.UTF8.GetBytes(message), out _));
    }

    [Theory]
    [InlineData("[LAN_LOCAL-RET-2147483647] DESCR=\"no rule description\" IN=eth1 OUT= MAC=f0:9f:c2:00:00:01:00:00:00:00:00:02:08:00 SRC=192.168.1.100 DST=192.168.1.1 LEN=60 TOS=00 PREC=0x00 TTL=64 ID=5 DF PROTO=TCP SPT=1 DPT=22 SEQ=1 ACK=0 WINDOW=29200 SYN URGP=0 MARK=40000")]
    [InlineData("[DROP] IN=eth0 OUT= MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 SRC=192.0.2.1 DST=192.0.2.2 LEN=60 TOS=10 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=1 DPT=22 SEQ=1 ACK=0 WINDOW=64240 SYN URGP=0 UID=0 GID=0 MARK=0")]
    [InlineData("ULOG IN=eth0 OUT= MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 SRC=192.0.2.1 DST=192.0.2.2 LEN=52 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=SCTP SPT=1 DPT=2")]
    public void Parse_UlogdImitation_IsRecognisedAsUlogd(string message)
    {
        Assert.Equal(NetfilterParseStatus.Ulogd, NetfilterParser.Parse(Encoding.UTF8.GetBytes(message), out _));
    }

    [Theory]
    [InlineData("X IN= OUT=eth0 SRC=192.0.2.1 DST=192.0.2.2 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=70000 DPT=25 WINDOW=1 RES=0x00 SYN URGP=0 ", NetfilterError.InvalidNumber)]
    [InlineData("X IN= OUT=eth0 SRC=192.0.2.1 DST=192.0.2.999 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=1 DPT=25 WINDOW=1 RES=0x00 SYN URGP=0 ", NetfilterError.InvalidAddress)]
    [InlineData("X IN= OUT=eth0 SRC=192.0.2.1 DST=192.0.2.2 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=1 DPT=25 WINDOW=1 RES=0x00 SYN URGP=0 HELLO", NetfilterError.UnexpectedToken)]
    [InlineData("X IN= OUT=eth0 SRC=192.0.2.1 DST=192.0.2.2 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=1 DPT=25 ", NetfilterError.UnexpectedEnd)]
    [InlineData("X IN= OUT=eth0 SRC=192.0.2.1 DST=192.0.2.2 LEN=60 TOS=0x00 PREC=0x00 TTL=300 ID=1 DF PROTO=TCP SPT=1 DPT=25 WINDOW=1 RES=0x00 SYN URGP=0 ", NetfilterError.InvalidNumber)]
    [InlineData("X IN= OUT=eth0 SRC=192.0.2.1 DST=192.0.2.2 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF ", NetfilterError.UnexpectedEnd)]
    [InlineData("X IN= OUT=eth0 ", NetfilterError.UnexpectedEnd)]
    [InlineData("X IN= OUT=eth0 SR", NetfilterError.UnexpectedEnd)]
    public void Parse_BrokenLine_IsMalformedWithWhatWasRecognised(string message, NetfilterError error)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(message);
        Assert.Equal(NetfilterParseStatus.Malformed, NetfilterParser.Parse(bytes, out NetfilterEntry e));
        Assert.Equal(error, e.Error);
        Assert.InRange(e.ErrorOffset, 0, bytes.Length);
        Assert.Equal("X ", Encoding.UTF8.GetString(e.Prefix.Slice(bytes)));
        Assert.Equal("eth0", Encoding.UTF8.GetString(e.Out.Slice(bytes)));
        if (message.Contains("SRC=", StringComparison.Ordinal))
        {
            Assert.Equal("192.0.2.1", e.Src.ToString());
        }
    }

    /// <summary>A line with <paramref name="name"/> (Latin-1: one char a byte) in <paramref name="field"/>.</summary>
    private static byte[] WithInterface(string field, string name)
    {
        string ifs = field switch
        {
            "IN" => $"IN={name} OUT=eth0",
            "OUT" => $"IN=wg0 OUT={name}",
            "PHYSIN" => $"IN=br0 OUT=br0 PHYSIN={name}",
            _ => $"IN=br0 OUT=br0 PHYSIN=eth1 PHYSOUT={name}",
        };
        return Encoding.Latin1.GetBytes($"IPTABLES TCP-OUT 25:{ifs} SRC=10.8.0.2 DST=192.0.2.2 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 ");
    }

    [Theory]
    [InlineData("IN", "x;id>/tmp/PWNED;#")] // '/'
    [InlineData("IN", "abcdefghijklmnop")] // 16 bytes: IFNAMSIZ is 16 with the NUL
    [InlineData("IN", "wg0:1")] // ':' (an address label, not a device)
    [InlineData("IN", ".")]
    [InlineData("IN", "..")]
    [InlineData("IN", "a\tb")]
    [InlineData("IN", "a\rb")]
    [InlineData("IN", "a\vb")]
    [InlineData("IN", "a\fb")]
    [InlineData("IN", "\xc3\xa0")] // U+00E0 in UTF-8: 0xA0 is white space to the kernel
    [InlineData("OUT", "eth0/1")]
    [InlineData("OUT", "a-very-long-name0")]
    [InlineData("PHYSIN", "x;id>/tmp/P;#")]
    [InlineData("PHYSOUT", "0123456789abcdef")]
    public void Parse_InterfaceNameTheKernelCannotPrint_IsMalformedAtTheName(string field, string name)
    {
        // dev_valid_name(): at most 15 bytes, not "." or "..", no '/', ':' or white space. Such a line was not
        // written by the kernel: a local user forged it (it still keeps what was recognised).
        string raw = System.Text.RegularExpressions.Regex.Unescape(name);
        byte[] line = WithInterface(field, raw);
        foreach (BodyReading reading in new[] { BodyReading.General, BodyReading.Common, BodyReading.Lean })
        {
            Assert.Equal(NetfilterParseStatus.Malformed, NetfilterParser.Parse(line, out NetfilterEntry e, reading));
            Assert.Equal(NetfilterError.InvalidInterface, e.Error);
            Assert.Equal(KernelText.Latin1(line).IndexOf(field + "=" + raw + " ", StringComparison.Ordinal) + field.Length + 1, e.ErrorOffset);
            Assert.Equal("IPTABLES TCP-OUT 25:", Encoding.Latin1.GetString(e.Prefix.Slice(line)));
            Assert.Equal("10.8.0.2", e.Src.ToString());
            Assert.Equal(25, e.Dpt);
        }

        var parser = new LogLineParser();
        byte[] logLine = [.. "2026-11-23T02:00:00+00:00 vps kernel: "u8, .. line];
        Assert.Equal(LineKind.Forged, parser.Parse(logLine, out _)); // not the kernel's text: never an entry, counted as forged
    }

    [Theory]
    [InlineData("IN", "br-1a2b3c4d5e6f")] // 15 bytes
    [InlineData("IN", "x;id>P;#")]
    [InlineData("IN", "$(id>P)")]
    [InlineData("IN", "`id>P`")]
    [InlineData("IN", "a'b\"c\\\\d")] // a backslash (Regex.Unescape halves them)
    [InlineData("IN", "\x1b]0;t\x07")]
    [InlineData("IN", "-x")]
    [InlineData("IN", "...")]
    [InlineData("OUT", "\x7f\x01")]
    [InlineData("PHYSIN", "\xe2\x80\xae")] // U+202E in UTF-8
    public void Parse_HostileButPossibleInterfaceName_IsAnEntry(string field, string name)
    {
        // root can name a device so: the parser keeps it (the verdict flags it, and every output escapes or quotes it).
        string raw = System.Text.RegularExpressions.Regex.Unescape(name);
        byte[] line = WithInterface(field, raw);
        foreach (BodyReading reading in new[] { BodyReading.General, BodyReading.Common, BodyReading.Lean })
        {
            Assert.Equal(NetfilterParseStatus.Entry, NetfilterParser.Parse(line, out NetfilterEntry e, reading));
            ByteRange got = field switch { "IN" => e.In, "OUT" => e.Out, "PHYSIN" => e.PhysIn, _ => e.PhysOut };
            Assert.Equal(raw, Encoding.Latin1.GetString(got.Slice(line)));
        }
    }

    [Fact]
    public void Parse_IcmpErrorInnerPacket_NeverLeaksIntoTheOuterPacket()
    {
        byte[] line = "A-ICMP-IN IN=vA OUT= MAC=02:00:00:00:00:0a:02:00:00:00:00:0b:08:00 SRC=192.0.2.2 DST=192.0.2.1 LEN=61 TOS=0x00 PREC=0xC0 TTL=64 ID=20191 PROTO=ICMP TYPE=3 CODE=3 [SRC=192.0.2.1 DST=192.0.2.2 LEN=33 TOS=0x00 PREC=0x00 TTL=64 ID=37923 DF PROTO=UDP SPT=57435 DPT=5000 LEN=13 ] "u8.ToArray();
        Assert.Equal(NetfilterParseStatus.Entry, NetfilterParser.Parse(line, out NetfilterEntry e));
        Assert.Equal("192.0.2.2", e.Src.ToString());
        Assert.Equal(0, e.Dpt);
        Assert.False(e.Has(NetfilterFields.Ports));
        Assert.Equal(NetfilterProtocol.Icmp, e.Proto);
        Assert.Equal(5000, e.InnerPacket.Dpt);
        Assert.Equal("192.0.2.1", e.InnerPacket.Src.ToString());
        Assert.StartsWith("SRC=192.0.2.1 ", Encoding.UTF8.GetString(e.InnerPacket.Range.Slice(line)), StringComparison.Ordinal);
        Assert.EndsWith("LEN=13", Encoding.UTF8.GetString(e.InnerPacket.Range.Slice(line)), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Ebtables_IsRecognisedAndNotParsedAsIp()
    {
        byte[] line = "EBTLOG IN=vCbr OUT=vDbr MAC source = 02:00:00:00:00:0c MAC dest = 02:00:00:00:00:0d proto = 0x0800 IP SRC=203.0.113.3 IP DST=203.0.113.4, IP tos=0x00, IP proto=17 SPT=49994 DPT=9999"u8.ToArray();
        Assert.Equal(NetfilterParseStatus.Ebtables, NetfilterParser.Parse(line, out NetfilterEntry e));
        Assert.False(e.Has(NetfilterFields.Src));
        Assert.Equal(0, e.Dpt);
    }

    [Fact]
    public void Parse_OldKernelPhysInBeforeOut_IsAccepted()
    {
        byte[] line = "INBOUND TCP: IN=br0 PHYSIN=eth0 OUT=br0 PHYSOUT=eth1 SRC=192.0.2.1 DST=192.0.2.2 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=1 DPT=25 WINDOW=5840 RES=0x00 SYN URGP=0 "u8.ToArray();
        Assert.Equal(NetfilterParseStatus.Entry, NetfilterParser.Parse(line, out NetfilterEntry e));
        Assert.Equal("eth0", Encoding.UTF8.GetString(e.PhysIn.Slice(line)));
        Assert.Equal("eth1", Encoding.UTF8.GetString(e.PhysOut.Slice(line)));
    }

    [Fact]
    public void Parse_OldKernelUidWithoutGid_IsAccepted()
    {
        byte[] line = "X IN= OUT=eth0 SRC=192.0.2.1 DST=192.0.2.2 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=1 DPT=25 WINDOW=5840 RES=0x00 SYN URGP=0 UID=33 "u8.ToArray();
        Assert.Equal(NetfilterParseStatus.Entry, NetfilterParser.Parse(line, out NetfilterEntry e));
        Assert.Equal(33u, e.Uid);
        Assert.False(e.Has(NetfilterFields.Gid));
    }

    [Fact]
    public void Parse_TruncatedIpHeader_IsAnEntryMarkedTruncated()
    {
        byte[] line = "X IN=eth0 OUT= MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 TRUNCATED"u8.ToArray();
        Assert.Equal(NetfilterParseStatus.Entry, NetfilterParser.Parse(line, out NetfilterEntry e));
        Assert.True(e.Has(NetfilterFields.Truncated));
    }
}
