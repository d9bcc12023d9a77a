using System.Text.RegularExpressions;

namespace MailGuard.Parsing.Tests;

/// <summary>The rule sets mgscan rules prints: golden text per front-end, per-service prefixes, names validated or quoted.</summary>
public partial class MailRulesTests
{
    private static readonly MailRuleOptions Typical = new()
    {
        AllowedUsers = ["postfix"],
        Services = ["v2ray.service", "shadowsocks-libev"],
    };

    private static string Golden(string name) => Path.Combine(Repo.Root, "samples", "rulesets", "golden", name);

    /// <summary>The text of each front-end, for the typical options (an allowed mail user, two services). Set MAILGUARD_GOLDEN=write to rewrite.</summary>
    [Theory]
    [InlineData(FirewallFrontEnd.Iptables, "iptables.sh")]
    [InlineData(FirewallFrontEnd.IptablesRestore, "iptables-restore.rules")]
    [InlineData(FirewallFrontEnd.Nftables, "mailguard.nft")]
    [InlineData(FirewallFrontEnd.Firewalld, "firewalld.sh")]
    [InlineData(FirewallFrontEnd.Ufw, "ufw-before.rules")]
    public void Generate_FrontEnd_EqualsGoldenText(FirewallFrontEnd frontEnd, string file)
    {
        string text = MailRules.Generate(frontEnd, Typical);
        if (Environment.GetEnvironmentVariable("MAILGUARD_GOLDEN") == "write")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Golden(file))!);
            File.WriteAllText(Golden(file), text);
        }

        Assert.Equal(File.ReadAllText(Golden(file)), text);
    }

    [Theory]
    [InlineData(FirewallFrontEnd.Iptables)]
    [InlineData(FirewallFrontEnd.IptablesRestore)]
    [InlineData(FirewallFrontEnd.Nftables)]
    [InlineData(FirewallFrontEnd.Firewalld)]
    [InlineData(FirewallFrontEnd.Ufw)]
    public void Generate_AnyFrontEnd_EveryPrefixFitsAndIsReadBack(FirewallFrontEnd frontEnd)
    {
        var options = Typical with { Services = ["shadowsocks-libev-server@config.service", "a"], MailPorts = [25, 465, 587, 2525, 65535] };
        string text = MailRules.Generate(frontEnd, options);
        Assert.True(text.All(c => c is '\n' or '\t' || (c >= ' ' && c < 0x7f)), "printable ASCII only");
        MatchCollection prefixes = PrefixRegex().Matches(text);
        Assert.NotEmpty(prefixes);
        foreach (Match m in prefixes)
        {
            string prefix = m.Groups["p"].Value;
            Assert.True(prefix.Length <= ServicePrefix.MaxLength, prefix);
            Assert.True(PrefixFilter.TcpOut.Matches(System.Text.Encoding.ASCII.GetBytes(prefix), out int port), prefix);
            Assert.Contains((ushort)port, options.MailPorts);
        }

        // each service has one name on every port, and every port has a LOG rule per service and a generic one
        foreach (string service in (string[])["shadowsocks-li", "a"])
        {
            Assert.Equal(options.MailPorts.Count * (frontEnd is FirewallFrontEnd.Iptables or FirewallFrontEnd.Firewalld or FirewallFrontEnd.Ufw ? 2 : 1),
                prefixes.Count(m => ServicePrefix.ServiceOf(m.Groups["p"].Value) == service));
        }
    }

    [GeneratedRegex("""(?:--log-prefix|log prefix) ["'](?<p>[^"']*)["']""")]
    private static partial Regex PrefixRegex();

    [Fact]
    public void Generate_Iptables_LogsOnceThenVerdict_InThisOrder()
    {
        string text = MailRules.Generate(FirewallFrontEnd.IptablesRestore, Typical with { MailPorts = [25] });
        string[] rules = [.. text.Split('\n').Where(l => l.StartsWith("-A", StringComparison.Ordinal) || l.StartsWith("-I", StringComparison.Ordinal))];
        Assert.Equal(
        [
            "-I OUTPUT 1 -p tcp --dport 25 -j MAILGUARD-OUT",
            "-A MAILGUARD-LOG -p tcp --dport 25 -m cgroup --path system.slice/v2ray.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix \"TCP-OUT 25 v2ray:\" --log-uid",
            "-A MAILGUARD-LOG -p tcp --dport 25 -m cgroup --path system.slice/v2ray.service -j RETURN",
            "-A MAILGUARD-LOG -p tcp --dport 25 -m cgroup --path system.slice/shadowsocks-libev.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix \"TCP-OUT 25 shadowsocks-li:\" --log-uid",
            "-A MAILGUARD-LOG -p tcp --dport 25 -m cgroup --path system.slice/shadowsocks-libev.service -j RETURN",
            "-A MAILGUARD-LOG -p tcp --dport 25 -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix \"IPTABLES TCP-OUT 25:\" --log-uid",
            "-A MAILGUARD-OUT -p tcp --syn -j MAILGUARD-LOG",
            "-A MAILGUARD-OUT -m owner --uid-owner postfix -j ACCEPT",
            "-A MAILGUARD-OUT -j DROP",
        ], rules);
    }

    [Theory]
    [InlineData(MailTrafficAction.Reject, "-A MAILGUARD-OUT -p tcp -j REJECT --reject-with tcp-reset", "meta l4proto tcp reject with tcp reset")]
    [InlineData(MailTrafficAction.Drop, "-A MAILGUARD-OUT -j DROP", "\t\tdrop\n")]
    public void Generate_Action_EndsTheChain(MailTrafficAction action, string iptables, string nft)
    {
        Assert.Contains(iptables, MailRules.Generate(FirewallFrontEnd.IptablesRestore, new MailRuleOptions { Action = action }), StringComparison.Ordinal);
        Assert.Contains(nft, MailRules.Generate(FirewallFrontEnd.Nftables, new MailRuleOptions { Action = action }), StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_LogOnly_NoVerdictAndNoAllowedUsers()
    {
        string text = MailRules.Generate(FirewallFrontEnd.IptablesRestore, Typical with { Action = MailTrafficAction.LogOnly });
        Assert.DoesNotContain("DROP", text, StringComparison.Ordinal);
        Assert.DoesNotContain("--uid-owner", text, StringComparison.Ordinal);
        Assert.Contains("let them go (log only)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_MoreThan15Ports_SplitsTheMultiportJump()
    {
        ushort[] ports = [.. Enumerable.Range(2000, 17).Select(p => (ushort)p)];
        string text = MailRules.Generate(FirewallFrontEnd.Iptables, new MailRuleOptions { MailPorts = ports });
        string[] jumps = [.. text.Split('\n').Where(l => l.StartsWith("iptables -I OUTPUT 1", StringComparison.Ordinal))];
        Assert.Equal(2, jumps.Length);
        Assert.Contains("--dports 2000,2001,2002,2003,2004,2005,2006,2007,2008,2009,2010,2011,2012,2013,2014 ", jumps[0], StringComparison.Ordinal);
        Assert.Contains("--dports 2015,2016 ", jumps[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_Forward_LogsAndDropsForwardedTraffic()
    {
        string text = MailRules.Generate(FirewallFrontEnd.IptablesRestore, new MailRuleOptions { Forward = true, MailPorts = [25] });
        Assert.Contains("-I FORWARD 1 -p tcp --dport 25 -j MAILGUARD-FWD", text, StringComparison.Ordinal);
        Assert.Contains("-A MAILGUARD-FWD -p tcp --dport 25 --syn -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix \"IPTABLES TCP-OUT 25:\"\n", text, StringComparison.Ordinal);
        Assert.Contains("-A MAILGUARD-FWD -j DROP", text, StringComparison.Ordinal);
        Assert.Contains("type filter hook forward priority filter - 10;", MailRules.Generate(FirewallFrontEnd.Nftables, new MailRuleOptions { Forward = true }), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a;id")]
    [InlineData("a b")]
    [InlineData("$(id)")]
    [InlineData("a'b")]
    [InlineData("a\"b")]
    [InlineData("caf\u00e9")]
    [InlineData("-x")]
    [InlineData(".hidden")]
    [InlineData("ssh.socket")]
    [InlineData("getty@.service")]
    [InlineData("")]
    [InlineData("a\nb")]
    public void ServiceUnit_NotAServiceName_Throws(string unit)
    {
        Assert.Throws<ArgumentException>(() => MailRules.ServiceUnit(unit));
        Assert.Throws<ArgumentException>(() => MailRules.Generate(FirewallFrontEnd.Nftables, new MailRuleOptions { Services = [unit] }));
    }

    [Theory]
    [InlineData("v2ray", "v2ray.service")]
    [InlineData("v2ray.service", "v2ray.service")]
    [InlineData("openvpn-client@my\\x2dvpn", "openvpn-client@my\\x2dvpn.service")]
    [InlineData("a.b", "a.b.service")]
    public void ServiceUnit_Name_GetsTheServiceSuffix(string name, string unit) => Assert.Equal(unit, MailRules.ServiceUnit(name));

    [Theory]
    [InlineData("postfix", true)]
    [InlineData("Debian-exim", true)]
    [InlineData("_smtpd", true)]
    [InlineData("107", true)]
    [InlineData("4294967295", false)]
    [InlineData("root;id", false)]
    [InlineData("a b", false)]
    [InlineData("-u", false)]
    [InlineData("", false)]
    [InlineData("abcdefghijklmnopqrstuvwxyzabcdefg", false)]
    public void IsUserName_Name_AcceptsWhatUseraddAccepts(string user, bool ok)
    {
        Assert.Equal(ok, MailRules.IsUserName(user));
        if (!ok)
        {
            Assert.Throws<ArgumentException>(() => MailRules.Generate(FirewallFrontEnd.Iptables, new MailRuleOptions { AllowedUsers = [user] }));
        }
    }

    [Fact]
    public void Generate_BackslashInUnit_QuotedForEachSyntax_FirewalldRefuses()
    {
        var options = new MailRuleOptions { Services = ["vpn@my\\x2dnet"], MailPorts = [25] };
        Assert.Contains("--path 'system.slice/vpn@my\\x2dnet.service'", MailRules.Generate(FirewallFrontEnd.Iptables, options), StringComparison.Ordinal);
        Assert.Contains("--path \"system.slice/vpn@my\\\\x2dnet.service\"", MailRules.Generate(FirewallFrontEnd.IptablesRestore, options), StringComparison.Ordinal);
        Assert.Contains("--log-prefix \"TCP-OUT 25 vpn@my\\\\x2dnet:\"", MailRules.Generate(FirewallFrontEnd.Ufw, options), StringComparison.Ordinal);
        Assert.Contains("socket cgroupv2 level 2 \"system.slice/vpn@my\\x2dnet.service\"", MailRules.Generate(FirewallFrontEnd.Nftables, options), StringComparison.Ordinal);
        ArgumentException e = Assert.Throws<ArgumentException>(() => MailRules.Generate(FirewallFrontEnd.Firewalld, options));
        Assert.Contains("iptables-restore", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_TwoServicesWithOnePrefix_Throws()
    {
        ArgumentException e = Assert.Throws<ArgumentException>(() => MailRules.Generate(FirewallFrontEnd.Nftables,
            new MailRuleOptions { Services = ["shadowsocks-libev-a", "shadowsocks-libev-b"] }));
        Assert.Contains("TCP-OUT 25 shadowsocks-li:", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10/second", 50, "10/second burst 50")]
    [InlineData("3/min", 5, "3/minute burst 5")]
    [InlineData("1/h", 1, "1/hour burst 1")]
    [InlineData("10000/day", 10000, "10000/day burst 10000")]
    public void LogRateLimit_TryParse_ReadsIptablesAndNftUnits(string text, int burst, string shown)
    {
        Assert.True(LogRateLimit.TryParse(text, burst, out LogRateLimit limit));
        Assert.Equal(shown, limit.ToString());
    }

    [Theory]
    [InlineData("0/second", 5)]
    [InlineData("10001/second", 5)]
    [InlineData("10/fortnight", 5)]
    [InlineData("10", 5)]
    [InlineData("10/second", 0)]
    [InlineData("-1/second", 5)]
    public void LogRateLimit_TryParse_RejectsOutOfRange(string text, int burst) => Assert.False(LogRateLimit.TryParse(text, burst, out _));
}
