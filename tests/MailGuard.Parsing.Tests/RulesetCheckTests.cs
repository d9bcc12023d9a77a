using System.Text;

namespace MailGuard.Parsing.Tests;

/// <summary>
/// The ruleset check on real iptables-save / ip6tables-save / nft -j list ruleset output (samples/rulesets, made by
/// its capture.sh in network namespaces): complete; LOG after DROP; no --log-uid; no rate limit; a custom prefix; IPv6
/// missing; per-service rules (logged twice, numeric cgroup ids); iptables-nft's nft view not read twice.
/// </summary>
public class RulesetCheckTests
{
    private static readonly IReadOnlyDictionary<uint, string> Names = new Dictionary<uint, string> { [65534] = "nobody", [0] = "root" };

    private static FirewallRuleset Load(string name) =>
        FirewallRuleset.Parse(File.ReadAllBytes(Path.Combine(Repo.Root, "samples", "rulesets", name)), name);

    private static RulesetCheckResult Check(MailRuleOptions? options, params string[] files) =>
        RulesetCheck.Check(files.Select(Load), (options ?? new MailRuleOptions()) with { UserNames = Names });

    private static string Missing(RulesetCheckResult r, string subject) =>
        Assert.Single(r.Findings, f => f.Level == RuleFindingLevel.Missing && f.Subject == subject).Message;

    [Fact]
    public void Check_MgscansOwnRules_IptablesBothFamilies_Complete()
    {
        RulesetCheckResult r = Check(new MailRuleOptions { AllowedUsers = ["nobody"], Services = ["a.service", "b"] }, "complete.v4", "complete.v6");
        Assert.True(r.IsComplete, string.Join("\n", r.Findings));
        // 2 families x 4 ports x (everyone, 2 services, the allowed user)
        Assert.Equal(2 * 4 * 4, r.Findings.Count(f => f.Level == RuleFindingLevel.Ok));
        RuleFinding port25 = r.Findings.First(f => f.Subject == "IPv4 port 25");
        Assert.Equal("logged with the UID as 'IPTABLES TCP-OUT 25:' by iptables filter/MAILGUARD-LOG rule 5 (10/second burst 50), then dropped by iptables filter/MAILGUARD-OUT rule 3", port25.Message);
        Assert.Contains("as 'TCP-OUT 25 a:' by iptables filter/MAILGUARD-LOG rule 1", r.Findings.First(f => f.Subject == "IPv4 port 25 service a").Message, StringComparison.Ordinal);
        Assert.Equal("accepted by ip6tables filter/MAILGUARD-OUT rule 2", r.Findings.First(f => f.Subject == "IPv6 port 587 user nobody").Message);
    }

    [Theory]
    [InlineData("complete.nft.json")]
    [InlineData("complete-cgroup-ids.nft.json")] // nft names the cgroups by id where it cannot find them: the prefixes name the services
    public void Check_MgscansOwnRules_Nft_Complete(string file)
    {
        RulesetCheckResult r = Check(new MailRuleOptions { AllowedUsers = ["nobody"], Services = ["a", "b"] }, file);
        Assert.True(r.IsComplete, string.Join("\n", r.Findings));
        Assert.Contains("as 'TCP-OUT 2525 b:' by nft inet mailguard/mail-log rule", r.Findings.First(f => f.Subject == "IPv6 port 2525 service b").Message, StringComparison.Ordinal);
        Assert.DoesNotContain(r.Findings, f => f.Subject.Contains("cgroup", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_IptablesNftSeenByBothTools_ReadOnce()
    {
        RulesetCheckResult r = Check(null, "complete.v4", "complete.v6", "complete-iptables.nft.json");
        Assert.True(r.IsComplete, string.Join("\n", r.Findings));
        Assert.DoesNotContain(r.Findings, f => f.Message.Contains("nft ip filter", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_IptablesNftSeenByNftAlone_LogOptionsUnknown()
    {
        RulesetCheckResult r = Check(null, "complete-iptables.nft.json");
        Assert.False(r.IsComplete); // nft shows iptables' matches (multiport, cgroup) by name only: the user is sent to iptables-save
        Assert.Contains("iptables-nft match 'multiport' (read it with iptables-save)", Missing(r, "IPv4 port 25"), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_ReadmeRulesWithoutUidAndLimit_SaysBoth_AndIPv6Missing()
    {
        RulesetCheckResult r = Check(null, "no-uid.v4");
        Assert.False(r.IsComplete);
        string m = Missing(r, "IPv4 port 25");
        Assert.Contains("logged without the UID by iptables filter/OUTPUT rule 1: add --log-uid", m, StringComparison.Ordinal);
        Assert.Contains("no rate limit on iptables filter/OUTPUT rule 1", m, StringComparison.Ordinal);
        Assert.StartsWith("not logged: no LOG rule for it; not dropped: accepted by the policy of iptables filter/OUTPUT", Missing(r, "IPv4 port 465"), StringComparison.Ordinal);
        Assert.Contains("give ip6tables-save output too", Missing(r, "IPv6"), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_LogAfterDrop_NotLogged_NamesTheRule()
    {
        RulesetCheckResult r = Check(null, "log-after-drop.v4");
        Assert.Equal("not logged: dropped by iptables filter/OUTPUT rule 1 (-A OUTPUT -p tcp -m tcp --dport 25 -j DROP) before any LOG rule", Missing(r, "IPv4 port 25"));
    }

    [Fact]
    public void Check_CustomPrefix_NoteWithThePrefixOption()
    {
        RulesetCheckResult r = Check(null, "log-after-drop.v4");
        RuleFinding note = Assert.Single(r.Findings, f => f.Level == RuleFindingLevel.Note && f.Subject == "IPv4 port 587");
        Assert.Equal("the prefix 'MAIL-OUT 587: ' (iptables filter/OUTPUT rule 3) is not mgscan's default: read this log with mgscan --prefix 'MAIL-OUT #:'", note.Message);
        Assert.Contains(r.Findings, f => f.Level == RuleFindingLevel.Ok && f.Subject == "IPv4 port 587" && f.Message.EndsWith("then rejected by iptables filter/OUTPUT rule 4", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_ServiceLoggedTwice_OtherPortsNotLogged()
    {
        RulesetCheckResult r = Check(null, "service-twice.nft.json");
        Assert.Contains("logged again by nft inet t/out rule 3 ('IPTABLES TCP-OUT 25:'): every attempt would count twice", Missing(r, "IPv4 port 25 service a"), StringComparison.Ordinal);
        Assert.Contains(r.Findings, f => f.Level == RuleFindingLevel.Ok && f.Subject == "IPv6 port 25");
        Assert.StartsWith("not logged: dropped by nft inet t/out rule 4 before any LOG rule", Missing(r, "IPv6 port 465"), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_ExpectedServiceWithoutItsRule_LoggedUnderTheGenericPrefix()
    {
        RulesetCheckResult r = Check(new MailRuleOptions { Services = ["c.service"] }, "complete.v4", "complete.v6");
        Assert.StartsWith("logged under 'IPTABLES TCP-OUT 25:' by iptables filter/MAILGUARD-LOG rule 5, not under its own prefix (TCP-OUT 25 c:)", Missing(r, "IPv4 port 25 service c"), StringComparison.Ordinal);
        Assert.Contains("mgscan rules --per-service c", Missing(r, "IPv4 port 25 service c"), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_AllowedUserDropped_Missing()
    {
        RulesetCheckResult r = Check(new MailRuleOptions { AllowedUsers = ["postfix"] }, "complete.nft.json");
        Assert.StartsWith("dropped by nft inet mailguard/mail-out rule 3: accept the mail server's connections before that", Missing(r, "IPv4 port 25 user postfix"), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_LogOnlyExpected_AcceptIsFine()
    {
        const string rules = "*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p tcp -m multiport --dports 25,465,587,2525 -m limit --limit 10/min -j LOG --log-prefix \"IPTABLES TCP-OUT 25:\" --log-uid\nCOMMIT\n";
        RulesetCheckResult r = RulesetCheck.Check(
            [FirewallRuleset.ParseIptablesSave(rules, "v4", IpFamily.IPv4), FirewallRuleset.ParseIptablesSave(rules, "v6", IpFamily.IPv6)],
            new MailRuleOptions { Action = MailTrafficAction.LogOnly, MailPorts = [25] });
        Assert.True(r.IsComplete, string.Join("\n", r.Findings));
        Assert.False(RulesetCheck.Check([FirewallRuleset.ParseIptablesSave(rules, "v4", IpFamily.IPv4), FirewallRuleset.ParseIptablesSave(rules, "v6", IpFamily.IPv6)],
            new MailRuleOptions { MailPorts = [25] }).IsComplete);
    }

    /// <summary>How the walk treats chains: policy, goto, return, state, owner exemptions, NFLOG, loops.</summary>
    [Theory]
    [InlineData(":OUTPUT DROP [0:0]\n", "not logged: dropped by the policy of iptables filter/OUTPUT before any LOG rule")]
    [InlineData(":OUTPUT ACCEPT [0:0]\n:X - [0:0]\n-A OUTPUT -j X\n-A X -p tcp --dport 25 -j RETURN\n-A OUTPUT -p tcp --dport 25 -j DROP\n", "not logged: dropped by iptables filter/OUTPUT rule 2 (-A OUTPUT -p tcp --dport 25 -j DROP) before any LOG rule")]
    [InlineData(":OUTPUT ACCEPT [0:0]\n-A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A OUTPUT -o lo -j ACCEPT\n-A OUTPUT -p udp --dport 25 -j DROP\n-A OUTPUT -d 127.0.0.1/32 -j DROP\n-A OUTPUT -p tcp --dport 25 -j NFLOG --nflog-prefix \"IPTABLES TCP-OUT 25:\"\n-A OUTPUT -j DROP\n", "logged only to an NFLOG group by iptables filter/OUTPUT rule 5")]
    [InlineData(":OUTPUT ACCEPT [0:0]\n:X - [0:0]\n-A OUTPUT -j X\n-A X -j X\n", "not logged: no LOG rule for it")]
    [InlineData(":OUTPUT ACCEPT [0:0]\n:X - [0:0]\n-A OUTPUT -g X\n-A OUTPUT -j DROP\n", "not logged: no LOG rule for it; not dropped")]
    [InlineData(":OUTPUT ACCEPT [0:0]\n-A OUTPUT -m owner --uid-owner 33 -j DROP\n-A OUTPUT -p tcp --syn --dport 25 -m limit --limit 1/s -j LOG --log-prefix \"IPTABLES TCP-OUT 25:\" --log-uid\n-A OUTPUT -j DROP\n", "packets uid 33 are dropped by iptables filter/OUTPUT rule 1")]
    [InlineData(":OUTPUT ACCEPT [0:0]\n-A OUTPUT -o eth0 -p tcp --dport 25 -j DROP\n-A OUTPUT -p tcp --dport 25 -m limit --limit 1/s -j LOG --log-prefix \"IPTABLES TCP-OUT 25:\" --log-uid\n-A OUTPUT -j DROP\n", "packets out eth0 are dropped by iptables filter/OUTPUT rule 1 (-A OUTPUT -o eth0 -p tcp --dport 25 -j DROP) before the LOG rule")]
    public void Check_Walk_FollowsNetfilter(string chains, string expected)
    {
        RulesetCheckResult r = RulesetCheck.Check([FirewallRuleset.ParseIptablesSave("*filter\n" + chains + "COMMIT\n", "v4", IpFamily.IPv4)], new MailRuleOptions { MailPorts = [25] });
        Assert.StartsWith(expected, Missing(r, "IPv4 port 25"), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_AllowedUserBeforeTheLog_NotAProblemForOthers()
    {
        const string rules = "*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p tcp --dport 25 -m owner --uid-owner 65534 -j ACCEPT\n-A OUTPUT -p tcp --dport 25 -m limit --limit 5/sec -j LOG --log-prefix \"IPTABLES TCP-OUT 25:\" --log-uid\n-A OUTPUT -p tcp --dport 25 -j REJECT --reject-with tcp-reset\nCOMMIT\n";
        RulesetCheckResult r = RulesetCheck.Check([FirewallRuleset.ParseIptablesSave(rules, "v4", IpFamily.IPv4), FirewallRuleset.ParseIptablesSave("", "v6", IpFamily.IPv6)],
            new MailRuleOptions { MailPorts = [25], AllowedUsers = ["nobody"], UserNames = Names });
        Assert.Contains(r.Findings, f => f is { Level: RuleFindingLevel.Ok, Subject: "IPv4 port 25" });
        Assert.Contains(r.Findings, f => f is { Level: RuleFindingLevel.Ok, Subject: "IPv4 port 25 user nobody" });
        Assert.StartsWith("not logged: no chain on the output hook", Missing(r, "IPv6 port 25"), StringComparison.Ordinal); // empty ip6tables-save: no IPv6 rules
    }

    [Theory]
    [InlineData("table inet x {\n}\n", "nft -j list ruleset")]
    [InlineData("{\"foo\": 1}", "nftables")]
    [InlineData("{not json", "not JSON")]
    [InlineData("hello world\n", "before any table")]
    [InlineData("*filter\n-A OUTPUT \"-j DROP\nCOMMIT\n", "quote")]
    [InlineData("  \n", "empty")]
    public void Parse_NotARuleset_FormatExceptionSaysWhat(string text, string says)
    {
        FormatException e = Assert.Throws<FormatException>(() => FirewallRuleset.Parse(Encoding.UTF8.GetBytes(text), "f"));
        Assert.Contains(says, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Ip6tablesSave_CoversIPv6Only()
    {
        FirewallRuleset v6 = Load("complete.v6");
        Assert.True(v6.CoversIPv6);
        Assert.False(v6.CoversIPv4);
        Assert.Equal(RulesetFormat.IptablesSave, v6.Format);
        FirewallRuleset nft = Load("complete.nft.json");
        Assert.True(nft.CoversIPv4 && nft.CoversIPv6);
    }
}
