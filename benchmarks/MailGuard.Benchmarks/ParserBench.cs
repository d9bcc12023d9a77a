using BenchmarkDotNet.Attributes;
using MailGuard.Parsing;

namespace MailGuard.Benchmarks;

/// <summary>Per-line cost of the parsing core; [MemoryDiagnoser] shows the bytes allocated per call (must be 0 B).</summary>
[MemoryDiagnoser]
public class ParserBench
{
    // A captured OUTPUT entry as rsyslog writes it (Debian <= 11 / Ubuntu <= 22.04 traditional format).
    private static readonly byte[] s_wrapped = "Nov 23 19:23:51 vps01 kernel: [  620.155126] IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.100.23 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=7613 DF PROTO=TCP SPT=41270 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=1001 GID=1001 "u8.ToArray();

    private static readonly byte[] s_body = "IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.100.23 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=7613 DF PROTO=TCP SPT=41270 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=1001 GID=1001 "u8.ToArray();

    private static readonly byte[] s_ipv6 = "2026-11-23T19:23:51.155181+00:00 vps01 kernel: [  620.155126] IPTABLES TCP-OUT 587:IN= OUT=eth0 SRC=2001:0db8:0000:0000:0000:0000:0000:0010 DST=2001:0db8:0025:0000:0000:0000:0000:0020 LEN=80 TC=0 HOPLIMIT=64 FLOWLBL=166373 PROTO=TCP SPT=47040 DPT=587 WINDOW=64800 RES=0x00 SYN URGP=0 UID=33 GID=33 "u8.ToArray();

    private static readonly byte[] s_other = "Nov 23 19:23:49 vps01 kernel: [  618.807102] docker0: port 1(veth3f2a1c0) entered blocking state"u8.ToArray();

    private readonly LogLineParser _parser = new();

    private readonly LogLineParser _lean = new(new LogLineParserOptions { LeanEntries = true });

    [Benchmark(Description = "NetfilterParser.Parse (body only)")]
    public int Body() => (int)NetfilterParser.Parse(s_body, out NetfilterEntry e) + e.Dpt;

    [Benchmark(Baseline = true, Description = "LogLineParser.Parse (rsyslog traditional, IPv4 entry)")]
    public int Wrapped() => (int)_parser.Parse(s_wrapped, out LogRecord r) + r.Entry.Dpt;

    [Benchmark(Description = "LogLineParser.Parse, LeanEntries (rsyslog traditional, IPv4 entry)")]
    public int WrappedLean() => (int)_lean.Parse(s_wrapped, out LogRecord r) + r.Entry.Dpt;

    [Benchmark(Description = "NetfilterParser.Parse, general parser only (body only)")]
    public int BodyGeneral() => (int)NetfilterParser.Parse(s_body, out NetfilterEntry e, BodyReading.General) + e.Dpt;

    [Benchmark(Description = "LogLineParser.Parse (RFC 3339, IPv6 entry)")]
    public int WrappedIPv6() => (int)_parser.Parse(s_ipv6, out LogRecord r) + r.Entry.Dpt;

    [Benchmark(Description = "LogLineParser.Parse (other kernel line)")]
    public int Other() => (int)_parser.Parse(s_other, out LogRecord r) + r.Message.Length;
}
