using System.Globalization;
using System.Text;
using MailGuard.Analysis.Internals;

namespace MailGuard.Analysis;

/// <summary>The iptables-syntax front-ends: commands, an iptables-restore fragment, firewalld's direct rules, ufw's before.rules.</summary>
public static partial class MailRules
{
    /// <summary>One rule in iptables syntax: its chain and its arguments (unquoted).</summary>
    private sealed record IptRule(string Chain, string[] Args);

    /// <summary>The rules of the three chains, in the order they are appended.</summary>
    private static List<IptRule> ChainRules(Plan p)
    {
        string limitRate = p.Limit.RateText;
        string burst = p.Limit.Burst.ToString(CultureInfo.InvariantCulture);
        string[] limit = ["-m", "limit", "--limit", limitRate, "--limit-burst", burst];
        var rules = new List<IptRule>();
        foreach (ushort port in p.Ports)
        {
            string dport = port.ToString(CultureInfo.InvariantCulture);
            foreach (ServiceRules s in p.Services)
            {
                string prefix = s.Prefixes.First(x => x.Port == port).Prefix;
                rules.Add(new(LogChain, ["-p", "tcp", "--dport", dport, "-m", "cgroup", "--path", s.Cgroup, .. limit, "-j", "LOG", "--log-prefix", prefix, "--log-uid"]));
                rules.Add(new(LogChain, ["-p", "tcp", "--dport", dport, "-m", "cgroup", "--path", s.Cgroup, "-j", "RETURN"]));
            }

            rules.Add(new(LogChain, ["-p", "tcp", "--dport", dport, .. limit, "-j", "LOG", "--log-prefix", GenericPrefix(port), "--log-uid"]));
        }

        rules.Add(new(OutChain, ["-p", "tcp", "--syn", "-j", LogChain]));
        if (p.Action != MailTrafficAction.LogOnly)
        {
            foreach (string user in p.Users)
            {
                rules.Add(new(OutChain, ["-m", "owner", "--uid-owner", user, "-j", "ACCEPT"]));
            }

            rules.Add(new(OutChain, Verdict(p.Action)));
        }

        if (p.Forward)
        {
            foreach (ushort port in p.Ports)
            {
                rules.Add(new(ForwardChain, ["-p", "tcp", "--dport", port.ToString(CultureInfo.InvariantCulture), "--syn", .. limit, "-j", "LOG", "--log-prefix", GenericPrefix(port)]));
            }

            if (p.Action != MailTrafficAction.LogOnly)
            {
                rules.Add(new(ForwardChain, Verdict(p.Action)));
            }
        }

        return rules;
    }

    private static string[] Verdict(MailTrafficAction action) =>
        action == MailTrafficAction.Reject ? ["-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"] : ["-j", "DROP"];

    /// <summary>The rules that send the mail ports from a built-in chain (or ufw's) to ours.</summary>
    private static List<IptRule> HookRules(Plan p, string output, string forward)
    {
        var rules = new List<IptRule>();
        foreach (ushort[] group in p.PortGroups())
        {
            string[] match = group.Length == 1
                ? ["-p", "tcp", "--dport", group[0].ToString(CultureInfo.InvariantCulture)]
                : ["-p", "tcp", "-m", "multiport", "--dports", string.Join(",", group)];
            rules.Add(new(output, [.. match, "-j", OutChain]));
            if (p.Forward)
            {
                rules.Add(new(forward, [.. match, "-j", ForwardChain]));
            }
        }

        return rules;
    }

    private static IEnumerable<string> Chains(Plan p) => p.Forward ? [OutChain, LogChain, ForwardChain] : [OutChain, LogChain];

    /// <summary>An argument as iptables-restore reads it: in double quotes, '\' and '"' escaped, when it holds anything but a plain word.</summary>
    internal static string RestoreQuote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/' or ':' or ',' or '@' or '+' or '=' or '%')
            ? arg
            : "\"" + arg.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static string Join(string[] args, Func<string, string> quote) => string.Join(' ', args.Select(quote));

    private static string IptablesCommands(Plan p)
    {
        var sb = new StringBuilder(Header(p, "iptables and ip6tables commands, run as root"));
        sb.Append("# Keep them across reboots: iptables-save > /etc/iptables/rules.v4; ip6tables-save > /etc/iptables/rules.v6 (Debian,\n")
          .Append("# iptables-persistent), or service iptables save; service ip6tables save (RHEL, iptables-services).\n");
        foreach (string tool in (string[])["iptables", "ip6tables"])
        {
            foreach (string chain in Chains(p))
            {
                sb.Append(tool).Append(" -N ").Append(chain).Append('\n');
            }

            foreach (IptRule r in ChainRules(p))
            {
                sb.Append(tool).Append(" -A ").Append(r.Chain).Append(' ').Append(Join(r.Args, ShellWord.Quote)).Append('\n');
            }

            foreach (IptRule r in HookRules(p, "OUTPUT", "FORWARD"))
            {
                sb.Append(tool).Append(" -I ").Append(r.Chain).Append(" 1 ").Append(Join(r.Args, ShellWord.Quote)).Append('\n');
            }
        }

        return sb.ToString();
    }

    private static string RestoreFragment(Plan p)
    {
        var sb = new StringBuilder(Header(p, "a fragment for iptables-restore and ip6tables-restore"));
        sb.Append("# Load it into both (the same text serves IPv4 and IPv6), keeping the rules there already:\n")
          .Append("#   iptables-restore -n < mailguard.rules && ip6tables-restore -n < mailguard.rules\n")
          .Append("# Loading it again empties and refills the MAILGUARD chains, and adds a second jump from OUTPUT.\n")
          .Append("*filter\n");
        AppendRestoreBody(sb, p, "OUTPUT", "FORWARD", insert: true);
        sb.Append("COMMIT\n");
        return sb.ToString();
    }

    private static void AppendRestoreBody(StringBuilder sb, Plan p, string output, string forward, bool insert)
    {
        foreach (string chain in Chains(p))
        {
            sb.Append(':').Append(chain).Append(" - [0:0]\n");
        }

        foreach (IptRule r in HookRules(p, output, forward))
        {
            sb.Append(insert ? "-I " : "-A ").Append(r.Chain).Append(insert ? " 1 " : " ").Append(Join(r.Args, RestoreQuote)).Append('\n');
        }

        foreach (IptRule r in ChainRules(p))
        {
            sb.Append("-A ").Append(r.Chain).Append(' ').Append(Join(r.Args, RestoreQuote)).Append('\n');
        }
    }

    private static string UfwLines(Plan p)
    {
        var sb = new StringBuilder(Header(p, "ufw"));
        sb.Append("# Add each block to its file, right after the line '# End required lines' (inside *filter, before ufw's own\n")
          .Append("# rules), then run: ufw reload. (In before6.rules ufw's chains are named ufw6-*.)\n");
        foreach ((string file, string chains) in (ReadOnlySpan<(string, string)>)[("/etc/ufw/before.rules", "ufw"), ("/etc/ufw/before6.rules", "ufw6")])
        {
            sb.Append("# ----- ").Append(file).Append(" -----\n");
            AppendRestoreBody(sb, p, chains + "-before-output", chains + "-before-forward", insert: false);
        }

        return sb.ToString();
    }

    private static string FirewalldCommands(Plan p)
    {
        foreach (ServiceRules s in p.Services)
        {
            if (s.Unit.Contains('\\', StringComparison.Ordinal))
            {
                ThrowHelper.Argument("options", $"'{s.Unit}': firewalld hands direct rules to iptables-restore in double quotes without escaping '\\', so the prefix would lose it; use the iptables or nft rules.");
            }
        }

        var sb = new StringBuilder(Header(p, "firewalld, permanent direct rules"));
        sb.Append("# firewalld's rich rules and policies cannot log the UID, so these are direct rules (iptables syntax; with\n")
          .Append("# the nftables backend firewalld loads them with iptables-nft). Run as root; they apply after the reload.\n");
        foreach (string ipv in (string[])["ipv4", "ipv6"])
        {
            foreach (string chain in Chains(p))
            {
                sb.Append("firewall-cmd --permanent --direct --add-chain ").Append(ipv).Append(" filter ").Append(chain).Append('\n');
            }

            var priority = new Dictionary<string, int>(StringComparer.Ordinal); // direct rules of one priority have no fixed order
            foreach (IptRule r in ChainRules(p).Concat(HookRules(p, "OUTPUT", "FORWARD")))
            {
                int n = priority.GetValueOrDefault(r.Chain);
                priority[r.Chain] = n + 1;
                sb.Append("firewall-cmd --permanent --direct --add-rule ").Append(ipv).Append(" filter ").Append(r.Chain).Append(' ')
                  .Append(n.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(Join(r.Args, ShellWord.Quote)).Append('\n');
            }
        }

        sb.Append("firewall-cmd --reload\n");
        return sb.ToString();
    }
}
