using System.Globalization;
using System.Net;
using System.Text.Json;
using MailGuard.Parsing.AppLogs;

namespace MailGuard.Parsing.Tests;

/// <summary>
/// The join of issue 15 against the real captures of samples/logs/apps and samples/logs/apps-exim: every attempt of
/// kern.log, in kernel order, against truth.json's cause for it (from what the fake MX recorded, not from the logs).
/// An explained attempt must name its cause's client, user, submitter or script; only the attempts the truth marks
/// ambiguous by time (two causes, one UID, one destination within a second) may stay ambiguous; none may be unexplained.
/// </summary>
public class AttributionTests
{
    private static JsonElement Truth(string set) => JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Repo.Samples, set, "truth.json"))).RootElement;

    private static MailScanOptions Options(JsonElement truth) => new()
    {
        ReferenceTime = DateTimeOffset.Parse(truth.GetProperty("capture").GetProperty("capture_date_utc").GetString()!, CultureInfo.InvariantCulture),
        TimeZone = TimeZoneInfo.Utc,
        TraceJoin = true,
    };

    /// <summary>What a correct join names for each cause of the truth.</summary>
    private static (AppProgram Program, AppActorKind Kind, string Name, string? Script) Expected(string set, string cause) => (set, cause) switch
    {
        ("apps", "report") => (AppProgram.Postfix, AppActorKind.LocalUid, "1801", null),
        ("apps", "contact") => (AppProgram.Postfix, AppActorKind.LocalUid, "1801", "/var/www/html/contact.php"),
        ("apps", "webshell") => (AppProgram.Postfix, AppActorKind.LocalUid, "1801", "/var/www/html/wp-content/uploads/2026/12/cache.php"),
        ("apps", "office") => (AppProgram.Postfix, AppActorKind.NetworkClient, "203.0.113.79", null),
        ("apps", "alice") => (AppProgram.V2Ray, AppActorKind.ProxyUser, "alice@example.com", null),
        ("apps", "bob") => (AppProgram.V2Ray, AppActorKind.ProxyUser, "bob@example.org", null),
        ("apps", "mallory") => (AppProgram.V2Ray, AppActorKind.ProxyClient, "203.0.113.81", null),
        ("apps", "carol") => (AppProgram.Shadowsocks, AppActorKind.ProxyPort, "8388", null),
        ("apps", "dave") => (AppProgram.Shadowsocks, AppActorKind.ProxyPort, "8389", null),
        ("apps-exim", "report") => (AppProgram.Exim, AppActorKind.LocalUser, "webapp", null),
        ("apps-exim", "contact") => (AppProgram.Exim, AppActorKind.LocalUser, "webapp", "/var/www/html/contact.php"),
        ("apps-exim", "webshell") => (AppProgram.Exim, AppActorKind.LocalUser, "webapp", "/var/www/html/wp-content/uploads/2026/12/cache.php"),
        ("apps-exim", "office") => (AppProgram.Exim, AppActorKind.SaslUser, "office@example.org", null),
        _ => throw new ArgumentException($"{set}: no cause {cause}"),
    };

    private static string[] Files(string set) => set == "apps"
        ? ["kern.log", "mail.log", "v2ray-access.log", "v2ray-error.log", "shadowsocks.log", "php-mail.log"]
        : ["kern.log", "exim4-mainlog", "php-mail.log"];

    public static TheoryData<string> Sets() => ["apps", "apps-exim"];

    [Theory]
    [MemberData(nameof(Sets))]
    public async Task ScanAsync_KernLogWithTheApplicationLogs_AttributesEveryAttemptToItsCause_OrCallsItAmbiguous(string set)
    {
        JsonElement truth = Truth(set);
        MailScanReport report = await MailScan.FilesAsync([.. Files(set).Select(f => Path.Combine(Repo.Samples, set, f))], Options(truth), TestContext.Current.CancellationToken);

        Assert.True(report.Complete);
        Attribution join = Assert.IsType<Attribution>(report.Attribution);
        List<JsonElement> attempts = [.. truth.GetProperty("attempts").EnumerateArray()];
        Assert.Equal(attempts.Count, report.All.Attempts); // the application logs add nothing to the kernel's figures
        IReadOnlyList<JoinDecision> trace = join.Trace!;
        Assert.Equal(attempts.Count, trace.Count);
        int ambiguous = 0;
        for (int i = 0; i < attempts.Count; i++)
        {
            JsonElement truthAttempt = attempts[i];
            JoinDecision d = trace[i];
            string where = $"attempt {i + 1} ({truthAttempt.GetProperty("kern_log_time").GetString()} to {truthAttempt.GetProperty("dst").GetString()})";
            Assert.True(NetAddress.FromIPAddress(IPAddress.Parse(truthAttempt.GetProperty("dst").GetString()!)) == d.Dst, where);
            Assert.Equal(truthAttempt.GetProperty("uid").GetInt64(), d.UidKey);
            string cause = truthAttempt.GetProperty("causes")[0].GetString()!;
            if (d.Outcome == JoinOutcome.Ambiguous)
            {
                Assert.True(truthAttempt.GetProperty("ambiguous_by_time").GetBoolean(), $"{where}: ambiguous, but the truth's {cause} is alone in its second");
                ambiguous++;
                continue;
            }

            Assert.True(d.Outcome == JoinOutcome.Explained, $"{where}: {d.Outcome}, the truth says {cause}");
            (AppProgram program, AppActorKind kind, string name, string? script) = Expected(set, cause);
            AppActor actor = d.Actor!;
            Assert.True(actor.Program == program && actor.Kind == kind && actor.Name == name && actor.Script == script,
                $"{where}: attributed to {actor}, the truth says {cause} = {program} {kind} {name} {script}");
        }

        Assert.Equal(attempts.Count - ambiguous, join.Explained);
        Assert.Equal(ambiguous, join.Ambiguous);
        Assert.Equal(0, join.Unexplained + join.Uncovered + join.Untimed + join.NotOpening);
        Assert.True(ambiguous <= truth.GetProperty("totals").GetProperty("ambiguous_by_time").GetInt32());
        Assert.Equal(set == "apps" ? 4 : 0, ambiguous); // apps: alice/bob to .88 in one instant, alice/mallory to .64 at :12
        Assert.Equal(0, join.UnmatchedConnections);
    }

    // ---- the rules on small hand-made logs ----------------------------------------------------------------

    private static string Kern(string time, string dst, int spt, int uid = 102) =>
        $"Dec  7 {time} vps01 kernel: [38815.228626] IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST={dst} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT={spt} DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID={uid} GID=105 \n";

    private static string Delivery(string time, string qid, string dst, string rcpt = "a@example.org") =>
        $"Dec  7 {time} vps01 postfix/smtp[9]: {qid}: to=<{rcpt}>, relay=mx[{dst}]:25, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 ok)\n";

    private static string Pickup(string time, string qid, int uid) => $"Dec  7 {time} vps01 postfix/pickup[8]: {qid}: uid={uid} from=<u{uid}>\n";

    private sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("mg-join-").FullName;

        public string File(string name, string text)
        {
            string path = System.IO.Path.Combine(Path, name);
            System.IO.File.WriteAllText(path, text);
            return path;
        }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }

    private static MailScanOptions Hand() => new()
    {
        ReferenceTime = new DateTimeOffset(2026, 12, 7, 23, 0, 0, TimeSpan.Zero),
        TimeZone = TimeZoneInfo.Utc,
        TraceJoin = true,
    };

    [Fact]
    public async Task AnAttemptNoLineFits_StaysWithItsUid_AsUnexplained_AndOneOutsideTheLogsTime_AsUncovered()
    {
        using var dir = new TempDir();
        string kern = dir.File("kern.log", Kern("12:00:10", "198.51.100.7", 1000) + Kern("12:00:20", "198.51.100.8", 1001) + Kern("14:00:00", "198.51.100.7", 1002));
        string mail = dir.File("mail.log", Pickup("12:00:09", "AAAAAA0001", 33) + Delivery("12:00:10", "AAAAAA0001", "198.51.100.7") + Pickup("12:00:30", "AAAAAA0002", 33));
        MailScanReport report = await MailScan.FilesAsync([kern, mail], Hand(), TestContext.Current.CancellationToken);

        Attribution join = report.Attribution!;
        Assert.Equal([JoinOutcome.Explained, JoinOutcome.Unexplained, JoinOutcome.Uncovered], join.Trace!.Select(d => d.Outcome));
        Assert.Equal((3L, 1L, 0L, 1L, 1L), (join.Attempts, join.Explained, join.Ambiguous, join.Unexplained, join.Uncovered));
        AttributedAttempts a = Assert.Single(join.Attributed);
        Assert.Equal((102u, AppActorKind.LocalUid, "33", 1L), (a.Uid, a.Actor.Kind, a.Actor.Name, a.Attempts));
    }

    [Fact]
    public async Task AQuietStretchOfTheApplicationLog_IsCoveredTime_NotOutsideIt()
    {
        using var dir = new TempDir();
        // Postfix logged at 12:00 and at 14:00 and nothing between (it sent nothing): the attempt at 13:00 is inside the
        // time its log covers, so it is unexplained, not outside — also while the 14:00 line is only read ahead.
        string kern = dir.File("kern.log", Kern("12:00:10", "198.51.100.7", 1000) + Kern("13:00:00", "198.51.100.8", 1001) + Kern("14:00:10", "198.51.100.7", 1002));
        string mail = dir.File("mail.log", Pickup("12:00:09", "AAAAAA0001", 33) + Delivery("12:00:10", "AAAAAA0001", "198.51.100.7")
            + Pickup("14:00:09", "AAAAAA0002", 33) + Delivery("14:00:10", "AAAAAA0002", "198.51.100.7"));
        MailScanReport report = await MailScan.FilesAsync([kern, mail], Hand(), TestContext.Current.CancellationToken);
        Assert.Equal([JoinOutcome.Explained, JoinOutcome.Unexplained, JoinOutcome.Explained], report.Attribution!.Trace!.Select(d => d.Outcome));
    }

    [Fact]
    public async Task TwoAttemptsAndOneLine_AreBothAmbiguous_ButTwoLinesOfOneSender_ExplainOne()
    {
        using var dir = new TempDir();
        string kern = dir.File("kern.log", Kern("12:00:10", "198.51.100.7", 1000) + Kern("12:00:10", "198.51.100.7", 1001)
            + Kern("12:01:10", "198.51.100.9", 1002));
        string mail = dir.File("mail.log", Pickup("12:00:09", "AAAAAA0001", 33) + Delivery("12:00:10", "AAAAAA0001", "198.51.100.7")
            + Pickup("12:01:09", "AAAAAA0002", 33) + Pickup("12:01:09", "AAAAAA0003", 33)
            + Delivery("12:01:10", "AAAAAA0002", "198.51.100.9") + Delivery("12:01:10", "AAAAAA0003", "198.51.100.9"));
        MailScanReport report = await MailScan.FilesAsync([kern, mail], Hand(), TestContext.Current.CancellationToken);

        // One logged connection cannot be two attempts: neither is given it. Two lines of one sender fit the third
        // attempt: whichever it is, the sender is the same (the other line's own attempt is missing from the kernel log).
        Assert.Equal([JoinOutcome.Ambiguous, JoinOutcome.Ambiguous, JoinOutcome.Explained], report.Attribution!.Trace!.Select(d => d.Outcome));
    }

    [Fact]
    public async Task ADifferentSenderInTheSameSecond_IsAmbiguous_UnlessTheOtherAttemptNeedsItsLine()
    {
        using var dir = new TempDir();
        // uid 33's and uid 1801's submissions both delivered to .7 within the second; the kernel has one attempt at :10
        // and one at :11 — the line at :11 cannot be the SYN at :10 (the line follows its connection), so both are told.
        string kern = dir.File("kern.log", Kern("12:00:10", "198.51.100.7", 1000) + Kern("12:00:11", "198.51.100.7", 1001));
        string mail = dir.File("mail.log", Pickup("12:00:09", "AAAAAA0001", 33) + Pickup("12:00:09", "AAAAAA0002", 1801)
            + Delivery("12:00:10", "AAAAAA0001", "198.51.100.7") + Delivery("12:00:11", "AAAAAA0002", "198.51.100.7"));
        MailScanReport report = await MailScan.FilesAsync([kern, mail], Hand(), TestContext.Current.CancellationToken);
        Assert.Equal(["33", "1801"], report.Attribution!.Trace!.Select(d => d.Actor!.Name));

        // Both lines in the second of both SYNs: either could be either.
        string kern2 = dir.File("kern2.log", Kern("12:00:10", "198.51.100.7", 1000) + Kern("12:00:10", "198.51.100.7", 1001));
        string mail2 = dir.File("mail2.log", Pickup("12:00:09", "AAAAAA0001", 33) + Pickup("12:00:09", "AAAAAA0002", 1801)
            + Delivery("12:00:10", "AAAAAA0001", "198.51.100.7") + Delivery("12:00:10", "AAAAAA0002", "198.51.100.7"));
        report = await MailScan.FilesAsync([kern2, mail2], Hand(), TestContext.Current.CancellationToken);
        Assert.Equal([JoinOutcome.Ambiguous, JoinOutcome.Ambiguous], report.Attribution!.Trace!.Select(d => d.Outcome));
    }

    [Fact]
    public async Task Syslog_WithKernelAndPostfixLines_IsReadForBoth_AndAGzippedApplicationLogToo()
    {
        using var dir = new TempDir();
        string syslog = dir.File("syslog", Pickup("12:00:09", "AAAAAA0001", 33) + Kern("12:00:10", "198.51.100.7", 1000) + Delivery("12:00:10", "AAAAAA0001", "198.51.100.7")
            + Kern("12:00:20", "198.51.100.8", 1001));
        string v2ray = Path.Combine(dir.Path, "access.log.1.gz");
        using (var gz = new System.IO.Compression.GZipStream(File.Create(v2ray), System.IO.Compression.CompressionLevel.Fastest))
        {
            gz.Write(System.Text.Encoding.UTF8.GetBytes("2026/12/07 12:00:20 203.0.113.77:4000 accepted tcp:198.51.100.8:25 [direct] email: alice@example.com\n"));
        }

        MailScanReport report = await MailScan.FilesAsync([syslog, v2ray], Hand(), TestContext.Current.CancellationToken);
        Assert.Equal(2, report.All.Attempts);
        Attribution join = report.Attribution!;
        Assert.Equal([AppProgram.Postfix, AppProgram.V2Ray], join.Logs.Select(l => l.Program));
        Assert.Equal(["33", "alice@example.com"], join.Trace!.Select(d => d.Actor!.Name));
    }

    [Fact]
    public async Task ARotatedMailLog_HoldsTheSubmission_TheCurrentOneTheDelivery_AndBothAreJoined()
    {
        using var dir = new TempDir();
        // logrotate cut mail.log between the pickup and the delivery; the older file compressed. Named newest first.
        string kern = dir.File("kern.log", Kern("12:00:10", "198.51.100.7", 1000));
        string current = dir.File("mail.log", Delivery("12:00:10", "AAAAAA0001", "198.51.100.7"));
        string rotated = Path.Combine(dir.Path, "mail.log.1.gz");
        using (var gz = new System.IO.Compression.GZipStream(File.Create(rotated), System.IO.Compression.CompressionLevel.Fastest))
        {
            gz.Write(System.Text.Encoding.UTF8.GetBytes(Pickup("12:00:09", "AAAAAA0001", 1801)));
        }

        MailScanReport report = await MailScan.FilesAsync([kern, current, rotated], Hand(), TestContext.Current.CancellationToken);
        JoinDecision d = Assert.Single(report.Attribution!.Trace!);
        Assert.Equal((JoinOutcome.Explained, AppActorKind.LocalUid, "1801"), (d.Outcome, d.Actor!.Kind, d.Actor.Name));
    }

    [Fact]
    public async Task Dmesg_WithoutDates_IsUntimed_NeverJoined()
    {
        using var dir = new TempDir();
        string dmesg = dir.File("dmesg.txt", "[38815.228626] IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.100.7 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=1000 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=102 GID=105 \n");
        string mail = dir.File("mail.log", Pickup("12:00:09", "AAAAAA0001", 33) + Delivery("12:00:10", "AAAAAA0001", "198.51.100.7"));
        MailScanReport report = await MailScan.FilesAsync([dmesg, mail], Hand(), TestContext.Current.CancellationToken);
        Assert.Equal((1L, 1L, 0L), (report.Attribution!.Attempts, report.Attribution.Untimed, report.Attribution.Explained));
    }

    [Fact]
    public void Join_OverDaysOfLog_HoldsAWindowOnly()
    {
        // 200,000 attempts one a second (2.3 days), each with its delivery: what the join holds stays that of a few minutes.
        var mail = new System.Text.StringBuilder();
        var start = new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc);
        const int N = 200_000;
        for (int i = 0; i < N; i++)
        {
            string t = start.AddSeconds(i).ToString("MMM d HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture).PadLeft(0);
            string qid = i.ToString("X10", System.Globalization.CultureInfo.InvariantCulture);
            mail.Append(System.Globalization.CultureInfo.InvariantCulture, $"{t} vps01 postfix/pickup[8]: {qid}: uid=33 from=<w>\n");
            mail.Append(System.Globalization.CultureInfo.InvariantCulture, $"{t} vps01 postfix/smtp[9]: {qid}: to=<a@example.org>, relay=mx[198.51.{i % 200}.7]:25, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (ok)\n");
            mail.Append(System.Globalization.CultureInfo.InvariantCulture, $"{t} vps01 postfix/qmgr[7]: {qid}: removed\n");
        }

        var parser = new AppLineParser(new EnvelopeOptions { TimeZone = TimeZoneInfo.Utc, ReferenceTime = start.AddDays(3) });
        using var reader = new AppLogReader("mail.log", new MemoryStream(System.Text.Encoding.UTF8.GetBytes(mail.ToString())), parser, 0);
        using var join = new AttemptJoin([reader]);
        int held = 0;
        for (int i = 0; i < N; i++)
        {
            join.Attempt(start.AddSeconds(i).Ticks, true, 107, NetAddress.FromIPv4((198u << 24) | (51u << 16) | ((uint)(i % 200) << 8) | 7), 25, opens: true);
            held = Math.Max(held, join.Held);
        }

        Attribution result = join.Finish(complete: true);
        Assert.Equal((N, (long)N), (result.Explained, result.Attempts));
        Assert.InRange(held, 1, 5_000); // connections, attempts and submissions of about two windows of 200 s
    }
}
