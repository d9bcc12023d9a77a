using System.Globalization;
using System.Text;
using MailGuard.Analysis.Internals;
using MailGuard.Parsing;

namespace MailGuard.Analysis;

/// <summary>How much a <see cref="RuleFinding"/> matters.</summary>
public enum RuleFindingLevel
{
    /// <summary>As it should be.</summary>
    Ok,

    /// <summary>Worth knowing, not missing (a custom prefix: mgscan needs <c>--prefix</c>; an exemption before the LOG rule).</summary>
    Note,

    /// <summary>Something the rule set mgscan is built for needs and this one lacks.</summary>
    Missing,
}

/// <summary>One thing <see cref="RulesetCheck.Check"/> found.</summary>
/// <param name="Level">How much it matters.</param>
/// <param name="Family">The IP version it is about, or null for the whole ruleset.</param>
/// <param name="Port">The mail port it is about, or null.</param>
/// <param name="Subject">What it is about, as text: <c>IPv4 port 25</c>, <c>IPv6 port 587 service v2ray</c>, <c>IPv4 port 25 user postfix</c>, <c>IPv6</c>.</param>
/// <param name="Message">What was found, as a sentence (rule text from the ruleset kept raw: escape it before showing it on a terminal).</param>
public sealed record RuleFinding(RuleFindingLevel Level, IpFamily? Family, ushort? Port, string Subject, string Message);

/// <summary>The outcome of <see cref="RulesetCheck.Check"/>.</summary>
public sealed class RulesetCheckResult
{
    internal RulesetCheckResult(IReadOnlyList<RuleFinding> findings, IReadOnlyList<string> sources)
    {
        Findings = findings;
        Sources = sources;
    }

    /// <summary>Every finding: per IP version and mail port (and service, allowed user, forwarded traffic), in that order.</summary>
    public IReadOnlyList<RuleFinding> Findings { get; }

    /// <summary>What was read, one entry per ruleset: its name and what it covers.</summary>
    public IReadOnlyList<string> Sources { get; }

    /// <summary>True when nothing is missing (<see cref="RuleFindingLevel.Missing"/>).</summary>
    public bool IsComplete => !Findings.Any(f => f.Level == RuleFindingLevel.Missing);
}

/// <summary>
/// Says what a firewall ruleset lacks for mgscan, in the manner of psad's <c>--fw-analyze</c>: for each mail port
/// and IP version it follows a new outgoing TCP connection of an ordinary local user through the chains on the output
/// hook (base chains by priority, jumps, gotos, returns) and judges: is it logged (a LOG rule or nft <c>log</c>
/// reached before anything ends the packet); with the UID (<c>--log-uid</c> / <c>flags skuid</c>); under a prefix
/// mgscan's default selects (else the <c>--prefix</c> to use); at a limited rate; and dropped or rejected after it.
/// Then the same for each service with a per-service LOG rule (and each of <see cref="MailRuleOptions.Services"/>):
/// logged once, under its own prefix; for each of <see cref="MailRuleOptions.AllowedUsers"/>: not dropped; and with
/// <see cref="MailRuleOptions.Forward"/>, forwarded connections on the forward hook.
/// </summary>
public static class RulesetCheck
{
    /// <summary>Checks rulesets that together describe one host (e.g. iptables-save, ip6tables-save and nft -j list ruleset).</summary>
    /// <param name="rulesets">The rulesets. nft's view of tables that an iptables-save ruleset among them holds (iptables-nft) is not read twice.</param>
    /// <param name="options">The rule set expected (ports, action, allowed users, services, forwarding) and the user names of UIDs.</param>
    /// <returns>The findings.</returns>
    public static RulesetCheckResult Check(IEnumerable<FirewallRuleset> rulesets, MailRuleOptions options)
    {
        ArgumentNullException.ThrowIfNull(rulesets);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        FirewallRuleset[] sets = [.. rulesets];
        var iptablesTables = sets.SelectMany(s => s.IptablesTables).ToHashSet();
        var chains = new List<NfChain>();
        foreach (FirewallRuleset set in sets)
        {
            chains.AddRange(set.Chains.Where(c => !(c.Tool == "nft" && IsIptablesNft(c, iptablesTables))));
        }

        var findings = new List<RuleFinding>();
        ushort[] ports = [.. options.MailPorts.Distinct().Order()];
        List<(string Key, string Name, bool Expected)> services = Services(chains, options);
        foreach (IpFamily family in (IpFamily[])[IpFamily.IPv4, IpFamily.IPv6])
        {
            string fam = family == IpFamily.IPv4 ? "IPv4" : "IPv6";
            if (!sets.Any(s => family == IpFamily.IPv4 ? s.CoversIPv4 : s.CoversIPv6))
            {
                findings.Add(new RuleFinding(RuleFindingLevel.Missing, family, null, fam,
                    $"no {fam} ruleset was read: give {(family == IpFamily.IPv4 ? "iptables-save" : "ip6tables-save")} output too (or nft -j list ruleset)"));
                continue;
            }

            foreach (ushort port in ports)
            {
                string subject = string.Create(CultureInfo.InvariantCulture, $"{fam} port {port}");
                Probe Make(ProbeUserKind kind, string? name) => new(family, port, kind, name, options.UserNames, options.AllowedUsers);
                findings.AddRange(Judge.Ordinary(subject, family, port, RuleWalk.Follow(chains, Hook.Output, Make(ProbeUserKind.Ordinary, null)), options));
                foreach ((string key, string name, bool expected) in services)
                {
                    findings.AddRange(Judge.Service($"{subject} service {name}", family, port, name, expected,
                        RuleWalk.Follow(chains, Hook.Output, Make(ProbeUserKind.Service, key)), options));
                }

                if (options.Action != MailTrafficAction.LogOnly)
                {
                    foreach (string user in options.AllowedUsers.Distinct(StringComparer.Ordinal))
                    {
                        findings.AddRange(Judge.Allowed($"{subject} user {user}", family, port, user, RuleWalk.Follow(chains, Hook.Output, Make(ProbeUserKind.Allowed, user))));
                    }
                }

                if (options.Forward)
                {
                    findings.AddRange(Judge.Forwarded($"{subject} forwarded", family, port, RuleWalk.Follow(chains, Hook.Forward, Make(ProbeUserKind.Forwarded, null)), options));
                }
            }
        }

        string[] sources = [.. sets.Select(s => $"{s.Name} ({(s.Format == RulesetFormat.NftJson ? "nft" : "iptables-save")}: {(s.CoversIPv4 && s.CoversIPv6 ? "IPv4 and IPv6" : s.CoversIPv6 ? "IPv6" : "IPv4")})")];
        return new RulesetCheckResult(findings, sources);
    }

    /// <summary>An nft table of family ip/ip6 that iptables-save showed too (iptables-nft writes its tables into nft).</summary>
    private static bool IsIptablesNft(NfChain c, HashSet<(IpFamily, string)> iptablesTables)
    {
        int space = c.Table.IndexOf(' ', StringComparison.Ordinal);
        string family = c.Table[..space], table = c.Table[(space + 1)..];
        return family switch
        {
            "ip" => iptablesTables.Contains((IpFamily.IPv4, table)),
            "ip6" => iptablesTables.Contains((IpFamily.IPv6, table)),
            _ => false,
        };
    }

    /// <summary>The services to probe: those given (expected), and those with a per-service LOG rule in the ruleset (by their cgroup).</summary>
    private static List<(string Key, string Name, bool Expected)> Services(List<NfChain> chains, MailRuleOptions options)
    {
        var found = new List<(string Key, string Name)>();
        foreach (NfRule rule in chains.SelectMany(c => c.Rules))
        {
            if (rule.Target == RuleTarget.Log && rule.Cgroup is { } key && !found.Any(f => f.Key == key))
            {
                string name = rule.LogPrefix is { } prefix && ServicePrefix.ServiceOf(prefix) is { } s ? s
                    : key.StartsWith("system.slice/", StringComparison.Ordinal) && key.EndsWith(".service", StringComparison.Ordinal) ? key["system.slice/".Length..^".service".Length]
                    : "cgroup " + key;
                found.Add((key, name));
            }
        }

        var result = new List<(string Key, string Name, bool Expected)>();
        foreach (string given in options.Services)
        {
            string unit = MailRules.ServiceUnit(given);
            string name = ServicePrefix.ServiceOf(ServicePrefix.Format(25, unit))!; // the name as the prefix holds it (cut to fit)
            string path = "system.slice/" + unit;
            // nft shows a cgroup it cannot name (cgroup v2 not at /sys/fs/cgroup) by its id: the prefix names the service.
            (string Key, string Name) match = found.FirstOrDefault(f => f.Key == path);
            match = match.Key is null ? found.FirstOrDefault(f => f.Name == name) : match;
            result.Add((match.Key ?? path, name, true));
        }

        foreach ((string key, string name) in found)
        {
            if (!result.Any(r => r.Key == key))
            {
                result.Add((key, name, false));
            }
        }

        return result;
    }

    /// <summary>The judgements of one probe's walk.</summary>
    private static class Judge
    {
        public static IEnumerable<RuleFinding> Ordinary(string subject, IpFamily family, ushort port, List<WalkEvent> events, MailRuleOptions o)
        {
            var problems = new List<string>();
            var notes = new List<string>();
            WalkEvent? log = LogOf(events, problems);
            if (log is not null)
            {
                BeforeLog(events, log, problems, notes);
                LogRule(log, port, service: null, problems, notes);
                Twice(events, log, problems);
            }

            string fate = Fate(events, o, problems);
            return Result(subject, family, port, problems, notes, log is null ? fate : $"logged {Logged(log)}, then {fate}");
        }

        public static IEnumerable<RuleFinding> Service(string subject, IpFamily family, ushort port, string name, bool expected, List<WalkEvent> events, MailRuleOptions o)
        {
            var problems = new List<string>();
            var notes = new List<string>();
            WalkEvent? log = LogOf(events, problems);
            if (log is not null)
            {
                BeforeLog(events, log, problems, notes);
                string? service = log.Rule!.LogPrefix is { } p ? ServicePrefix.ServiceOf(p) : null;
                if (service is null && log.Rule.LogPrefix is not null)
                {
                    problems.Add($"logged under '{log.Rule.LogPrefix}' by {log.Where}, not under its own prefix ({ServicePrefix.Format(port, name)}): " +
                        $"a LOG rule that matches its cgroup must come first{(expected ? $" (mgscan rules --per-service {ShellWord.Quote(name)})" : "")}");
                }
                else if (service is not null && service != name)
                {
                    problems.Add($"logged as service '{service}' by {log.Where}");
                }

                LogRule(log, port, name, problems, notes);
                Twice(events, log, problems);
            }

            string fate = Fate(events, o, problems);
            return Result(subject, family, port, problems, notes, log is null ? fate : $"logged {Logged(log)}, then {fate}");
        }

        public static IEnumerable<RuleFinding> Allowed(string subject, IpFamily family, ushort port, string user, List<WalkEvent> events)
        {
            WalkEvent? end = events.LastOrDefault(e => e.Kind == WalkEventKind.End);
            if (end is { Verdict: not RuleTarget.Accept })
            {
                return [new RuleFinding(RuleFindingLevel.Missing, family, port, subject,
                    $"{Verb(end.Verdict)} by {end.Where}: accept the mail server's connections before that (-m owner --uid-owner {ShellWord.Quote(user)} -j ACCEPT; nft: meta skuid {ShellWord.Quote(user)} accept)")];
            }

            return [new RuleFinding(RuleFindingLevel.Ok, family, port, subject, "accepted" + (end?.Rule is null ? "" : " by " + end.Where))];
        }

        public static IEnumerable<RuleFinding> Forwarded(string subject, IpFamily family, ushort port, List<WalkEvent> events, MailRuleOptions o)
        {
            var problems = new List<string>();
            var notes = new List<string>();
            WalkEvent? log = LogOf(events, problems);
            if (log is not null)
            {
                BeforeLog(events, log, problems, notes);
                Prefix(log, port, problems, notes);
                if (log.Rule!.Limit is null)
                {
                    problems.Add(NoLimit(log));
                }
            }

            string fate = Fate(events, o, problems);
            return Result(subject, family, port, problems, notes, log is null ? fate : $"logged {Logged(log)}, then {fate}");
        }

        private static IEnumerable<RuleFinding> Result(string subject, IpFamily family, ushort port, List<string> problems, List<string> notes, string ok)
        {
            if (problems.Count > 0)
            {
                yield return new RuleFinding(RuleFindingLevel.Missing, family, port, subject, string.Join("; ", problems));
            }
            else
            {
                yield return new RuleFinding(RuleFindingLevel.Ok, family, port, subject, ok);
            }

            foreach (string note in notes)
            {
                yield return new RuleFinding(RuleFindingLevel.Note, family, port, subject, note);
            }
        }

        /// <summary>The LOG rule that logs every packet of the probe's kind, or null (with the reason in <paramref name="problems"/>).</summary>
        private static WalkEvent? LogOf(List<WalkEvent> events, List<string> problems)
        {
            WalkEvent? full = events.FirstOrDefault(e => e is { Kind: WalkEventKind.Log, Verdict: RuleTarget.Log, Partly.Count: 0 });
            if (full is not null)
            {
                return full;
            }

            if (events.FirstOrDefault(e => e is { Kind: WalkEventKind.Log, Verdict: RuleTarget.Log }) is { } partial)
            {
                problems.Add($"logged only for packets {string.Join(", ", partial.Partly)} (by {partial.Where})");
            }
            else if (events.FirstOrDefault(e => e is { Kind: WalkEventKind.Log, Verdict: RuleTarget.GroupLog }) is { } group)
            {
                problems.Add($"logged only to an NFLOG group by {group.Where} (read by ulogd, not the kernel log mgscan reads): use LOG (nft: log without group)");
            }
            else
            {
                WalkEvent? end = events.LastOrDefault(e => e.Kind == WalkEventKind.End);
                problems.Add(end is null ? "not logged: no chain on the output hook"
                    : end.Verdict == RuleTarget.Accept ? "not logged: no LOG rule for it"
                    : $"not logged: {Verb(end.Verdict)} by {end.Where}{RuleText(end.Rule)} before any LOG rule");
            }

            return null;
        }

        private static void BeforeLog(List<WalkEvent> events, WalkEvent log, List<string> problems, List<string> notes)
        {
            foreach (WalkEvent e in events.TakeWhile(e => !ReferenceEquals(e, log)).Where(e => e.Kind == WalkEventKind.PartialEnd))
            {
                string what = $"packets {string.Join(", ", e.Partly)} are {Verb(e.Verdict)} by {e.Where}{RuleText(e.Rule)} before the LOG rule: they are not logged";
                (e.Verdict == RuleTarget.Accept ? notes : problems).Add(what);
            }
        }

        private static void LogRule(WalkEvent log, ushort port, string? service, List<string> problems, List<string> notes)
        {
            switch (log.Rule!.LogUid)
            {
                case false:
                    problems.Add($"logged without the UID by {log.Where}: add --log-uid (nft: flags skuid)");
                    break;
                case null:
                    notes.Add($"logged by an iptables-nft rule ({log.Where}) whose options nft does not show: check it with iptables-save");
                    break;
            }

            if (log.Rule.Limit is null)
            {
                problems.Add(NoLimit(log));
            }

            if (service is null)
            {
                Prefix(log, port, problems, notes);
            }
        }

        private static string NoLimit(WalkEvent log) =>
            $"no rate limit on {log.Where}: a flood can fill the disk (-m limit --limit 10/second --limit-burst 50; nft: limit rate 10/second burst 50 packets)";

        private static void Prefix(WalkEvent log, ushort port, List<string> problems, List<string> notes)
        {
            if (log.Rule!.LogPrefix is not { } prefix)
            {
                return;
            }

            if (PrefixFilter.TcpOut.Matches(Encoding.UTF8.GetBytes(prefix), out int rulePort))
            {
                if (rulePort != port)
                {
                    problems.Add($"the prefix '{prefix}' ({log.Where}) names port {rulePort}: mgscan would count it under {rulePort}");
                }

                return;
            }

            notes.Add($"the prefix '{prefix}' ({log.Where}) is not mgscan's default: read this log with mgscan --prefix {ShellWord.Quote(PatternOf(prefix, port))}");
        }

        /// <summary>A --prefix pattern that selects <paramref name="prefix"/> for every port: the port's digits become '#'.</summary>
        internal static string PatternOf(string prefix, ushort port)
        {
            string p = prefix.TrimEnd(' ').Replace('#', '?');
            string digits = port.ToString(CultureInfo.InvariantCulture);
            for (int i = p.IndexOf(digits, StringComparison.Ordinal); i >= 0; i = p.IndexOf(digits, i + 1, StringComparison.Ordinal))
            {
                bool alone = (i == 0 || !char.IsAsciiDigit(p[i - 1])) && (i + digits.Length == p.Length || !char.IsAsciiDigit(p[i + digits.Length]));
                if (alone)
                {
                    return p[..i] + "#" + p[(i + digits.Length)..];
                }
            }

            return p;
        }

        /// <summary>A second LOG rule that mgscan also reads: every attempt would count twice.</summary>
        private static void Twice(List<WalkEvent> events, WalkEvent log, List<string> problems)
        {
            foreach (WalkEvent e in events.SkipWhile(e => !ReferenceEquals(e, log)).Skip(1))
            {
                if (e is { Kind: WalkEventKind.Log, Verdict: RuleTarget.Log, Partly.Count: 0, Rule.LogPrefix: { } p } && PrefixFilter.TcpOut.Matches(Encoding.UTF8.GetBytes(p), out _))
                {
                    problems.Add($"logged again by {e.Where} ('{p}'): every attempt would count twice (a RETURN after the first LOG rule ends it there)");
                }
            }
        }

        /// <summary>What happens to the packet in the end, as text; a problem when it goes out although it should not.</summary>
        private static string Fate(List<WalkEvent> events, MailRuleOptions o, List<string> problems)
        {
            WalkEvent? end = events.LastOrDefault(e => e.Kind == WalkEventKind.End);
            RuleTarget verdict = end?.Verdict ?? RuleTarget.Accept;
            string text = Verb(verdict) + (end is null ? "" : " by " + end.Where);
            if (verdict == RuleTarget.Accept && o.Action != MailTrafficAction.LogOnly)
            {
                problems.Add($"not dropped: {text} (every user can still send mail directly; {(o.AllowedUsers.Count > 0 ? "accept the allowed users, then " : "")}DROP or REJECT after the LOG rule)");
            }

            return text;
        }

        private static string Logged(WalkEvent log)
        {
            NfRule r = log.Rule!;
            return $"{(r.LogUid == true ? "with the UID " : "")}as '{r.LogPrefix}' by {log.Where}{(r.Limit is { } l ? $" ({l})" : "")}";
        }

        private static string Verb(RuleTarget t) => t switch
        {
            RuleTarget.Accept => "accepted",
            RuleTarget.Drop => "dropped",
            RuleTarget.Reject => "rejected",
            RuleTarget.Queue => "queued to userspace",
            _ => "ended",
        };

        private static string RuleText(NfRule? r) => r is null || r.Text.StartsWith("handle ", StringComparison.Ordinal) ? "" : $" ({r.Text})";
    }
}
