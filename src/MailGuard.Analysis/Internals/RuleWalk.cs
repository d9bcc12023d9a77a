namespace MailGuard.Analysis.Internals;

internal enum WalkEventKind : byte
{
    /// <summary>A LOG rule (or NFLOG) matched.</summary>
    Log,

    /// <summary>A rule that ends the packet matched for some packets of the probe's kind only (<see cref="WalkEvent.Partly"/>).</summary>
    PartialEnd,

    /// <summary>A base chain's verdict: a rule's, or its policy's (<see cref="WalkEvent.Rule"/> null).</summary>
    End,
}

internal sealed record WalkEvent(WalkEventKind Kind, NfChain Chain, NfRule? Rule, RuleTarget Verdict, IReadOnlyList<string> Partly)
{
    public string Where => Rule is null ? $"the policy of {Chain.Tool} {Chain.Table}/{Chain.Name}" : Chain.Where(Rule);
}

/// <summary>
/// Follows a probe packet through the base chains of a hook, as netfilter does: base chains in priority order, each
/// from its first rule, into jumps and gotos; LOG goes on, ACCEPT ends the base chain (the next one still sees the
/// packet), DROP and REJECT end the packet. A rule that matches only some packets of the probe's kind (another
/// interface, an address) never ends the walk: it is reported, and the walk goes on for the other packets.
/// </summary>
internal static class RuleWalk
{
    private const int MaxDepth = 32;

    public static List<WalkEvent> Follow(IReadOnlyList<NfChain> chains, Hook hook, Probe probe)
    {
        var events = new List<WalkEvent>();
        foreach (NfChain base_ in chains.Where(c => c.Hook == hook && c.Covers(probe.Family)).OrderBy(c => c.Priority))
        {
            var scope = chains.Where(c => c.Tool == base_.Tool && c.Table == base_.Table && c.Covers(probe.Family))
                .GroupBy(c => c.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            var walker = new Walker(scope, probe, events);
            (bool ended, RuleTarget verdict, NfChain? chain, NfRule? rule) = walker.Walk(base_, [], 0);
            if (!ended)
            {
                events.Add(new WalkEvent(WalkEventKind.End, base_, null, base_.Policy, []));
                if (base_.Policy != RuleTarget.Accept)
                {
                    return events;
                }

                continue;
            }

            events.Add(new WalkEvent(WalkEventKind.End, chain!, rule, verdict, []));
            if (verdict != RuleTarget.Accept)
            {
                return events;
            }
        }

        return events;
    }

    private sealed class Walker(Dictionary<string, NfChain> scope, Probe probe, List<WalkEvent> events)
    {
        public (bool Ended, RuleTarget Verdict, NfChain? Chain, NfRule? Rule) Walk(NfChain chain, IReadOnlyList<string> context, int depth)
        {
            foreach (NfRule rule in chain.Rules)
            {
                List<string>? partly = null;
                bool skip = false;
                foreach (Cond c in rule.Conds)
                {
                    Tri t = c.Eval(probe);
                    if (t == Tri.No)
                    {
                        skip = true;
                        break;
                    }

                    if (t == Tri.Partly)
                    {
                        (partly ??= []).Add((c.Negated ? "not " : "") + c.Text);
                    }
                }

                if (skip)
                {
                    continue;
                }

                RuleTarget target = rule.Target;
                string? targetChain = rule.TargetChain;
                if (target == RuleTarget.VerdictMap)
                {
                    (int Low, int High, RuleTarget Target, string? Chain)? entry = rule.Verdicts?.FirstOrDefault(v => probe.Port >= v.Low && probe.Port <= v.High);
                    if (entry is not { Low: > 0 } e)
                    {
                        continue;
                    }

                    (target, targetChain) = (e.Target, e.Chain);
                }

                IReadOnlyList<string> all = partly is null ? context : [.. context, .. partly];
                switch (target)
                {
                    case RuleTarget.Log or RuleTarget.GroupLog:
                        events.Add(new WalkEvent(WalkEventKind.Log, chain, rule, target, all));
                        break;
                    case RuleTarget.Accept or RuleTarget.Drop or RuleTarget.Reject or RuleTarget.Queue:
                        if (all.Count > 0)
                        {
                            events.Add(new WalkEvent(WalkEventKind.PartialEnd, chain, rule, target, all));
                            break;
                        }

                        return (true, target, chain, rule);
                    case RuleTarget.Return:
                        if (partly is null)
                        {
                            return (false, RuleTarget.None, null, null);
                        }

                        break;
                    case RuleTarget.Jump or RuleTarget.Goto:
                        if (depth >= MaxDepth || targetChain is null || !scope.TryGetValue(targetChain, out NfChain? next))
                        {
                            break;
                        }

                        var r = Walk(next, all, depth + 1);
                        if (r.Ended || (target == RuleTarget.Goto && partly is null))
                        {
                            return r;
                        }

                        break;
                }
            }

            return (false, RuleTarget.None, null, null);
        }
    }
}
