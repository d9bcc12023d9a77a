using System.Globalization;
using System.Text;

namespace MailGuard.Parsing.Tests;

/// <summary>Attempts vs packets, and each verdict class on small logs built here (the incident samples are in IncidentSampleTests).</summary>
public class SpamVerdictTests
{
    private static readonly DateTime Start = new(2026, 11, 23, 2, 0, 0);
    private static readonly Dictionary<uint, string> Names = new() { [0] = "root", [33] = "www-data", [107] = "postfix", [1002] = "shop", [1005] = "backup", [13] = "proxy" };

    /// <summary>Writes RFC 3339 kernel lines; each attempt is a SYN and its retransmissions (+1, +3, +7, +15 s).</summary>
    internal sealed class Log
    {
        private readonly StringBuilder _text = new();
        private int _id = 1000;
        private int _port = 40000;

        public int Lines { get; private set; }

        /// <summary>One attempt of <paramref name="uid"/> (or forwarded from <paramref name="inIf"/>); <paramref name="prefix"/> null: <c>IPTABLES TCP-OUT {dpt}:</c>.</summary>
        public void Attempt(DateTime t, uint? uid, string src, string dst, int dpt, int retransmissions = 0, string inIf = "", string outIf = "eth0", string? prefix = null)
        {
            int spt = _port++;
            int[] offsets = [0, 1, 3, 7, 15, 31];
            for (int i = 0; i <= retransmissions; i++)
            {
                DateTime at = t.AddSeconds(offsets[i]);
                string uidPart = uid is { } u ? string.Create(CultureInfo.InvariantCulture, $" UID={u} GID={u}") : "";
                _text.Append(CultureInfo.InvariantCulture, $"{at:yyyy-MM-ddTHH:mm:ss}.000000+00:00 vps kernel: {prefix ?? $"IPTABLES TCP-OUT {dpt}:"}IN={inIf} OUT={outIf} SRC={src} DST={dst} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID={_id++} DF PROTO=TCP SPT={spt} DPT={dpt} WINDOW=64240 RES=0x00 SYN URGP=0{uidPart} \n");
                Lines++;
            }
        }

        public TrafficStats Stats() => Stats(interfaceFromPrefix: false);

        /// <summary>The log as bytes.</summary>
        public byte[] Bytes() => Encoding.UTF8.GetBytes(_text.ToString());

        /// <summary>
        /// With <paramref name="interfaceFromPrefix"/>, every line's prefix (any prefix is selected) is taken as its
        /// input interface: text no kernel line can carry there (spaces, '/', newlines…) reaches the verdict.
        /// </summary>
        public TrafficStats Stats(bool interfaceFromPrefix)
        {
            var stats = new TrafficStats();
            var sink = new StatsSink(stats, interfaceFromPrefix);
            var scanner = interfaceFromPrefix ? new LogScanner(new LogScannerOptions { Parser = new LogLineParserOptions { Filter = PrefixFilter.All } }) : new LogScanner();
            scanner.Scan(Encoding.UTF8.GetBytes(_text.ToString()), ref sink);
            return stats;
        }
    }

    /// <summary>The library's sink; with <c>interfaceFromPrefix</c> each entry's prefix is first made its input interface.</summary>
    private readonly struct StatsSink(TrafficStats stats, bool interfaceFromPrefix = false) : ILogSink
    {
        public void OnLine(LineKind kind, ref LogRecord record)
        {
            if (interfaceFromPrefix && kind == LineKind.Entry)
            {
                record.Entry.In = record.Entry.Prefix;
            }

            new TrafficStatsSink(stats).OnLine(kind, ref record);
        }
    }

    [Fact]
    public async Task Advice_FollowsThePrefixAndTheMailPortsOfTheScan()
    {
        // No UID logged, under a prefix of the owner's own and with 2525 as a mail port: the advice logs the UID with
        // that prefix, for those ports (it said "IPTABLES TCP-OUT 25:" and ports 25, 465, 587 whatever the selection).
        var log = new Log();
        for (int i = 0; i < 300; i++)
        {
            int port = i % 2 == 0 ? 25 : 2525;
            log.Attempt(Start.AddSeconds(i * 3), null, "192.0.2.10", Dst(i), port, prefix: string.Create(CultureInfo.InvariantCulture, $"SMTP-OUT {port}:"));
        }

        var options = new MailScanOptions { Filter = PrefixFilter.Pattern("SMTP-OUT #:"), MailPorts = [25, 2525], TimeZone = TimeZoneInfo.Utc };
        MailScanReport report = await MailScan.StreamAsync(new MemoryStream(log.Bytes()), options, TestContext.Current.CancellationToken);
        Assert.Equal(300, report.All.Count);
        SpamVerdict v = report.Verdict();
        string[] commands = [.. v.Advice.SelectMany(a => a.Commands)];
        Assert.Contains("for p in 25 2525; do iptables -I OUTPUT -p tcp --dport $p -j LOG --log-prefix \"SMTP-OUT $p:\" --log-uid; done", commands);
        Assert.Contains("ss -tnp state syn-sent '( dport = :25 or dport = :2525 )'", commands);
        Assert.DoesNotContain(commands, c => c.Contains("TCP-OUT", StringComparison.Ordinal) || c.Contains("465", StringComparison.Ordinal));

        // No LOG line at all: the rules to add carry the selection's prefix too; an exact prefix is taken as it is, quoted for the shell.
        MailScanReport empty = await MailScan.StreamAsync(new MemoryStream("Nov 23 02:00:00 vps kernel: eth0: link up\n"u8.ToArray()), options with { Filter = PrefixFilter.Exact("MAIL \"$OUT\":") }, TestContext.Current.CancellationToken);
        SpamVerdict none = empty.Verdict();
        Assert.Equal(VerdictClass.NoLogLines, none.Class);
        Assert.Contains(none.Advice.SelectMany(a => a.Commands), c => c.StartsWith("for p in 25 2525; do iptables -I OUTPUT -p tcp --syn --dport $p", StringComparison.Ordinal) && c.EndsWith("--log-prefix \"MAIL \\\"\\$OUT\\\":\" --log-uid; done", StringComparison.Ordinal));
    }

    private static string Dst(int i) => string.Create(CultureInfo.InvariantCulture, $"198.{51 + (i / 65536)}.{(i / 256) % 256}.{i % 256}");

    /// <summary>uid 33 spams 300 attempts to 200 servers on port 25 from 02:10 (3 retransmissions each); postfix sends 6.</summary>
    private static Log WebShell()
    {
        var log = new Log();
        for (int i = 0; i < 6; i++)
        {
            log.Attempt(Start.AddMinutes(i * 2), 107, "192.0.2.10", Dst(1000 + i), 25);
        }

        for (int i = 0; i < 300; i++)
        {
            log.Attempt(Start.AddMinutes(10).AddSeconds(i * 3), 33, "192.0.2.10", Dst(i % 200), 25, retransmissions: 3);
        }

        return log;
    }

    [Fact]
    public void Attempts_RetransmissionsOfOneFlowCountOnce_AndTheSameFlowMuchLaterAgain()
    {
        var log = new Log();
        log.Attempt(Start, 33, "192.0.2.10", "198.51.100.7", 25, retransmissions: 4); // 5 packets within 15 s
        TrafficStats stats = log.Stats();
        Assert.Equal(5, stats.All.Count);
        Assert.Equal(1, stats.All.Attempts);
        Assert.Equal(new PortCount(5, 1), stats.Uids[33]!.Ports![25]);
        Assert.Equal(33u, stats.Uids[33]!.Gid);
    }

    [Fact]
    public void Attempts_SameSourcePortAfterTheRetryWindow_IsANewAttempt()
    {
        string line(DateTime t) => string.Create(CultureInfo.InvariantCulture, $"{t:yyyy-MM-ddTHH:mm:ss}+00:00 vps kernel: IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.100.7 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=33 GID=33\n");
        var stats = new TrafficStats();
        var sink = new StatsSink(stats);
        new LogScanner().Scan(Encoding.ASCII.GetBytes(line(Start) + line(Start.AddSeconds(60)) + line(Start.AddMinutes(10))), ref sink);
        Assert.Equal(3, stats.All.Count);
        Assert.Equal(2, stats.All.Attempts); // 60 s later: a retransmission; 10 min later: a new attempt
    }

    [Fact]
    public void AttemptTracker_RemembersOnlyTheFlowsOfTheWindow()
    {
        var tracker = new MailGuard.Parsing.Internals.AttemptTracker(TimeSpan.FromMinutes(2).Ticks);
        NetAddress src = NetAddress.FromIPv4(0xC000020A);
        int most = 0, attempts = 0;
        for (int i = 0; i < 60_000; i++)
        {
            long t = TimeSpan.TicksPerSecond * (i / 50); // 50 new flows a second for 20 minutes, each seen twice
            NetAddress dst = NetAddress.FromIPv4(0xC6336400u + (uint)(i % 5000));
            attempts += tracker.IsNew(src, dst, (ushort)(32768 + (i % 28000)), 25, t) ? 1 : 0;
            Assert.False(tracker.IsNew(src, dst, (ushort)(32768 + (i % 28000)), 25, t + TimeSpan.TicksPerSecond)); // its retransmission
            most = Math.Max(most, tracker.Remembered);
        }

        Assert.Equal(60_000, attempts);
        Assert.InRange(most, 6_000, 12_200); // at most two windows (2 x 2 minutes of 50 flows a second), not 60,000
    }

    [Theory]
    [InlineData(120, false)] // exactly the window after: still the same attempt (kept in whole seconds, no rounding)
    [InlineData(121, true)]
    [InlineData(0, false)]
    public void AttemptTracker_WholeSecondsAtTheWindowEdge_AreExact(int secondsLater, bool isNew)
    {
        var tracker = new MailGuard.Parsing.Internals.AttemptTracker(TimeSpan.FromMinutes(2).Ticks);
        long t0 = new DateTime(2026, 11, 23, 2, 14, 7, DateTimeKind.Utc).Ticks;
        NetAddress src = NetAddress.FromIPv4(0xC000020A), dst = NetAddress.FromIPv4(0xC6336407);
        Assert.True(tracker.IsNew(src, dst, 40000, 25, t0));
        Assert.Equal(isNew, tracker.IsNew(src, dst, 40000, 25, t0 + (secondsLater * TimeSpan.TicksPerSecond)));
    }

    [Fact]
    public void AttemptTracker_AgreesWithAModelThatForgetsNothing()
    {
        // Random flows, a third of them retransmitted within or after the window, times that only go
        // forward: the tracker (which grows, and drops old flows in place) must answer like a plain dictionary.
        var tracker = new MailGuard.Parsing.Internals.AttemptTracker(TimeSpan.FromMinutes(2).Ticks);
        var model = new Dictionary<(uint, ushort), long>();
        var rng = new Random(7);
        var recent = new List<(uint Dst, ushort Spt)>();
        long t = 0;
        int disagreements = 0, attempts = 0, grown = 0;
        for (int i = 0; i < 400_000; i++)
        {
            t += rng.Next(0, 3) * TimeSpan.TicksPerSecond / 10; // 0-0.2 s apart: about 1,200 flows a window at first...
            if (i == 200_000)
            {
                t += TimeSpan.TicksPerMinute * 5; // ...a pause longer than the window...
            }

            (uint Dst, ushort Spt) f = recent.Count > 0 && rng.Next(3) == 0 ? recent[rng.Next(recent.Count)] : ((uint)rng.Next(0, 5_000_000), (ushort)rng.Next(1024, 65535));
            recent.Add(f);
            if (recent.Count > 3_000)
            {
                recent.RemoveAt(0);
            }

            long window = TimeSpan.FromMinutes(2).Ticks;
            bool seen = model.TryGetValue(f, out long last);
            bool expected = !seen || t - last > window;
            // Times here are tenths of a second; the tracker keeps them to 1/8 s (exact for multiples of 1/8 s).
            bool edge = seen && (t % (TimeSpan.TicksPerSecond / 8) != 0 || last % (TimeSpan.TicksPerSecond / 8) != 0) && Math.Abs(t - last - window) <= TimeSpan.TicksPerSecond / 4;
            model[f] = t;
            bool got = tracker.IsNew(NetAddress.FromIPv4(0xC000020A), NetAddress.FromIPv4(f.Dst), f.Spt, 25, t);
            disagreements += got == expected || edge ? 0 : 1;
            attempts += got ? 1 : 0;
            grown = Math.Max(grown, tracker.Remembered);
        }

        Assert.Equal(0, disagreements);
        Assert.InRange(attempts, 300_000, 360_000); // two thirds new flows, and repeats picked from the last 3,000 flows (about 5 minutes) that came after the window
        Assert.InRange(grown, 1_000, 20_000); // two windows of flows at most, never all 400,000
    }

    [Fact]
    public void Verdict_WebUserWithHighFanOutOnPort25_IsDirectToMx()
    {
        TrafficStats stats = WebShell().Stats();
        SpamVerdict v = SpamVerdict.Analyze(stats, new VerdictOptions { UserNames = Names, Family = LinuxFamily.Debian });
        Assert.Equal(VerdictClass.DirectToMx, v.Class);
        Assert.Equal(Confidence.High, v.Confidence);
        Assert.Equal("uid 33 (www-data)", v.Culprit!.Label);
        Assert.Equal(300, v.Culprit.MailAttempts);
        Assert.Equal(1200, v.Culprit.MailPackets);
        Assert.Equal(200, v.Culprit.Stat.DistinctDestinations);
        Assert.Equal(306, v.MailAttempts);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 2, 10, 0, TimeSpan.Zero), v.BurstStart);
        Assert.Equal("Direct-to-MX spam from uid 33 (www-data), high confidence", v.Headline);
        Assert.StartsWith("uid 33 (www-data) made 98% of the logged mail connections: 300 attempts (1,200 packets with retransmissions) to 200 different servers on port 25 between 02:10 and 02:25 (2026-11-23), up to 20 a minute — the pattern of a compromised web application", v.Summary, StringComparison.Ordinal);
        Assert.Contains(v.Advice, a => a.Commands.Contains("iptables -I OUTPUT -p tcp --dport 25 -m owner ! --uid-owner postfix -j REJECT --reject-with tcp-reset"));
        Assert.Contains(v.Advice, a => a.Commands.Any(c => c.StartsWith("find /var/www -name '*.php' -newermt '2026-11-23 01:10'", StringComparison.Ordinal)));
        Assert.Contains(v.Advice, a => a.Commands.Contains("apt install iptables-persistent && netfilter-persistent save"));
    }

    [Fact]
    public void Verdict_ThresholdsCanBeChanged()
    {
        TrafficStats stats = WebShell().Stats();
        SpamVerdict v = SpamVerdict.Analyze(stats, new VerdictOptions { UserNames = Names, DirectToMxMinDestinations = 500 });
        Assert.Equal(VerdictClass.Unclear, v.Class); // 200 destinations no longer count as a wide fan-out
        SpamVerdict quiet = SpamVerdict.Analyze(stats, new VerdictOptions { MinAttempts = 1000 });
        Assert.Equal(VerdictClass.NothingSuspicious, quiet.Class);
    }

    [Fact]
    public void Verdict_ManyAttemptsToTwoSubmissionRelays_IsRelayAbuse()
    {
        var log = new Log();
        for (int i = 0; i < 400; i++)
        {
            log.Attempt(Start.AddSeconds(i), 1002, "192.0.2.10", i % 2 == 0 ? "203.0.113.25" : "203.0.113.26", i % 10 == 0 ? 465 : 587, retransmissions: 1);
        }

        SpamVerdict v = SpamVerdict.Analyze(log.Stats(), new VerdictOptions { UserNames = Names, Family = LinuxFamily.RedHat });
        Assert.Equal(VerdictClass.RelayAbuse, v.Class);
        Assert.Equal(Confidence.High, v.Confidence);
        Assert.Equal(360, v.Culprit!.AttemptsTo(587));
        Assert.Equal(40, v.Culprit.AttemptsTo(465));
        Assert.Contains(v.Advice, a => a.Commands.Contains("iptables -I OUTPUT -p tcp -m multiport --dports 465,587 -m owner --uid-owner 1002 -j REJECT --reject-with tcp-reset"));
        Assert.Contains(v.Advice, a => a.Commands.Contains("dnf install iptables-services && service iptables save && service ip6tables save"));
    }

    [Fact]
    public void Verdict_OneServerRetriedEveryMinute_IsARetryingClientWithoutBurst()
    {
        var log = new Log();
        for (int i = 0; i < 60; i++)
        {
            log.Attempt(Start.AddMinutes(i), 1005, "192.0.2.10", "198.51.100.99", 25, retransmissions: 4);
        }

        SpamVerdict v = SpamVerdict.Analyze(log.Stats(), new VerdictOptions { UserNames = Names });
        Assert.Equal(VerdictClass.RetryingClient, v.Class);
        Assert.Equal(60, v.Culprit!.MailAttempts);
        Assert.Equal(300, v.Culprit.MailPackets);
        Assert.Null(v.BurstStart);
        Assert.Contains(v.Advice, a => a.Commands.Contains("crontab -l -u backup"));
    }

    [Fact]
    public void Verdict_ForwardedTrafficFromManyVpnClients_IsAProxyRelay()
    {
        var log = new Log();
        for (int i = 0; i < 200; i++)
        {
            log.Attempt(Start.AddSeconds(i * 5), null, string.Create(CultureInfo.InvariantCulture, $"10.8.0.{2 + (i % 12)}"), Dst(i), 25, retransmissions: 2, inIf: "wg0");
        }

        SpamVerdict v = SpamVerdict.Analyze(log.Stats(), new VerdictOptions { UserNames = Names });
        Assert.Equal(VerdictClass.ProxyRelay, v.Class);
        Assert.Equal(ActorKind.ForwardedInterface, v.Culprit!.Kind);
        Assert.Equal("12 forwarded clients behind wg0", v.Culprit.Label);
        Assert.Equal(200, v.Culprit.MailAttempts);
        Assert.Contains(v.Advice, a => a.Commands.Contains("iptables -I FORWARD -i wg0 -p tcp -m multiport --dports 25,465,587,2525 -j REJECT --reject-with tcp-reset"));
        Assert.DoesNotContain("--log-uid", v.Summary, StringComparison.Ordinal); // forwarded packets never carry a UID
    }

    [Fact]
    public void Verdict_LowRateBehindAnInterfaceNoSystemWouldName_IsNoAllClear()
    {
        var log = new Log(); // 18 attempts from 3 clients: a low rate, but the name says the lines may be forged
        for (int i = 0; i < 18; i++)
        {
            log.Attempt(Start.AddMinutes(i * 2), null, string.Create(CultureInfo.InvariantCulture, $"10.8.0.{2 + (i % 3)}"), Dst(i), 25, inIf: "x;id>P;#");
        }

        SpamVerdict v = SpamVerdict.Analyze(log.Stats());
        Assert.Equal(VerdictClass.NothingSuspicious, v.Class);
        Assert.Equal("A low rate of mail traffic from 3 forwarded clients behind suspicious interface 'x;id>P;#': check these lines first", v.Headline);
        Assert.Contains("these lines may be forged", v.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Verdict_ForwardedFromAnInterfaceNoSystemWouldName_IsFlaggedAndOffersNoBlock()
    {
        // Issue 11: 60 forged lines made "x;id>/tmp/PWNED;#" the culprit, and the advice printed it raw in iptables,
        // ip neigh and nft lines that ran `id` when pasted. A name the kernel can print (no '/') but no system chooses:
        var log = new Log();
        for (int i = 0; i < 60; i++)
        {
            log.Attempt(Start.AddSeconds(i * 20), null, string.Create(CultureInfo.InvariantCulture, $"10.8.0.{2 + (i % 10)}"), Dst(i), 25, inIf: "x;id>P;#");
        }

        SpamVerdict v = SpamVerdict.Analyze(log.Stats(), new VerdictOptions { UserNames = Names, Family = LinuxFamily.Debian });
        Assert.Equal(VerdictClass.ProxyRelay, v.Class);
        Assert.True(v.Culprit!.SuspiciousName);
        Assert.Equal(Confidence.Low, v.Confidence);
        Assert.Equal("10 forwarded clients behind suspicious interface 'x;id>P;#'", v.Culprit.Label);
        Assert.Equal("Spam relayed for 10 forwarded clients behind suspicious interface 'x;id>P;#', low confidence", v.Headline);
        Assert.EndsWith("But the interface name 'x;id>P;#' is not one a system would choose (they are up to 15 letters, digits, '_', '.', '-' or '@'): these lines may be forged by a local user writing to the log; check them before acting on them.", v.Summary, StringComparison.Ordinal);
        Advice check = Assert.Single(v.Advice); // no block rule, no "keep the rules"
        Assert.Equal("Check these lines before acting on them: no system names an interface 'x;id>P;#'", check.Title);
        Assert.Contains("journalctl -k | grep -c -F -e 'IN=x;id>P;# '   # how many the kernel logged this boot (no user can log there)", check.Commands);
        Assert.DoesNotContain(v.Advice.SelectMany(a => a.Commands), c => c.Contains("x;id>P;#", StringComparison.Ordinal) && !c.Contains("'IN=x;id>P;# '", StringComparison.Ordinal));

        var usual = new Log(); // the same from wg0-1.100@x: usual, not flagged
        for (int i = 0; i < 60; i++)
        {
            usual.Attempt(Start.AddSeconds(i * 20), null, string.Create(CultureInfo.InvariantCulture, $"10.8.0.{2 + (i % 10)}"), Dst(i), 25, inIf: "wg0-1.100@x");
        }

        SpamVerdict real = SpamVerdict.Analyze(usual.Stats());
        Assert.False(real.Culprit!.SuspiciousName);
        Assert.Equal("10 forwarded clients behind wg0-1.100@x", real.Culprit.Label);
        Assert.Contains(real.Advice, a => a.Commands.Contains("iptables -I FORWARD -i wg0-1.100@x -p tcp -m multiport --dports 25,465,587,2525 -j REJECT --reject-with tcp-reset"));
        Assert.Contains(real.Advice, a => a.Commands.Contains("# nftables: nft insert rule inet filter forward iifname \"wg0-1.100@x\" tcp dport { 25, 465, 587, 2525 } reject with tcp reset"));
    }

    [Fact]
    public void Verdict_WithoutUidField_NamesTheAddressAndAdvisesLogUid()
    {
        var log = new Log();
        for (int i = 0; i < 100; i++)
        {
            log.Attempt(Start.AddSeconds(i * 10), null, "192.0.2.10", Dst(i), 25, retransmissions: 1);
        }

        SpamVerdict v = SpamVerdict.Analyze(log.Stats());
        Assert.Equal(VerdictClass.DirectToMx, v.Class);
        Assert.False(v.UidLogged);
        Assert.Equal(ActorKind.Source, v.Culprit!.Kind);
        Assert.Equal("192.0.2.10", v.Culprit.Key);
        Assert.Contains("no UID= field", v.Summary, StringComparison.Ordinal);
        Assert.Contains(v.Advice, a => a.Commands.Contains("for p in 25 465 587 2525; do iptables -I OUTPUT -p tcp --dport $p -j LOG --log-prefix \"IPTABLES TCP-OUT $p:\" --log-uid; done"));
    }

    [Fact]
    public void Verdict_AFewConnections_AreNothingSuspicious()
    {
        var log = new Log();
        for (int i = 0; i < 10; i++)
        {
            log.Attempt(Start.AddMinutes(i * 30), 107, "192.0.2.10", Dst(i), 25);
        }

        SpamVerdict v = SpamVerdict.Analyze(log.Stats(), new VerdictOptions { UserNames = Names });
        Assert.Equal(VerdictClass.NothingSuspicious, v.Class);
        Assert.Equal("Nothing suspicious", v.Headline);
        Assert.Null(v.BurstStart);
        Assert.Empty(v.Advice);

        SpamVerdict empty = SpamVerdict.Analyze(new TrafficStats());
        Assert.Equal(VerdictClass.NothingSuspicious, empty.Class);
        Assert.Null(empty.Culprit);
        Assert.Equal("Nothing suspicious: no outgoing mail traffic was logged", empty.Headline);
    }

    [Fact]
    public void UserNames_ParsesPasswdLines()
    {
        IReadOnlyDictionary<uint, string> names = UserNames.Parse("root:x:0:0:root:/root:/bin/bash\n# comment\nbroken line\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\r\nshop:x:1002:1002::/home/shop:/bin/sh\n");
        Assert.Equal(new Dictionary<uint, string> { [0] = "root", [33] = "www-data", [1002] = "shop" }, names);
    }
}
