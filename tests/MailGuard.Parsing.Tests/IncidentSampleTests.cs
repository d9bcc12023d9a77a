using System.Text.Json;

namespace MailGuard.Parsing.Tests;

/// <summary>
/// The incident logs of samples/logs (made by samples/incidents/make_incidents.py, whose ground truth is
/// samples/logs/incidents.json — counted by the generator itself, not by this parser): each gives the
/// right verdict, evidence figures and advice.
/// </summary>
public class IncidentSampleTests
{
    private static readonly JsonElement Truth = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Repo.Samples, "incidents.json"))).RootElement;

    public static TheoryData<string> Incidents() => [.. Truth.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Object).Select(p => p.Name)];

    /// <summary>The sample through the library's entry point, as mgscan reads it (in UTC, the year from 2026-11-24).</summary>
    private static (TrafficStats Stats, ScanTotals Totals) Scan(string name)
    {
        var options = new MailScanOptions { ReferenceTime = new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero), TimeZone = TimeZoneInfo.Utc };
        MailScanReport report = MailScan.FilesAsync([Path.Combine(Repo.Samples, name)], options).GetAwaiter().GetResult();
        Assert.True(report.Complete);
        return (report.Stats, report.Totals);
    }

    internal static SpamVerdict Verdict(string name, LinuxFamily family = LinuxFamily.Unknown) =>
        SpamVerdict.Analyze(Scan(name).Stats, new VerdictOptions { UserNames = UserNames.Parse(File.ReadAllText(Path.Combine(Repo.Samples, "passwd"))), Family = family });

    private static DateTimeOffset? Time(JsonElement e, string name) =>
        e.GetProperty(name).ValueKind == JsonValueKind.Null ? null : e.GetProperty(name).GetDateTimeOffset();

    [Theory]
    [MemberData(nameof(Incidents))]
    public void Incident_GivesTheExpectedClassAndTheEvidenceFigures(string name)
    {
        JsonElement truth = Truth.GetProperty(name);
        (TrafficStats stats, ScanTotals totals) = Scan(name);
        Assert.Equal(truth.GetProperty("lines").GetInt64(), totals.Lines);
        Assert.Equal(truth.GetProperty("entries").GetInt64(), totals.Entries);
        Assert.Equal(truth.GetProperty("attempts").GetInt64(), stats.All.Attempts);
        Assert.Equal(truth.GetProperty("destinations").GetInt32(), stats.All.DistinctDestinations);
        foreach (JsonProperty port in truth.GetProperty("per_port").EnumerateObject())
        {
            Assert.Equal(new PortCount(port.Value.GetProperty("packets").GetInt64(), port.Value.GetProperty("attempts").GetInt64()), stats.All.Ports![ushort.Parse(port.Name, System.Globalization.CultureInfo.InvariantCulture)]);
        }

        SpamVerdict v = Verdict(name);
        string expectedClass = truth.GetProperty("expected_class").GetString()!;
        Assert.Equal(expectedClass, v.Class switch
        {
            VerdictClass.DirectToMx => "direct-to-mx",
            VerdictClass.ProxyRelay => "proxy-relay",
            VerdictClass.RelayAbuse => "relay-abuse",
            VerdictClass.RetryingClient => "retrying-client",
            VerdictClass.NothingSuspicious => "nothing-suspicious",
            _ => "unclear",
        });
        Assert.Equal(truth.GetProperty("uid_known").GetBoolean(), v.UidLogged);
        Assert.Equal(Time(truth, "burst_minute"), v.BurstStart);

        // The culprit is the generator's top actor, with its figures.
        JsonElement actor = truth.GetProperty("actors")[0];
        Actor culprit = v.Culprit!;
        Assert.Equal(actor.GetProperty("kind").GetString(), culprit.Kind switch { ActorKind.User => "uid", ActorKind.ForwardedInterface => "interface", _ => "src" });
        Assert.Equal(actor.GetProperty("key").ToString(), culprit.Key);
        Assert.Equal(actor.GetProperty("packets").GetInt64(), culprit.MailPackets);
        Assert.Equal(actor.GetProperty("attempts").GetInt64(), culprit.MailAttempts);
        Assert.Equal(actor.GetProperty("destinations").GetInt32(), culprit.Stat.DistinctDestinations);
        Assert.Equal(Time(actor, "first"), culprit.Stat.First);
        Assert.Equal(Time(actor, "last"), culprit.Stat.Last);
        Assert.Equal(actor.GetProperty("peak_attempts_per_minute").GetInt64(), culprit.PeakMinute!.Value.Count);
        Assert.Equal(Time(actor, "peak_minute"), culprit.PeakMinute!.Value.Start);
        foreach (JsonProperty port in actor.GetProperty("per_port").EnumerateObject())
        {
            Assert.Equal(new PortCount(port.Value.GetProperty("packets").GetInt64(), port.Value.GetProperty("attempts").GetInt64()), culprit.MailPorts[ushort.Parse(port.Name, System.Globalization.CultureInfo.InvariantCulture)]);
        }

        if (actor.TryGetProperty("clients", out JsonElement clients))
        {
            Assert.Equal(clients.GetInt32(), culprit.Stat.DistinctSources);
        }
    }

    [Fact]
    public void Webshell_VerdictAndAdvice()
    {
        SpamVerdict v = Verdict("incident-webshell.log", LinuxFamily.Debian);
        Assert.Equal("Direct-to-MX spam from uid 33 (www-data), high confidence", v.Headline);
        Assert.Equal("uid 33 (www-data) made 97% of the logged mail connections: 1,656 attempts (5,770 packets with retransmissions) to 1,553 different servers on port 25 between 02:14 and 03:43 (2026-11-23), up to 56 a minute — the pattern of a compromised web application sending spam directly to mail servers.", v.Summary);
        Assert.Equal(
            ["Let only the mail server (postfix) connect to port 25", "Find the process of uid 33 (www-data)", "Keep the rules after a reboot (Debian/Ubuntu)"],
            v.Advice.Select(a => a.Title));
        Assert.Contains("iptables -I OUTPUT -p tcp --dport 25 -m owner ! --uid-owner postfix -j REJECT --reject-with tcp-reset", v.Advice[0].Commands);
        Assert.Contains("# nftables: nft insert rule inet filter output tcp dport 25 meta skuid != postfix reject with tcp reset", v.Advice[0].Commands);
        Assert.Contains("ss -tnp state syn-sent '( dport = :25 )'     # the process connecting now", v.Advice[1].Commands);
        Assert.Contains("find /var/www -name '*.php' -newermt '2026-11-23 01:14'   # files changed shortly before it began", v.Advice[1].Commands);
    }

    [Fact]
    public void Proxy_VerdictAndAdvice()
    {
        SpamVerdict v = Verdict("incident-proxy.log", LinuxFamily.Debian);
        Assert.Equal("Spam relayed for 40 forwarded clients behind wg0, high confidence", v.Headline);
        Assert.Equal("Stop forwarding mail traffic from wg0", v.Advice[0].Title);
        Assert.Contains("iptables -I FORWARD -i wg0 -p tcp -m multiport --dports 25,465,587,2525 -j REJECT --reject-with tcp-reset", v.Advice[0].Commands);
        Assert.Contains("wg show wg0 allowed-ips        # which peer owns each address", v.Advice[1].Commands);
    }

    [Fact]
    public void RelayAbuse_VerdictAndAdvice()
    {
        SpamVerdict v = Verdict("incident-relay-abuse.log", LinuxFamily.RedHat);
        Assert.Equal("Relay abuse (stolen credentials?) by uid 1002 (shop), high confidence", v.Headline);
        Assert.Contains("iptables -I OUTPUT -p tcp -m multiport --dports 465,587 -m owner --uid-owner 1002 -j REJECT --reject-with tcp-reset", v.Advice[0].Commands);
        Assert.Equal("Keep the rules after a reboot (RHEL family)", v.Advice[^1].Title);
    }

    [Fact]
    public void Retry_VerdictAndAdvice()
    {
        SpamVerdict v = Verdict("incident-retry.log");
        Assert.Equal("One client retrying: uid 1005 (backup), high confidence", v.Headline);
        Assert.Null(v.BurstStart);
        Assert.Contains("crontab -l -u backup", v.Advice[1].Commands);
    }

    [Fact]
    public void Clean_IsNothingSuspiciousWithoutAdvice()
    {
        SpamVerdict v = Verdict("incident-clean.log");
        Assert.Equal("Nothing suspicious", v.Headline);
        Assert.Empty(v.Advice);
    }

    [Fact]
    public void NoUid_SaysSoAndShowsTheLogUidRule()
    {
        SpamVerdict v = Verdict("incident-no-uid.log");
        Assert.Equal("Direct-to-MX spam from 192.0.2.10, high confidence", v.Headline);
        Assert.Contains("The log has no UID= field: the LOG rules lack --log-uid", v.Summary, StringComparison.Ordinal);
        Assert.Contains(v.Advice, a => a.Title.StartsWith("Log the UID", StringComparison.Ordinal)
            && a.Commands.Contains("for p in 25 465 587 2525; do iptables -I OUTPUT -p tcp --dport $p -j LOG --log-prefix \"IPTABLES TCP-OUT $p:\" --log-uid; done"));
    }
}
