using System.Globalization;

namespace MailGuard.Parsing.Tests;

/// <summary>The library example of README.md, run as written (keep the two in step).</summary>
public class ReadmeExampleTests
{
    [Fact]
    public void ReadmeExample_PrintsWhatTheReadmeSays()
    {
        string readme = File.ReadAllText(Path.Combine(Repo.Root, "README.md"));
        var parser = new LogLineParser();   // default filter: IPTABLES TCP-OUT <port>:
        byte[] line = "Nov 23 02:14:07 vps kernel: [81234.567890] IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=203.0.113.7 DST=198.51.100.23 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=4242 DF PROTO=TCP SPT=51234 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=1001 GID=1001 "u8.ToArray();

        string printed = "";
        if (parser.Parse(line, out LogRecord r) == LineKind.Entry)
        {
            printed = string.Create(CultureInfo.InvariantCulture, $"uid {r.Entry.Uid} -> {r.Entry.Dst}:{r.Entry.Dpt} (rule port {r.RulePort}, {r.Envelope.Format}, uptime {r.Envelope.Uptime})");
        }

        Assert.Equal("uid 1001 -> 198.51.100.23:25 (rule port 25, Rfc3164, uptime 22:33:54.5678900)", printed);
        Assert.Contains("// " + printed, readme, StringComparison.Ordinal);
        Assert.Contains("IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=203.0.113.7 DST=198.51.100.23 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=4242", readme, StringComparison.Ordinal);
    }
}
