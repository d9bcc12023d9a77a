using System.Globalization;
using System.Net;
using System.Text.Json;

namespace MailGuard.Parsing.Tests;

/// <summary>
/// The application-log samples of issue 15 (samples/logs/apps, made by samples/capture/apps.sh with the real Postfix,
/// V2Ray, shadowsocks-libev and PHP) against their ground truth, truth.json — written by samples/capture/apps/truth.py
/// from what the capture itself recorded (the fake MX saw each connection's source port and each message's tag), not
/// from these logs. What exists today is pinned: the library reads kern.log and its attempts per UID and destination
/// are the truth's; and the truth's pointers into the application logs hold, for the join that will be built on them.
/// </summary>
public class AppSamplesTests
{
    private static readonly string Dir = Path.Combine(Repo.Samples, "apps");
    private static readonly JsonElement Truth = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Dir, "truth.json"))).RootElement;

    private static IEnumerable<JsonElement> Attempts => Truth.GetProperty("attempts").EnumerateArray();

    /// <summary>kern.log as mgscan reads it: the year from the capture date, stamps in UTC (as written).</summary>
    private static MailScanOptions Options(Action<MailEntry>? onEntry = null) => new()
    {
        ReferenceTime = DateTimeOffset.Parse(Truth.GetProperty("capture").GetProperty("capture_date_utc").GetString()!, CultureInfo.InvariantCulture),
        TimeZone = TimeZoneInfo.Utc,
        OnEntry = onEntry,
    };

    private static NetAddress Address(JsonElement e) => NetAddress.FromIPAddress(IPAddress.Parse(e.GetString()!));

    private static string[] Lines(string file) => File.ReadAllLines(Path.Combine(Dir, file));

    [Fact]
    public async Task FilesAsync_AppsKernLog_CountsTheTruthsAttemptsPerUidAndDestination()
    {
        MailScanReport report = await MailScan.FilesAsync([Path.Combine(Dir, "kern.log")], Options(), TestContext.Current.CancellationToken);

        Assert.True(report.Complete);
        JsonElement totals = Truth.GetProperty("totals");
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

        foreach (IGrouping<string, JsonElement> dst in Attempts.GroupBy(a => a.GetProperty("dst").GetString()!))
        {
            KeyStat? stat = report.Destinations[NetAddress.FromIPAddress(IPAddress.Parse(dst.Key))];
            Assert.NotNull(stat);
            Assert.Equal(dst.Count(), stat.Attempts);
            Assert.Equal(dst.Sum(a => a.GetProperty("lines").GetInt64()), stat.Count);
        }
    }

    [Fact]
    public async Task FilesAsync_AppsKernLog_GivesEachAttemptOfTheTruthWithItsUidAndFirstTime()
    {
        var entries = new List<MailEntry>();
        MailScanReport report = await MailScan.FilesAsync([Path.Combine(Dir, "kern.log")], Options(entries.Add), TestContext.Current.CancellationToken);
        Assert.True(report.Complete);

        var flows = entries.GroupBy(e => (e.Src, e.Spt, e.Dst, e.Dpt)).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(Attempts.Count(), flows.Count);
        foreach (JsonElement a in Attempts)
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

    [Fact]
    public void Truth_AttemptsAndTotals_AgreeWithEachOtherAndTheCauses()
    {
        JsonElement totals = Truth.GetProperty("totals");
        JsonElement causes = Truth.GetProperty("causes");
        JsonElement uids = Truth.GetProperty("host").GetProperty("uids");
        var program = new Dictionary<string, uint>
        {
            ["postfix"] = uids.GetProperty("postfix").GetUInt32(),
            ["v2ray"] = uids.GetProperty("v2ray").GetUInt32(),
            ["shadowsocks-libev"] = uids.GetProperty("shadowsocks").GetUInt32(),
        };

        Assert.Equal(totals.GetProperty("attempts").GetInt32(), Attempts.Count());
        Assert.Equal(totals.GetProperty("messages").GetInt32(), Attempts.Sum(a => a.GetProperty("messages").GetArrayLength()));
        foreach (JsonElement a in Attempts)
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
            var mine = Attempts.Where(a => a.GetProperty("causes").EnumerateArray().Any(x => x.GetString() == c.Name)).ToList();
            Assert.Equal(c.Value.GetProperty("attempts").GetInt32(), mine.Count);
            Assert.Equal(c.Value.GetProperty("lines").GetInt32(), mine.Sum(a => a.GetProperty("lines").GetInt32()));
        }

        // the totals per cause of this capture, as its README states them
        Assert.Equal(
            "alice 12, bob 4, carol 6, contact 2, dave 2, mallory 3, office 4, report 3, webshell 8",
            string.Join(", ", totals.GetProperty("by_cause").EnumerateObject().Select(c => $"{c.Name} {c.Value.GetProperty("attempts").GetInt32()}")));
    }

    [Fact]
    public void Truth_EvidencePointers_NameTheLinesThatRecordEachAttempt()
    {
        string[] kern = Lines("kern.log");
        string[] mail = Lines("mail.log");
        string[] access = Lines("v2ray-access.log");
        string[] ss = Lines("shadowsocks.log");
        string[] php = Lines("php-mail.log");
        JsonElement causes = Truth.GetProperty("causes");
        int checkedLines = 0;

        foreach (JsonElement a in Attempts)
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
