using System.Text;
using MailGuard.Parsing.AppLogs;

namespace MailGuard.Parsing.Tests;

/// <summary>
/// Each application line form the join reads, with what it must yield — the forms of the real captures
/// (samples/logs/apps*, made by the programs) and the variants the programs' other versions and set-ups write
/// (Xray's <c>from … [in -&gt; out]</c>, syslog/journal wrappers, Exim's <c>[pid]</c>, PHP's zone names, Postfix SASL).
/// </summary>
public class AppLineParserTests
{
    private static readonly AppLineParser s_parser = new(new EnvelopeOptions { TimeZone = TimeZoneInfo.Utc, ReferenceTime = new DateTimeOffset(2026, 12, 7, 13, 0, 0, TimeSpan.Zero) });

    private sealed record Parsed(AppLineKind Kind, AppProgram Program, DateTimeOffset? Time, long Resolution, string QueueId, string Dst, int Port,
        string User, string Client, string Via, string Recipient, string Script, double Before, bool Reused, bool Failed);

    private static Parsed Parse(string line)
    {
        s_parser.Parse(Encoding.UTF8.GetBytes(line), out AppLine a);
        static string S(ReadOnlySpan<byte> s) => Encoding.UTF8.GetString(s);
        return new Parsed(a.Kind, a.Program, a.Ticks == long.MinValue ? null : new DateTimeOffset(a.Ticks, TimeSpan.Zero), a.Resolution, S(a.QueueId),
            a.Dst.IsNone ? "" : a.Dst.ToString(), a.Port, S(a.User), S(a.Client), S(a.Via), S(a.Recipient), S(a.Script), TimeSpan.FromTicks(a.Before).TotalSeconds, a.Reused, a.Failed);
    }

    private static readonly DateTimeOffset s_t = new(2026, 12, 7, 12, 54, 15, TimeSpan.Zero);

    [Fact]
    public void Postfix_Delivery_GivesQueueIdRelayAddressPortAndTheSetUpTime()
    {
        Parsed p = Parse("Dec  7 12:54:15 vps01 postfix/smtp[32019]: 980E7B2A493: to=<fay@news.example.org>, relay=mx.news.example.org[203.0.113.17]:25, delay=1.5, delays=0.01/0/1/0.4, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued)");
        Assert.Equal((AppLineKind.PostfixDelivery, AppProgram.Postfix, s_t, TimeSpan.TicksPerSecond), (p.Kind, p.Program, p.Time, p.Resolution));
        Assert.Equal(("980E7B2A493", "203.0.113.17", 25, "fay@news.example.org"), (p.QueueId, p.Dst, p.Port, p.Recipient));
        Assert.Equal(1.4 * 1.1 + 0.1, p.Before, 3); // c + d, 10 % for rounding, 0.1 s
        Assert.False(p.Reused || p.Failed);
    }

    [Fact]
    public void Postfix_RelayNone_TakesTheAddressOfTheFailedConnect_AndAReusedConnectionIsMarked()
    {
        Parsed failed = Parse("Dec  7 12:54:46 vps01 postfix/smtp[32019]: 3EA7EB2A4F3: to=<hal@dead.example.net>, relay=none, delay=30, delays=0.01/0/30/0, dsn=4.4.1, status=deferred (connect to mx.dead.example.net[203.0.113.251]:25: Connection timed out)");
        Assert.Equal((AppLineKind.PostfixDelivery, "203.0.113.251", 25, true, 180.0), (failed.Kind, failed.Dst, failed.Port, failed.Failed, failed.Before));
        Parsed dns = Parse("Dec  7 12:54:46 vps01 postfix/smtp[32019]: 3EA7EB2A4F3: to=<x@nowhere.example>, relay=none, delay=0.1, delays=0/0/0.1/0, dsn=5.4.4, status=bounced (Host or domain name not found)");
        Assert.Equal((AppLineKind.None, AppProgram.Postfix), (dns.Kind, dns.Program)); // no connection
        Parsed reused = Parse("Dec  7 12:54:46 vps01 postfix/smtp[32019]: 3EA7EB2A4F4: to=<a@example.com>, relay=mx1.example.com[198.51.100.7]:25, conn_use=2, delay=0.2, delays=0/0/0/0.2, dsn=2.0.0, status=sent (250 ok)");
        Assert.True(reused.Reused);
        Parsed connect = Parse("Dec  7 12:54:46 vps01 postfix/smtp[32019]: connect to mx.dead.example.net[203.0.113.251]:25: Connection timed out");
        Assert.Equal((AppLineKind.PostfixConnectFailure, "203.0.113.251", ""), (connect.Kind, connect.Dst, connect.QueueId));
        Parsed v6 = Parse("2026-12-07T12:54:15.250000+00:00 vps01 postfix/smtp[1]: 0ABCDEF123: to=<b@example.org>, relay=mx.example.org[2001:db8::25]:587, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (ok)");
        Assert.Equal(("2001:db8::25", 587, 0L), (v6.Dst, v6.Port, v6.Resolution)); // a precise stamp: no resolution
    }

    [Fact]
    public void Postfix_Submissions_PickupUid_SmtpdClient_SaslUser_Removed()
    {
        Parsed pickup = Parse("Dec  7 12:54:15 vps01 postfix/pickup[31706]: 980E7B2A493: uid=1801 from=<webapp>");
        Assert.Equal((AppLineKind.PostfixPickup, "980E7B2A493", "1801"), (pickup.Kind, pickup.QueueId, pickup.User));
        Parsed smtpd = Parse("Dec  7 12:53:56 vps01 postfix/submission/smtpd[32165]: 0763EB2AAE2: client=unknown[203.0.113.79]");
        Assert.Equal((AppLineKind.PostfixSmtpd, "203.0.113.79", "submission/smtpd", ""), (smtpd.Kind, smtpd.Client, smtpd.Via, smtpd.User));
        Parsed sasl = Parse("Dec  7 12:53:56 vps01 postfix/smtpd[1]: 0763EB2AAE2: client=pc.example.org[203.0.113.79]:51234, sasl_method=PLAIN, sasl_username=office@example.org");
        Assert.Equal(("203.0.113.79", "smtpd", "office@example.org"), (sasl.Client, sasl.Via, sasl.User));
        Parsed removed = Parse("Dec  7 12:53:56 vps01 postfix/qmgr[31707]: 0763EB2AAE2: removed");
        Assert.Equal((AppLineKind.QueueRemoved, "0763EB2AAE2"), (removed.Kind, removed.QueueId));
        Parsed other = Parse("Dec  7 12:53:56 vps01 postfix/cleanup[32010]: 0763EB2AAE2: message-id=<>");
        Assert.Equal((AppLineKind.None, AppProgram.Postfix), (other.Kind, other.Program));
    }

    [Theory]
    [InlineData("2026/12/07 12:54:15 203.0.113.77:42955 accepted tcp:198.51.100.88:25 [direct] email: alice@example.com", "203.0.113.77", "direct", "alice@example.com", "198.51.100.88")]
    [InlineData("2026/12/07 12:54:15 tcp:203.0.113.81:59385 accepted tcp:203.0.113.64:25 [direct]", "203.0.113.81", "direct", "", "203.0.113.64")]
    [InlineData("2026/12/07 12:54:15 from 203.0.113.77:42955 accepted tcp:198.51.100.88:25 [vmess-in -> direct] email: alice@example.com", "203.0.113.77", "vmess-in -> direct", "alice@example.com", "198.51.100.88")]
    [InlineData("2026/12/07 12:54:15.000000 from [2001:db8::77]:42955 accepted tcp:[2001:db8::88]:25 [vmess-in >> direct] email: alice", "2001:db8::77", "vmess-in >> direct", "alice", "2001:db8::88")]
    [InlineData("2026/12/07 12:54:15 203.0.113.77:42955 accepted tcp:mx.example.com:25 [direct] email: alice@example.com", "203.0.113.77", "direct", "alice@example.com", "")]
    [InlineData("Dec  7 12:54:15 vps01 v2ray[991]: 2026/12/07 12:54:15 203.0.113.77:42955 accepted tcp:198.51.100.88:25 [direct] email: alice@example.com", "203.0.113.77", "direct", "alice@example.com", "198.51.100.88")]
    public void V2Ray_AccessLine_GivesClientRouteUserAndDestination(string line, string client, string via, string user, string dst)
    {
        Parsed p = Parse(line);
        Assert.Equal((AppLineKind.V2RayAccess, AppProgram.V2Ray, s_t, client, via, user, dst, 25), (p.Kind, p.Program, p.Time, p.Client, p.Via, p.User, p.Dst, p.Port));
    }

    [Theory]
    [InlineData("2026/12/07 12:54:09 [Info] [3287216364] v2ray.com/core/proxy/vmess/inbound: received request for tcp:198.51.100.88:25")]
    [InlineData("2026/12/07 12:54:09 203.0.113.77:42955 accepted udp:198.51.100.88:53 [direct] email: alice@example.com")]
    [InlineData("2026/12/07 12:54:09 203.0.113.77:42955 rejected  v2ray.com/core/proxy/vmess/encoding: invalid user")]
    public void V2Ray_LinesThatAreNoTcpConnection_AreV2RaysButJoinNothing(string line)
    {
        Parsed p = Parse(line);
        Assert.Equal((AppLineKind.None, AppProgram.V2Ray), (p.Kind, p.Program));
    }

    [Theory]
    [InlineData(" 2026-12-07 12:54:15 INFO: [8389] connect to 198.51.100.41:25")]
    [InlineData("2026-12-07 12:54:15 INFO: [8389] connect to 198.51.100.41:25")]
    [InlineData("Dec  7 12:54:15 vps01 ss-server[812]:  2026-12-07 12:54:15 INFO: [8389] connect to 198.51.100.41:25")]
    public void Shadowsocks_Connect_GivesTheServerPortAndTheDestination(string line)
    {
        Parsed p = Parse(line);
        Assert.Equal((AppLineKind.ShadowsocksConnect, AppProgram.Shadowsocks, s_t, "8389", "198.51.100.41", 25), (p.Kind, p.Program, p.Time, p.Via, p.Dst, p.Port));
        Assert.Equal((AppLineKind.None, AppProgram.Shadowsocks), (Parse(" 2026-12-07 12:54:09 INFO: new connection from client, 1 opened client connections").Kind, Parse(" 2026-12-07 12:54:09 INFO: new connection from client, 1 opened client connections").Program));
    }

    [Fact]
    public void Exim_ArrivalsAndDeliveries()
    {
        Parsed local = Parse("2026-12-07 12:54:15 1xaYAr-00034Y-03 <= webapp@vps01.example.net U=webapp P=local S=388");
        Assert.Equal((AppLineKind.EximArrival, AppProgram.Exim, s_t, "1xaYAr-00034Y-03", "webapp", "local", "", ""), (local.Kind, local.Program, local.Time, local.QueueId, local.User, local.Via, local.Client, local.Recipient));
        Parsed auth = Parse("2026-12-07 12:54:15 1xaYAt-00036m-03 <= orders@example.org H=(office-pc.example.org) [203.0.113.79] P=esmtpa A=plain_server:office@example.org S=466");
        Assert.Equal(("203.0.113.79", "esmtpa", "office@example.org"), (auth.Client, auth.Via, auth.Recipient)); // the login, kept in Recipient on arrivals
        Parsed delivered = Parse("2026-12-07 12:54:15 [11612] 1xaYAr-00034Y-03 => admin@example.org R=hubbed_hosts T=remote_smtp H=mail.example.org [198.51.100.41]:587 C=\"250 2.0.0 Ok: queued\"");
        Assert.Equal((AppLineKind.EximDelivery, "198.51.100.41", 587, "admin@example.org", 30.0), (delivered.Kind, delivered.Dst, delivered.Port, delivered.Recipient, delivered.Before));
        Parsed deferred = Parse("2026-12-07 12:54:15 1xaYBD-0003Z6-0u == hal@dead.example.net R=hubbed_hosts T=remote_smtp defer (110): Connection timed out H=mx.dead.example.net [203.0.113.251]: SMTP timeout after initial connection");
        Assert.Equal((AppLineKind.EximDelivery, "203.0.113.251", 0, 180.0), (deferred.Kind, deferred.Dst, deferred.Port, deferred.Before)); // port not logged: any
        Parsed done = Parse("2026-12-07 12:54:15 1xaYBD-0003Z6-0u Completed");
        Assert.Equal(AppLineKind.QueueRemoved, done.Kind);
        Parsed start = Parse("2026-12-07 12:50:27 exim 4.96 daemon started: pid=11612, -q30m, listening for SMTP on port 25 (IPv4)");
        Assert.Equal((AppLineKind.None, AppProgram.Exim), (start.Kind, start.Program));
    }

    [Fact]
    public void Php_MailLog_GivesScriptRecipientsAndTheTimeInItsZone()
    {
        Parsed p = Parse("[07-Dec-2026 12:54:15 UTC] mail() on [/var/www/html/wp-content/uploads/2026/12/cache.php:9]: To: fay@news.example.org -- Headers: From: Billing <noreply@example.com> -- Subject: Your invoice is ready");
        Assert.Equal((AppLineKind.PhpMail, AppProgram.Php, s_t, "/var/www/html/wp-content/uploads/2026/12/cache.php", "fay@news.example.org"), (p.Kind, p.Program, p.Time, p.Script, p.Recipient));
        Parsed berlin = Parse("[07-Dec-2026 13:54:15 Europe/Berlin] mail() on [/srv/a.php:1]: To: A <a@example.org>, b@example.org -- Headers: X: y");
        Assert.Equal((s_t, "A <a@example.org>, b@example.org"), (berlin.Time, berlin.Recipient));
    }

    [Theory]
    [InlineData("Dec  7 12:54:15 vps01 kernel: [38815.228626] IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST=203.0.113.17 LEN=60 PROTO=TCP SPT=55104 DPT=25 SYN URGP=0 UID=102 GID=105")]
    [InlineData("Dec  7 12:54:15 vps01 sshd[1]: Accepted publickey for root from 203.0.113.9 port 51234 ssh2")]
    [InlineData("2026-12-07 12:54:15 some other program's line")]
    [InlineData("[07-Dec-2026 12:54:15 UTC] PHP Warning:  Undefined variable $x in /var/www/a.php on line 3")]
    [InlineData("")]
    [InlineData("\u001b[31m2026/12/07 12:54:15 \u001b[0m")]
    public void LinesOfOtherPrograms_AreNone(string line)
    {
        Assert.Equal((AppLineKind.None, (AppProgram)0), (Parse(line).Kind, Parse(line).Program));
    }

    [Fact]
    public void Parse_AllocatesNothing()
    {
        byte[][] lines = [.. new[]
        {
            "Dec  7 12:54:15 vps01 postfix/smtp[32019]: 980E7B2A493: to=<fay@news.example.org>, relay=mx.news.example.org[203.0.113.17]:25, delay=0.01, delays=0.01/0/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued)",
            "Dec  7 12:54:15 vps01 postfix/pickup[31706]: 980E7B2A493: uid=1801 from=<webapp>",
            "2026/12/07 12:54:09 203.0.113.77:42955 accepted tcp:198.51.100.88:25 [direct] email: alice@example.com",
            " 2026-12-07 12:54:14 INFO: [8389] connect to 198.51.100.41:25",
            "2026-12-07 12:50:35 1xaYAt-000371-0I => billing@example.net R=hubbed_hosts T=remote_smtp H=mx.example.net [198.51.100.23] C=\"250 2.0.0 Ok: queued\"",
            "[07-Dec-2026 12:54:15 UTC] mail() on [/var/www/html/contact.php:8]: To: sales@example.com -- Headers: From: webapp@vps01.example.net",
        }.Select(Encoding.UTF8.GetBytes)];
        var parser = new AppLineParser(new EnvelopeOptions { TimeZone = TimeZoneInfo.Utc, ReferenceTime = s_t });
        long kinds = 0;
        foreach (byte[] line in lines)
        {
            parser.Parse(line, out AppLine a);
            kinds += (long)a.Kind; // warm
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            parser.Parse(lines[i % lines.Length], out AppLine a);
            kinds += (long)a.Kind;
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(kinds > 0);
    }
}
