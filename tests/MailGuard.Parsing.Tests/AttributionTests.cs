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
        Assert.Equal(0, join.Unexplained + join.Uncovered + join.Untimed);
        Assert.True(ambiguous <= truth.GetProperty("totals").GetProperty("ambiguous_by_time").GetInt32());
        Assert.Equal(set == "apps" ? 4 : 0, ambiguous); // apps: alice/bob to .88 in one instant, alice/mallory to .64 at :12
        Assert.Equal(0, join.UnmatchedConnections);
    }
}
