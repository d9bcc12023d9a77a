using System.Runtime.InteropServices;
using System.Text;
using MailGuard.Parsing.Internals;

namespace MailGuard.Parsing.Tests;

/// <summary>
/// The straight-line reading of the usual layout (NetfilterParser.CommonLayout.cs) must give exactly what the
/// general parser gives — status, error, every field and range — for any input, and must take the lines it
/// is there for.
/// </summary>
public class CommonLayoutTests
{
    // Lines the straight-line reading is for, one per branch of it.
    private static readonly string[] s_seeds =
    [
        "IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=203.0.113.7 DST=198.51.100.23 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=7613 DF PROTO=TCP SPT=51234 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=1001 GID=1001 ",
        "IPTABLES TCP-OUT 587:IN= OUT=eth0 SRC=10.0.0.5 DST=192.0.2.200 LEN=52 TOS=0x10 PREC=0xC0 TTL=1 ID=0 CE DF MF PROTO=TCP SPT=1 DPT=587 SEQ=4294967295 ACK=0 WINDOW=65535 RES=0x00 ACK PSH FIN URGP=65535 UID=0 GID=0 MARK=0x1f ",
        "IPTABLES TCP-OUT 465:IN=eth1 OUT=eth0 MAC=02:00:00:00:00:0b:02:00:00:00:00:0a:08:00 SRC=172.17.0.2 DST=192.0.2.9 LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=123 DF PROTO=TCP SPT=40000 DPT=465 WINDOW=29200 RES=0x00 SYN URGP=0 ",
        "IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=2001:0db8:0000:0000:0000:0000:0000:0010 DST=2001:0db8:0025:0000:0000:0000:0000:0020 LEN=80 TC=0 HOPLIMIT=64 FLOWLBL=166373 PROTO=TCP SPT=47040 DPT=25 WINDOW=64800 RES=0x00 CWR ECE SYN URGP=0 UID=33 GID=33",
        "IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=2001:db8::10 DST=2001:db8:25::20 LEN=4294967295 TC=255 HOPLIMIT=255 FLOWLBL=1048575 PROTO=TCP SPT=47040 DPT=25 WINDOW=64800 RES=0xff SYN URGP=0 UID=4294967295",
        "UDP53:IN= OUT=eth0 SRC=192.0.2.1 DST=192.0.2.2 LEN=33 TOS=0x00 PREC=0x00 TTL=64 ID=37923 DF PROTO=UDP SPT=57435 DPT=53 LEN=13 UID=0 GID=0 MARK=0xffffffff   ",
        "IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=203.0.113.7 DST=198.51.100.23 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=7613 DF PROTO=TCP SPT=51234 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0\r\n",
    ];

    // Values that sit on and just past the widths the parser checks.
    private static readonly string[] s_numbers =
    [
        "0", "00", "1", "9", "255", "256", "65535", "65536", "1048575", "1048576", "4294967295", "4294967296",
        "99999999999", "0x00", "0xff", "0x100", "ff", "FF", "-1", "", "1a", "1.2", "12 ", "007",
    ];

    private static readonly byte[] s_bytes = " 0129:.=xXaAfFgGSYNDPT\t\0\u00ff"u8.ToArray();

    [Fact]
    public void Seeds_AreReadByTheStraightLineAndEqualTheGeneralParser()
    {
        foreach (string seed in s_seeds)
        {
            byte[] line = Encoding.UTF8.GetBytes(seed);
            AssertSame(line);
            Assert.True(TakesCommonLayout(line), seed);
        }
    }

    [Fact]
    public void RarerLayouts_AreLeftToTheGeneralParser()
    {
        // IP options, a fragment, TCP options, ICMP, a ulogd line: not the usual layout.
        string[] rare =
        [
            "X:IN=vB OUT= SRC=192.0.2.1 DST=192.0.2.2 LEN=32 TOS=0x00 PREC=0xC0 TTL=33 ID=1016 OPT (94040000) PROTO=TCP SPT=1 DPT=25 WINDOW=1 RES=0x00 SYN URGP=0 ",
            "X:IN=vB OUT= SRC=192.0.2.1 DST=192.0.2.2 LEN=1068 TOS=0x00 PREC=0x00 TTL=64 ID=38063 FRAG:370 PROTO=TCP ",
            "X:IN= OUT=eth0 SRC=192.0.2.1 DST=192.0.2.2 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=1 DPT=25 WINDOW=1 RES=0x00 SYN URGP=0 OPT (020405B4) UID=0 GID=0 ",
            "X:IN= OUT=eth0 SRC=192.0.2.1 DST=192.0.2.2 LEN=36 TOS=0x00 PREC=0x00 TTL=64 ID=44856 DF PROTO=ICMP TYPE=8 CODE=0 ID=4660 SEQ=1 ",
            "X:IN=eth0 OUT= MAC= SRC=192.0.2.1 DST=192.0.2.2 LEN=60 TOS=00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=1 DPT=25 SEQ=1 ACK=0 WINDOW=1 SYN URGP=0 ",
        ];
        foreach (string text in rare)
        {
            byte[] line = Encoding.UTF8.GetBytes(text);
            AssertSame(line);
            Assert.False(TakesCommonLayout(line), text);
        }
    }

    [Fact]
    public void EverySampleAndReferenceLine_GivesTheSameEntryBothWays()
    {
        int lines = 0;
        foreach (string path in Directory.EnumerateFiles(Repo.Samples))
        {
            foreach (byte[] line in Repo.Lines(path))
            {
                AssertSame(line);
                lines++;
            }
        }

        foreach (TheoryDataRow<string, string, NetfilterParseStatus, string> row in ReferenceLines.Bodies)
        {
            AssertSame(Encoding.UTF8.GetBytes(row.Data.Item2));
            lines++;
        }

        Assert.True(lines > 1000, $"only {lines} lines compared");
    }

    [Fact]
    public void TruncatedMutatedAndReorderedLines_GiveTheSameResultBothWays()
    {
        var random = new Random(20261201);
        int compared = 0;
        int malformed = 0;
        foreach (string seed in s_seeds)
        {
            byte[] line = Encoding.UTF8.GetBytes(seed);
            for (int length = 0; length <= line.Length; length++)
            {
                AssertSame(line.AsSpan(0, length).ToArray());
                compared++;
            }

            string[] tokens = seed.TrimEnd('\r', '\n').Split(' ');
            for (int round = 0; round < 3000; round++)
            {
                byte[] mutated = Mutate(random, line, tokens);
                NetfilterParseStatus status = AssertSame(mutated);
                compared++;
                if (status == NetfilterParseStatus.Malformed)
                {
                    malformed++;
                }
            }
        }

        // The mutations must reach the error paths, or the comparison proves little.
        Assert.True(malformed > compared / 10, $"{malformed} of {compared} mutated lines malformed");
    }

    [Fact]
    public void LeanReading_GivesTheReportFieldsOfTheFullParse_AndDiffersOnlyWherePassingOver()
    {
        var random = new Random(1201);
        int passedOver = 0;
        int lean = 0;
        var lines = new List<byte[]>();
        foreach (string path in Directory.EnumerateFiles(Repo.Samples))
        {
            lines.AddRange(Repo.Lines(path));
        }

        foreach (TheoryDataRow<string, string, NetfilterParseStatus, string> row in ReferenceLines.Bodies)
        {
            lines.Add(Encoding.UTF8.GetBytes(row.Data.Item2));
        }

        foreach (string seed in s_seeds)
        {
            byte[] line = Encoding.UTF8.GetBytes(seed);
            Assert.Equal(LeanOutcome.Lean, AssertLeanAgrees(line));
            for (int length = 0; length < line.Length; length++)
            {
                lines.Add(line.AsSpan(0, length).ToArray());
            }

            string[] tokens = seed.TrimEnd('\r', '\n').Split(' ');
            for (int round = 0; round < 3000; round++)
            {
                lines.Add(Mutate(random, line, tokens));
            }
        }

        foreach (byte[] line in lines)
        {
            switch (AssertLeanAgrees(line))
            {
                case LeanOutcome.Lean:
                    lean++;
                    break;
                case LeanOutcome.PassedOverDamage:
                    passedOver++;
                    break;
            }
        }

        // Both cases must be reached: lines read lean, and damage the lean reading passed over.
        Assert.True(lean > 5000, $"{lean} read lean");
        Assert.True(passedOver > 500, $"{passedOver} with damage passed over");
    }

    [Theory]
    [InlineData("TTL=64", "TTL=999", LineKind.Entry)] // out of range, in a field the report does not use
    [InlineData("ID=7613", "ID=76x3", LineKind.Entry)]
    [InlineData("WINDOW=64240", "WINDOW=", LineKind.Entry)]
    [InlineData("DPT=25", "DPT=2x5", LineKind.Malformed)] // a field the report uses
    [InlineData("UID=1001", "UID=", LineKind.Malformed)]
    [InlineData("DST=198.51.100.23", "DST=198.51.100.256", LineKind.Malformed)]
    [InlineData("TOS=0x00", "TOS=00", LineKind.LookAlike)] // ulogd's TOS=%02X is still told apart
    public void LeanEntries_CountsDamageOnlyInPassedOverFieldsAsAnEntry(string field, string damaged, LineKind lean)
    {
        string line = "Nov 23 02:14:07 vps kernel: [81234.567890] " + s_seeds[0].Replace(field, damaged, StringComparison.Ordinal);
        byte[] bytes = Encoding.UTF8.GetBytes(line);
        var full = new LogLineParser();
        var leanParser = new LogLineParser(new LogLineParserOptions { LeanEntries = true });
        LineKind fullKind = full.Parse(bytes, out LogRecord f);
        Assert.Equal(lean == LineKind.Entry ? LineKind.Malformed : lean, fullKind);
        Assert.Equal(lean, leanParser.Parse(bytes, out LogRecord l));
        if (lean == LineKind.Entry)
        {
            // The full parse stopped at the damage; the lean one read the report's fields past it.
            Assert.Equal(f.Entry.Src, l.Entry.Src);
            Assert.Equal((NetAddress.FromIPv4(0xCB007107), NetAddress.FromIPv4(0xC6336417), (ushort)51234, (ushort)25, 1001u, 1001u), (l.Entry.Src, l.Entry.Dst, l.Entry.Spt, l.Entry.Dpt, l.Entry.Uid, l.Entry.Gid));
        }
    }

    private enum LeanOutcome
    {
        Same,
        Lean,
        PassedOverDamage,
    }

    // Fields the lean reading leaves unset: the IPv4 header after LEN= (IPv6 is read in full) and the TCP header after DPT=.
    private const NetfilterFields Ipv4PassedOver = NetfilterFields.Tos | NetfilterFields.Ttl | NetfilterFields.Id | NetfilterFields.Frag | NetfilterFields.IpOptions;
    private const NetfilterFields TcpPassedOver = NetfilterFields.Sequence | NetfilterFields.TcpHeader | NetfilterFields.TcpOptions;

    private static LeanOutcome AssertLeanAgrees(byte[] line)
    {
        NetfilterParseStatus full = NetfilterParser.Parse(line, out NetfilterEntry f, BodyReading.General);
        NetfilterParseStatus lean = NetfilterParser.Parse(line, out NetfilterEntry l, BodyReading.Lean);
        string text = Encoding.Latin1.GetString(line);
        if (MemoryMarshal.AsBytes(new ReadOnlySpan<NetfilterEntry>(in f)).SequenceEqual(MemoryMarshal.AsBytes(new ReadOnlySpan<NetfilterEntry>(in l))))
        {
            Assert.True(full == lean, text);
            return LeanOutcome.Same; // the general parser read it (or the lean reading gave every field)
        }

        if (f.Error == NetfilterError.InvalidInterface || l.Error == NetfilterError.InvalidInterface)
        {
            // A device name no device can have (checked after the body, before any error in it): both readings say so, at the name.
            Assert.True(full == NetfilterParseStatus.Malformed && lean == NetfilterParseStatus.Malformed, text);
            Assert.Equal((f.Error, f.ErrorOffset), (l.Error, l.ErrorOffset));
            Assert.Equal((f.In, f.Out, f.PhysIn, f.PhysOut), (l.In, l.Out, l.PhysIn, l.PhysOut));
            return LeanOutcome.Same;
        }

        // Read lean: an entry whose report fields are the full parse's.
        Assert.Equal(f.Packet.Len, l.Packet.Len);
        Assert.True(lean == NetfilterParseStatus.Entry, $"{lean}: {text}");
        NetfilterFields passedOver = TcpPassedOver | (f.Src.IsIPv4 ? Ipv4PassedOver : NetfilterFields.None);
        Assert.Equal(NetfilterFields.None, l.Fields & passedOver);
        Assert.Equal(l.Prefix, f.Prefix);
        Assert.Equal(l.In, f.In);
        Assert.Equal(l.Out, f.Out);
        Assert.Equal(l.Src, f.Src);
        Assert.Equal(l.Dst, f.Dst);
        if (full == NetfilterParseStatus.Entry)
        {
            Assert.True((f.Fields & ~passedOver) == l.Fields, $"{f.Fields} / {l.Fields}: {text}");
            Assert.Equal((f.Proto, f.Spt, f.Dpt, f.Packet.UdpLen), (l.Proto, l.Spt, l.Dpt, l.Packet.UdpLen));
            Assert.Equal((f.Uid, f.Gid, f.Mark), (l.Uid, l.Gid, l.Mark));
            Assert.Equal(f.Packet.Range, l.Packet.Range);
            return LeanOutcome.Lean;
        }

        // The full parse found damage: it must lie in what the lean reading passed over (after TOS= up to
        // PROTO=, or after DPT= up to the URGP= value), never in a field the report uses.
        Assert.True(full == NetfilterParseStatus.Malformed, $"{full}: {text}");
        ReadOnlySpan<byte> s = line;
        int afterDst = s.IndexOf(" TOS="u8) + 1;
        int proto = afterDst + s[afterDst..].IndexOf(" PROTO="u8) + 1;
        int dpt = s.IndexOf(" DPT="u8);
        int afterDpt = dpt < 0 ? -1 : dpt + 5 + s[(dpt + 5)..].IndexOf((byte)' ') + 1;
        int urgp = afterDpt < 0 ? -1 : afterDpt + s[afterDpt..].IndexOf("URGP="u8);
        int at = f.ErrorOffset;
        bool inIpHeader = at >= afterDst && at <= proto;
        bool inTcpHeader = afterDpt >= 0 && urgp >= afterDpt && at >= afterDpt && at <= urgp;
        Assert.True(inIpHeader || inTcpHeader, $"error {f.Error} at {at} (IP header {afterDst}..{proto}, TCP {afterDpt}..{urgp}): {text}");
        return LeanOutcome.PassedOverDamage;
    }

    private static byte[] Mutate(Random random, byte[] line, string[] tokens)
    {
        switch (random.Next(6))
        {
            case 0: // one byte replaced
            {
                byte[] b = (byte[])line.Clone();
                b[random.Next(b.Length)] = s_bytes[random.Next(s_bytes.Length)];
                return b;
            }

            case 1: // one byte deleted
            {
                int at = random.Next(line.Length);
                return [.. line.AsSpan(0, at), .. line.AsSpan(at + 1)];
            }

            case 2: // one byte inserted
            {
                int at = random.Next(line.Length + 1);
                return [.. line.AsSpan(0, at), s_bytes[random.Next(s_bytes.Length)], .. line.AsSpan(at)];
            }

            case 3: // a field's value replaced by a boundary value
            {
                string[] t = (string[])tokens.Clone();
                int i = random.Next(t.Length);
                int eq = t[i].IndexOf('=', StringComparison.Ordinal);
                t[i] = (eq >= 0 ? t[i][..(eq + 1)] : string.Empty) + s_numbers[random.Next(s_numbers.Length)];
                return Encoding.UTF8.GetBytes(string.Join(' ', t));
            }

            case 4: // two neighbouring fields swapped
            {
                string[] t = (string[])tokens.Clone();
                int i = random.Next(t.Length - 1);
                (t[i], t[i + 1]) = (t[i + 1], t[i]);
                return Encoding.UTF8.GetBytes(string.Join(' ', t));
            }

            default: // a field dropped or doubled
            {
                var t = new List<string>(tokens);
                int i = random.Next(t.Count);
                if (random.Next(2) == 0)
                {
                    t.RemoveAt(i);
                }
                else
                {
                    t.Insert(i, t[i]);
                }

                return Encoding.UTF8.GetBytes(string.Join(' ', t));
            }
        }
    }

    private static NetfilterParseStatus AssertSame(byte[] line)
    {
        NetfilterParseStatus general = NetfilterParser.Parse(line, out NetfilterEntry slow, BodyReading.General);
        NetfilterParseStatus fast = NetfilterParser.Parse(line, out NetfilterEntry quick, BodyReading.Common);
        string text = Encoding.Latin1.GetString(line);
        Assert.True(general == fast, $"{general} vs {fast}: {text}");
        Assert.Equal(Describe.Entry(slow, line), Describe.Entry(quick, line));

        // Every field, range and flag, including those Describe leaves out.
        ReadOnlySpan<byte> a = MemoryMarshal.AsBytes(new ReadOnlySpan<NetfilterEntry>(in slow));
        ReadOnlySpan<byte> b = MemoryMarshal.AsBytes(new ReadOnlySpan<NetfilterEntry>(in quick));
        Assert.True(a.SequenceEqual(b), "entries differ: " + text);
        return general;
    }

    /// <summary>Whether the straight-line reading itself accepts the line (not the general parser after it declined).</summary>
    private static bool TakesCommonLayout(byte[] line)
    {
        int len = line.Length;
        while (len > 0 && line[len - 1] is (byte)'\n' or (byte)'\r')
        {
            len--;
        }

        ReadOnlySpan<byte> s = line.AsSpan(0, len);
        int at = s.IndexOf(" SRC="u8);
        Assert.True(at > 0);
        var sc = new Scanner(s, at + 1);
        NetfilterEntry entry = default;
        return NetfilterParser.TryCommonLayout(ref entry, ref sc, lean: false);
    }
}
