using System.Globalization;
using System.Text;

namespace MailGuard.Parsing.Tests;

/// <summary>Per-service LOG prefixes (TCP-OUT &lt;port&gt; &lt;service&gt;:): written within iptables' 29 characters, read back into the statistics and the verdict.</summary>
public class ServicePrefixTests
{
    private static readonly DateTime Start = new(2026, 11, 23, 2, 0, 0);

    [Theory]
    [InlineData(25, "v2ray.service", "TCP-OUT 25 v2ray:")]
    [InlineData(587, "shadowsocks-libev-server@config.service", "TCP-OUT 587 shadowsocks-li:")]
    [InlineData(65535, "shadowsocks-libev-server@config.service", "TCP-OUT 65535 shadowsocks-li:")]
    [InlineData(2525, "xray", "TCP-OUT 2525 xray:")]
    public void Format_Unit_FitsTheLogPrefixAndReadsBack(int port, string unit, string prefix)
    {
        string written = ServicePrefix.Format((ushort)port, unit);
        Assert.Equal(prefix, written);
        Assert.True(written.Length <= ServicePrefix.MaxLength);
        Assert.True(ServicePrefix.TryParse(Encoding.ASCII.GetBytes(written), out int p, out ReadOnlySpan<byte> service));
        Assert.Equal(port, p);
        Assert.Equal(prefix[(prefix.LastIndexOf(' ') + 1)..^1], Encoding.ASCII.GetString(service));
    }

    [Fact]
    public void Format_LongUnit_SameServiceNameOnEveryPort()
    {
        string[] names = [.. new ushort[] { 25, 465, 587, 2525, 65535 }.Select(p => ServicePrefix.ServiceOf(ServicePrefix.Format(p, "shadowsocks-libev.service"))!)];
        Assert.All(names, n => Assert.Equal("shadowsocks-li", n));
    }

    [Theory]
    [InlineData("v2ray;id")]
    [InlineData("")]
    [InlineData(".service")]
    [InlineData("caf\u00e9")]
    public void Format_NotAUnitName_Throws(string unit) =>
        Assert.Throws<ArgumentException>(() => ServicePrefix.Format(25, unit));

    [Theory]
    [InlineData("TCP-OUT 25 v2ray:", 25, "v2ray")]
    [InlineData("TCP-OUT 25 v2ray: ", 25, "v2ray")]
    [InlineData("TCP-OUT 25:", -1, null)] // no service
    [InlineData("TCP-OUT 0 v2ray:", -1, null)]
    [InlineData("TCP-OUT 65536 v2ray:", -1, null)]
    [InlineData("TCP-OUT 25 v2ray", -1, null)] // no colon
    [InlineData("TCP-OUT 25 v2 ray:", -1, null)]
    [InlineData("TCP-OUT 25 x;id:", -1, null)]
    [InlineData("IPTABLES TCP-OUT 25:", -1, null)]
    public void TryParse_Prefix_ReadsPortAndServiceOrNothing(string prefix, int port, string? service)
    {
        bool ok = ServicePrefix.TryParse(Encoding.UTF8.GetBytes(prefix), out int p, out ReadOnlySpan<byte> s);
        Assert.Equal(service is not null, ok);
        Assert.Equal(port, p);
        Assert.Equal(service ?? "", Encoding.ASCII.GetString(s));
        Assert.Equal(service, ServicePrefix.ServiceOf(prefix));
    }

    [Theory]
    [InlineData("IPTABLES TCP-OUT 25:", true, 25)]
    [InlineData("TCP-OUT 465 v2ray:", true, 465)]
    [InlineData("TCP-OUT 465 v2 ray:", false, -1)]
    [InlineData("SMTP-OUT: ", false, -1)]
    public void TcpOut_SelectsPerServicePrefixesToo(string prefix, bool selected, int rulePort)
    {
        Assert.Equal(selected, PrefixFilter.TcpOut.Matches(Encoding.ASCII.GetBytes(prefix), out int port));
        Assert.Equal(rulePort, port);
    }

    [Fact]
    public void Analyze_TwoServicesOfOneUid_AreToldApartAndTheBusyOneIsTheCulprit()
    {
        var log = new SpamVerdictTests.Log();
        for (int i = 0; i < 300; i++)
        {
            log.Attempt(Start.AddSeconds(i * 10), 65534, "192.0.2.10", Dst(i), 25, prefix: "TCP-OUT 25 v2ray:");
        }

        for (int i = 0; i < 12; i++)
        {
            log.Attempt(Start.AddMinutes(i * 4), 65534, "192.0.2.10", "198.51.100.7", 25, prefix: "TCP-OUT 25 ss-server:");
        }

        log.Attempt(Start, 65534, "192.0.2.10", "198.51.100.9", 587); // the UID's own rule
        TrafficStats stats = log.Stats();
        Assert.Equal(313, stats.Uids[65534]!.Attempts); // the UID table keeps all of it
        Assert.Equal(300, stats.Services["v2ray"]!.Attempts);
        Assert.Equal(65534u, stats.Services["v2ray"]!.Uid);
        Assert.Equal(1, stats.UidsWithoutService[65534]!.Attempts);

        SpamVerdict v = SpamVerdict.Analyze(stats, new VerdictOptions { UserNames = new Dictionary<uint, string> { [65534] = "nobody" } });
        Assert.Equal(VerdictClass.ProxyRelay, v.Class); // v2ray is a proxy daemon
        Assert.Equal(ActorKind.Service, v.Culprit!.Kind);
        Assert.Equal("service v2ray (uid 65534 nobody)", v.Culprit.Label);
        Assert.Equal(["v2ray", "ss-server", "65534"], v.Actors.Select(a => a.Key));
        Assert.Contains(v.Advice, a => a.Commands.Contains("iptables -I OUTPUT -p tcp -m multiport --dports 25,465,587,2525 -m cgroup --path system.slice/v2ray.service -j REJECT --reject-with tcp-reset"));
        Assert.DoesNotContain("cannot tell which", v.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_SharedUidWithoutServiceRules_SaysItCannotTellThemApartAndNamesTheRunningOnes()
    {
        var log = new SpamVerdictTests.Log();
        for (int i = 0; i < 300; i++)
        {
            log.Attempt(Start.AddSeconds(i * 10), 0, "192.0.2.10", Dst(i), 25);
        }

        var options = new VerdictOptions
        {
            UserNames = new Dictionary<uint, string> { [0] = "root" },
            ServicesByUid = new Dictionary<uint, IReadOnlyList<string>> { [0] = ["v2ray.service", "shadowsocks-libev.service"] },
        };
        SpamVerdict v = SpamVerdict.Analyze(log.Stats(), options);
        Assert.Equal(VerdictClass.DirectToMx, v.Class);
        Assert.True(v.Culprit!.SharedUid);
        Assert.Contains("uid 0 (root) is a UID that several services run as, and the log cannot tell which of them sent this (running as it: v2ray.service, shadowsocks-libev.service)", v.Summary, StringComparison.Ordinal);
        Advice apart = Assert.Single(v.Advice, a => a.Title == "Tell apart the services that run as uid 0 (root)");
        Assert.Contains("mgscan rules --per-service v2ray.service shadowsocks-libev.service   # LOG rules that name each service", apart.Commands);

        SpamVerdict alone = SpamVerdict.Analyze(log.Stats(), new VerdictOptions { UserNames = new Dictionary<uint, string> { [0] = "root" } });
        Assert.Contains("mgscan rules --per-service UNIT...", alone.Advice.SelectMany(a => a.Commands).Single(c => c.StartsWith("mgscan rules", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_OrdinaryUser_IsNotShared()
    {
        var log = new SpamVerdictTests.Log();
        for (int i = 0; i < 300; i++)
        {
            log.Attempt(Start.AddSeconds(i * 10), 33, "192.0.2.10", Dst(i), 25);
        }

        SpamVerdict v = SpamVerdict.Analyze(log.Stats(), new VerdictOptions { UserNames = new Dictionary<uint, string> { [33] = "www-data" } });
        Assert.False(v.Culprit!.SharedUid);
        Assert.DoesNotContain(v.Advice, a => a.Title.StartsWith("Tell apart", StringComparison.Ordinal));
    }

    private static string Dst(int i) => string.Create(CultureInfo.InvariantCulture, $"198.51.{100 + (i / 256)}.{i % 256}");
}
