using System.Globalization;
using System.Net;
using System.Text.Json;

namespace MailGuard.Parsing.Tests;

/// <summary>
/// The application-log samples of issue 15 — samples/logs/apps (Postfix, V2Ray, shadowsocks-libev, PHP) and
/// samples/logs/apps-exim (Exim, PHP), made by samples/capture/apps.sh with the real programs — against their ground
/// truth, truth.json, written by samples/capture/apps/truth.py from what the capture itself recorded (the fake MX saw
/// each connection's source port and each message's tag), not from these logs. What exists today is pinned: the
/// library reads kern.log and its attempts per UID and destination are the truth's; and the truth's pointers into the
/// application logs hold, for the join that will be built on them.
/// </summary>
public class AppSamplesTests
{
    /// <summary>The sample sets and their attempts per cause, as their README states them.</summary>
    private static readonly Dictionary<string, string> s_perCause = new()
    {
        ["apps"] = "alice 12, bob 4, carol 6, contact 2, dave 2, mallory 3, office 4, report 3, webshell 8",
        ["apps-exim"] = "contact 2, office 4, report 3, webshell 8",
    };

    public static TheoryData<string> Sets() => [.. s_perCause.Keys];

    private static JsonElement Truth(string set) => JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Repo.Samples, set, "truth.json"))).RootElement;

    private static List<JsonElement> Attempts(JsonElement truth) => [.. truth.GetProperty("attempts").EnumerateArray()];

    /// <summary>kern.log as mgscan reads it: the year from the capture date, stamps in UTC (as written).</summary>
    private static MailScanOptions Options(JsonElement truth, Action<MailEntry>? onEntry = null) => new()
    {
        ReferenceTime = DateTimeOffset.Parse(truth.GetProperty("capture").GetProperty("capture_date_utc").GetString()!, CultureInfo.InvariantCulture),
        TimeZone = TimeZoneInfo.Utc,
        OnEntry = onEntry,
    };

    private static NetAddress Address(JsonElement e) => NetAddress.FromIPAddress(IPAddress.Parse(e.GetString()!));

    private static string[] Lines(string set, string file) =>
        File.Exists(Path.Combine(Repo.Samples, set, file)) ? File.ReadAllLines(Path.Combine(Repo.Samples, set, file)) : [];

    [Theory]
    [MemberData(nameof(Sets))]
    public async Task FilesAsync_AppsKernLog_CountsTheTruthsAttemptsPerUidAndDestination(string set)
    {
        JsonElement truth = Truth(set);
        MailScanReport report = await MailScan.FilesAsync([Path.Combine(Repo.Samples, set, "kern.log")], Options(truth), TestContext.Current.CancellationToken);

        Assert.True(report.Complete);
        JsonElement totals = truth.GetProperty("totals");
        Assert.Equal(totals.GetProperty("lines").GetInt64(), report.Totals.Entries);
        Assert.Equal(totals.GetProperty("attempts").GetInt64(), report.All.Attempts);
        Assert.Equal(totals.GetProperty("destinations").GetInt32(), report.All.DistinctDestinations);

        var byUid = totals.GetProperty("by_uid").EnumerateObject().ToList();
        Assert.Equal(byUid.Count, report.Uids.Count);
        foreach (JsonProperty uid in byUid)
        {
            KeyStat? stat = report.Uids[uint.Parse(uid.Name, CultureInfo.InvariantCulture)];
            Assert.NotNull(stat);
            Assert.Equal(uid.Value.GetProperty("attempts").GetInt64(), stat.Attempts);
            Assert.Equal(uid.Value.GetProperty("lines").GetInt64(), stat.Count);
            Assert.Equal(uid.Value.GetProperty("destinations").GetArrayLength(), stat.DistinctDestinations);
        }

        foreach (IGrouping<string, JsonElement> dst in Attempts(truth).GroupBy(a => a.GetProperty("dst").GetString()!))
        {
            KeyStat? stat = report.Destinations[NetAddress.FromIPAddress(IPAddress.Parse(dst.Key))];
            Assert.NotNull(stat);
            Assert.Equal(dst.Count(), stat.Attempts);
            Assert.Equal(dst.Sum(a => a.GetProperty("lines").GetInt64()), stat.Count);
        }
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public async Task FilesAsync_AppsKernLog_GivesEachAttemptOfTheTruthWithItsUidAndFirstTime(string set)
    {
        JsonElement truth = Truth(set);
        var entries = new List<MailEntry>();
        MailScanReport report = await MailScan.FilesAsync([Path.Combine(Repo.Samples, set, "kern.log")], Options(truth, entries.Add), TestContext.Current.CancellationToken);
        Assert.True(report.Complete);

        var flows = entries.GroupBy(e => (e.Src, e.Spt, e.Dst, e.Dpt)).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(Attempts(truth).Count, flows.Count);
        foreach (JsonElement a in Attempts(truth))
        {
            var key = (Address(a.GetProperty("src")), (ushort)a.GetProperty("spt").GetInt32(), Address(a.GetProperty("dst")), (ushort)a.GetProperty("dpt").GetInt32());
            Assert.True(flows.TryGetValue(key, out List<MailEntry>? lines), $"no entry for {key}");
            Assert.Equal(a.GetProperty("lines").GetInt32(), lines.Count);
            Assert.All(lines, e => Assert.Equal(a.GetProperty("uid").GetUInt32(), e.Uid));
            Assert.Equal(a.GetProperty("uptime").GetDouble(), lines[0].Uptime!.Value.TotalSeconds, 6);

            // kern.log's stamp is the second rsyslogd read the line; the truth's time is the kernel's own (its time since
            // boot on the clock the fake MX read)
            DateTimeOffset time = a.GetProperty("time").GetDateTimeOffset();
            Assert.InRange(lines[0].Time!.Value - time, TimeSpan.FromSeconds(-1), TimeSpan.FromSeconds(1));
            DateTimeOffset stamp = lines[0].Time!.Value;
            Assert.Equal(a.GetProperty("kern_log_time").GetString(), string.Create(CultureInfo.InvariantCulture, $"{stamp:MMM} {stamp.Day,2} {stamp:HH:mm:ss}"));
        }
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public void Truth_AttemptsAndTotals_AgreeWithEachOtherAndTheCauses(string set)
    {
        JsonElement truth = Truth(set);
        JsonElement totals = truth.GetProperty("totals");
        JsonElement causes = truth.GetProperty("causes");
        var program = new Dictionary<string, uint>();
        foreach (JsonProperty user in truth.GetProperty("host").GetProperty("uids").EnumerateObject())
        {
            string? name = user.Name switch { "postfix" => "postfix", "Debian-exim" => "exim4", "v2ray" => "v2ray", "shadowsocks" => "shadowsocks-libev", _ => null };
            if (name is not null)
            {
                program[name] = user.Value.GetUInt32();
            }
        }

        Assert.Equal(totals.GetProperty("attempts").GetInt32(), Attempts(truth).Count);
        Assert.Equal(totals.GetProperty("messages").GetInt32(), Attempts(truth).Sum(a => a.GetProperty("messages").GetArrayLength()));
        foreach (JsonElement a in Attempts(truth))
        {
            Assert.NotEmpty(a.GetProperty("causes").EnumerateArray());
            foreach (JsonElement m in a.GetProperty("messages").EnumerateArray())
            {
                JsonElement cause = causes.GetProperty(m.GetProperty("cause").GetString()!);
                Assert.Equal(program[cause.GetProperty("program").GetString()!], a.GetProperty("uid").GetUInt32());
            }
        }

        foreach (JsonProperty c in totals.GetProperty("by_cause").EnumerateObject())
        {
            var mine = Attempts(truth).Where(a => a.GetProperty("causes").EnumerateArray().Any(x => x.GetString() == c.Name)).ToList();
            Assert.Equal(c.Value.GetProperty("attempts").GetInt32(), mine.Count);
            Assert.Equal(c.Value.GetProperty("lines").GetInt32(), mine.Sum(a => a.GetProperty("lines").GetInt32()));
        }

        // the totals per cause of this capture, as its README states them
        Assert.Equal(
            s_perCause[set],
            string.Join(", ", totals.GetProperty("by_cause").EnumerateObject().Select(c => $"{c.Name} {c.Value.GetProperty("attempts").GetInt32()}")));
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public void Truth_EvidencePointers_NameTheLinesThatRecordEachAttempt(string set)
    {
        JsonElement truth = Truth(set);
        string[] kern = Lines(set, "kern.log");
        string[] mail = Lines(set, "mail.log");
        string[] mainlog = Lines(set, "exim4-mainlog");
        string[] access = Lines(set, "v2ray-access.log");
        string[] ss = Lines(set, "shadowsocks.log");
        string[] php = Lines(set, "php-mail.log");
        JsonElement causes = truth.GetProperty("causes");
        int checkedLines = 0;

        foreach (JsonElement a in Attempts(truth))
        {
            string dst = a.GetProperty("dst").GetString()!;
            int dpt = a.GetProperty("dpt").GetInt32();
            foreach (JsonElement n in a.GetProperty("kern_log_lines").EnumerateArray())
            {
                string line = kern[n.GetInt32() - 1];
                Assert.Contains($" DST={dst} ", line, StringComparison.Ordinal);
                Assert.Contains($" SPT={a.GetProperty("spt").GetInt32()} DPT={dpt} ", line, StringComparison.Ordinal);
                Assert.Contains($" UID={a.GetProperty("uid").GetUInt32()} ", line, StringComparison.Ordinal);
                checkedLines++;
            }

            foreach (JsonElement m in a.GetProperty("messages").EnumerateArray())
            {
                JsonElement cause = causes.GetProperty(m.GetProperty("cause").GetString()!);
                JsonElement ev = m.GetProperty("evidence");
                string Line(string[] file, string name) => file[ev.GetProperty(name).GetInt32() - 1];
                switch (cause.GetProperty("program").GetString())
                {
                    case "postfix":
                        string qid = ev.GetProperty("queue_id").GetString()!;
                        string to = m.GetProperty("recipient").GetString()!;
                        string delivery = Line(mail, "mail_log_delivery");
                        Assert.Contains($" postfix/smtp[", delivery, StringComparison.Ordinal);
                        Assert.Contains($": {qid}: to=<{to}>, ", delivery, StringComparison.Ordinal);
                        Assert.Contains($"[{dst}]:{dpt}", delivery, StringComparison.Ordinal);
                        Assert.Contains(a.GetProperty("connected").GetBoolean() ? "status=sent" : "status=deferred", delivery, StringComparison.Ordinal);
                        if (cause.TryGetProperty("submitter_uid", out JsonElement uid))
                        {
                            Assert.EndsWith($": {qid}: uid={uid.GetInt32()} from=<webapp>", Line(mail, "mail_log_pickup"), StringComparison.Ordinal);
                        }
                        else
                        {
                            Assert.EndsWith($": {qid}: client=unknown[{cause.GetProperty("client").GetString()}]", Line(mail, "mail_log_smtpd"), StringComparison.Ordinal);
                        }

                        if (cause.TryGetProperty("script", out JsonElement script))
                        {
                            string call = Line(php, "php_mail_log");
                            Assert.Contains($"] mail() on [{script.GetString()}:", call, StringComparison.Ordinal);
                            Assert.Contains($"]: To: {to} -- ", call, StringComparison.Ordinal);
                        }

                        break;
                    case "exim4":
                        string id = ev.GetProperty("queue_id").GetString()!;
                        string rcpt = m.GetProperty("recipient").GetString()!;
                        string arrival = Line(mainlog, "exim_mainlog_arrival");
                        Assert.Contains($" {id} <= ", arrival, StringComparison.Ordinal);
                        Assert.Contains(cause.TryGetProperty("submitter", out JsonElement submitter)
                            ? $" U={submitter.GetString()} P=local "
                            : $" P=esmtpa A=plain_server:{cause.GetProperty("sasl_username").GetString()} ", arrival, StringComparison.Ordinal);
                        Assert.Contains(
                            a.GetProperty("connected").GetBoolean() ? $" {id} => {rcpt} " : $" {id} == {rcpt} ",
                            Line(mainlog, "exim_mainlog_delivery"), StringComparison.Ordinal);
                        Assert.Contains($" [{dst}]", Line(mainlog, "exim_mainlog_delivery"), StringComparison.Ordinal);
                        if (cause.TryGetProperty("script", out JsonElement eximScript))
                        {
                            Assert.Contains($"] mail() on [{eximScript.GetString()}:", Line(php, "php_mail_log"), StringComparison.Ordinal);
                            Assert.Contains($"]: To: {rcpt} -- ", Line(php, "php_mail_log"), StringComparison.Ordinal);
                        }

                        break;
                    case "v2ray":
                        string accepted = Line(access, "v2ray_access_log");
                        Assert.Contains($"{cause.GetProperty("client").GetString()}:", accepted, StringComparison.Ordinal);
                        Assert.Contains($" accepted tcp:{dst}:{dpt} ", accepted, StringComparison.Ordinal);
                        Assert.Equal(cause.GetProperty("user").ValueKind == JsonValueKind.Null ? null : $" email: {cause.GetProperty("user").GetString()}",
                            accepted.Contains(" email: ", StringComparison.Ordinal) ? accepted[accepted.IndexOf(" email: ", StringComparison.Ordinal)..] : null);
                        break;
                    default:
                        string port = cause.GetProperty("via").GetString()!.Split("port ")[1].Split(' ')[0];
                        Assert.EndsWith($" INFO: [{port}] connect to {dst}:{dpt}", Line(ss, "shadowsocks_log"), StringComparison.Ordinal);
                        break;
                }
            }
        }

        Assert.Equal(kern.Length, checkedLines); // every line of kern.log belongs to one attempt
    }
}
