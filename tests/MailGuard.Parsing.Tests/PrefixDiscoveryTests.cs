using System.Text;

namespace MailGuard.Parsing.Tests;

/// <summary>
/// Issue 12: outgoing mail connections logged under another prefix. When the selected prefix logged nothing they are
/// analysed instead (and named); when it logged something they are counted, and a quiet selection is no all-clear.
/// </summary>
public class PrefixDiscoveryTests
{
    private static readonly string Webshell = File.ReadAllText(Path.Combine(Repo.Samples, "incident-webshell.log"), Encoding.Latin1);

    private static (TrafficStats Stats, ScanTotals Totals) Scan(string log, PrefixFilter? filter = null)
    {
        var scanner = new LogScanner(new LogScannerOptions
        {
            Parser = new LogLineParserOptions
            {
                Filter = filter ?? PrefixFilter.TcpOut,
                MailPorts = [25, 465, 587, 2525],
                Envelope = new EnvelopeOptions { ReferenceTime = new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero) },
            },
        });
        var sink = new TrafficStatsSink(new TrafficStats());
        scanner.Scan(Encoding.Latin1.GetBytes(log), ref sink);
        return (sink.Stats, scanner.Totals);
    }

    [Fact]
    public void Analyze_OnlyAnotherPrefixLogsMail_AnalysesItAndNamesIt()
    {
        string log = System.Text.RegularExpressions.Regex.Replace(Webshell, @"IPTABLES TCP-OUT \d+:", "SMTP-OUT: ");
        (TrafficStats stats, ScanTotals totals) = Scan(log);
        Assert.Equal(0, totals.Entries);
        Assert.Equal(6_060, totals.OtherPrefixMail);

        SpamVerdict v = SpamVerdict.Analyze(stats, totals, new VerdictOptions { UserNames = new Dictionary<uint, string> { [33] = "www-data" } });
        Assert.Equal(VerdictClass.DirectToMx, v.Class); // was "Nothing suspicious … 0 blocked connection entries"
        Assert.Equal("uid 33 (www-data)", v.Culprit!.Label);
        Assert.Same(stats.OtherPrefixMail, v.Stats);
        DiscoveredPrefix found = Assert.Single(v.DiscoveredPrefixes);
        Assert.Equal(("SMTP-OUT:", 6_060L), (found.Prefix, found.Entries));
        Assert.Equal("No 'IPTABLES TCP-OUT <port>:' entry in the log; analysed instead: the outgoing mail connections other rules logged, under 'SMTP-OUT:' (6,060).", v.Selection);
    }

    [Fact]
    public void Analyze_SelectionQuietButMailUnderOtherPrefixes_IsNoAllClear()
    {
        string log = System.Text.RegularExpressions.Regex.Replace(Webshell, @"IPTABLES TCP-OUT \d+:", "SMTP-OUT: ");
        PrefixFilter ufw = PrefixFilter.Exact("[UFW BLOCK] ");
        (TrafficStats stats, ScanTotals totals) = Scan(log, ufw);
        Assert.True(stats.All.Count > 0); // the UFW lines (inbound)
        SpamVerdict v = SpamVerdict.Analyze(stats, totals, new VerdictOptions { Filter = ufw });
        Assert.Equal(VerdictClass.MailUnderOtherPrefixes, v.Class);
        Assert.Equal("Mail traffic under other prefixes was not analysed: run with --all", v.Headline);
        Assert.True(v.Summary.Contains("6,060 outgoing connections to mail ports were logged under prefixes the selection ('[UFW BLOCK] ') leaves out", StringComparison.Ordinal), v.Summary);
        Assert.Empty(v.DiscoveredPrefixes);
    }

    [Fact]
    public void Analyze_SelectionLogsMail_OtherPrefixMailIsOnlyCounted()
    {
        string log = Webshell + "Nov 23 03:59:59 web01 kernel: [1804700.000000] IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.100.9 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=33 GID=33 \n";
        (TrafficStats stats, ScanTotals totals) = Scan(log);
        Assert.Equal(6_060, totals.Entries);
        Assert.Equal(1, totals.OtherPrefixMail); // an unprefixed LOG rule's line: the same traffic, not counted twice
        SpamVerdict v = SpamVerdict.Analyze(stats, totals);
        Assert.Equal(VerdictClass.DirectToMx, v.Class);
        Assert.Same(stats, v.Stats);
        Assert.Empty(v.DiscoveredPrefixes);
    }

    [Theory]
    [InlineData("IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.100.9 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 ", true)]
    [InlineData("IN=wg0 OUT=eth0 SRC=10.8.0.2 DST=198.51.100.9 LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=1 DF PROTO=TCP SPT=40000 DPT=587 WINDOW=64240 RES=0x00 SYN URGP=0 ", true)] // forwarded
    [InlineData("IN=eth0 OUT= SRC=198.51.100.9 DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 ", false)] // inbound
    [InlineData("IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.100.9 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 ", false)] // not a mail port
    [InlineData("IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.100.9 LEN=33 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=UDP SPT=40000 DPT=25 LEN=13 ", false)] // not TCP
    public void Parse_OtherPrefix_TellsOutgoingMail(string body, bool outgoingMail)
    {
        var parser = new LogLineParser(new LogLineParserOptions { MailPorts = [25, 465, 587, 2525] });
        Assert.Equal(LineKind.OtherPrefix, parser.Parse(Encoding.ASCII.GetBytes("Nov 23 02:14:07 vps kernel: DROP: " + body), out LogRecord r));
        Assert.Equal(outgoingMail, r.OutgoingMail);
        Assert.Equal(LineKind.OtherPrefix, new LogLineParser().Parse(Encoding.ASCII.GetBytes("Nov 23 02:14:07 vps kernel: DROP: " + body), out r));
        Assert.False(r.OutgoingMail); // without MailPorts nothing is noticed
    }

    [Fact]
    public void Analyze_NoNetfilterLineAtAll_IsADiagnosisWithTheRules()
    {
        (TrafficStats stats, ScanTotals totals) = Scan("Nov 23 02:14:07 vps kernel: [  1.0] docker0: port 1(veth0) entered blocking state\nNov 23 02:14:08 vps sshd[1]: hello\n");
        Assert.Equal(0, totals.NetfilterLines);
        SpamVerdict v = SpamVerdict.Analyze(stats, totals);
        Assert.Equal(VerdictClass.NoLogLines, v.Class); // was "Nothing suspicious: no outgoing mail traffic was logged"
        Assert.StartsWith("No LOG line at all", v.Headline, StringComparison.Ordinal);
        Assert.StartsWith("The input (2 lines, syslog (traditional)) holds no netfilter LOG line of any prefix", v.Summary, StringComparison.Ordinal);
        Assert.Contains(v.Advice.SelectMany(a => a.Commands), c => c.Contains("--log-prefix \"IPTABLES TCP-OUT $p:\" --log-uid", StringComparison.Ordinal) && c.Contains("-m limit", StringComparison.Ordinal));
        Assert.Contains("mgscan rules --check                     # as root: which LOG rules are missing", v.Advice[0].Commands);

        SpamVerdict without = SpamVerdict.Analyze(stats); // without totals the verdict cannot know
        Assert.Equal(VerdictClass.NothingSuspicious, without.Class);
    }
}
