using System.Text.Json;

namespace MailGuard.Analysis.Internals;

/// <summary>
/// Reads <c>nft -j list ruleset</c> (JSON schema 1) into chains, with <see cref="JsonDocument"/> (no reflection: AOT-safe).
/// Tables of the families ip, ip6 and inet; statements that decide the fate of a new outgoing TCP connection are
/// interpreted, any other match holds "for some packets".
/// </summary>
internal static class NftJsonParser
{
    /// <exception cref="FormatException">Not JSON, or no "nftables" array.</exception>
    public static List<NfChain> Parse(ReadOnlyMemory<byte> json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new FormatException("not JSON (" + e.Message + ")", e);
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("nftables", out JsonElement items) || items.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException("JSON without an \"nftables\" array: not nft -j list ruleset output");
            }

            var chains = new Dictionary<(string, string, string), NfChain>();
            var order = new List<NfChain>();
            foreach (JsonElement item in items.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                if (item.TryGetProperty("chain", out JsonElement c))
                {
                    string family = Str(c, "family");
                    if (family is not ("ip" or "ip6" or "inet"))
                    {
                        continue;
                    }

                    string hook = Str(c, "hook");
                    var chain = new NfChain
                    {
                        Tool = "nft",
                        Table = family + " " + Str(c, "table"),
                        Name = Str(c, "name"),
                        V4 = family is "ip" or "inet",
                        V6 = family is "ip6" or "inet",
                        Hook = Str(c, "type") is "filter" or "route" ? hook switch { "output" => Hook.Output, "forward" => Hook.Forward, _ => null } : null,
                        Priority = c.TryGetProperty("prio", out JsonElement prio) && prio.ValueKind == JsonValueKind.Number && prio.TryGetInt32(out int pr) ? pr : 0,
                        Policy = Str(c, "policy") == "drop" ? RuleTarget.Drop : RuleTarget.Accept,
                    };
                    if (chains.TryAdd((family, Str(c, "table"), chain.Name), chain))
                    {
                        order.Add(chain);
                    }
                }
                else if (item.TryGetProperty("rule", out JsonElement r))
                {
                    if (!chains.TryGetValue((Str(r, "family"), Str(r, "table"), Str(r, "chain")), out NfChain? chain))
                    {
                        continue;
                    }

                    string handle = r.TryGetProperty("handle", out JsonElement h) && h.ValueKind == JsonValueKind.Number ? h.GetRawText() : "?";
                    var rule = new NfRule { Text = "handle " + handle, Number = chain.Rules.Count + 1 };
                    if (r.TryGetProperty("expr", out JsonElement expr) && expr.ValueKind == JsonValueKind.Array)
                    {
                        foreach (JsonElement stmt in expr.EnumerateArray())
                        {
                            Statement(rule, stmt);
                        }
                    }

                    chain.Rules.Add(rule);
                }
            }

            return order;
        }
    }

    private static string Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";

    private static void Statement(NfRule rule, JsonElement stmt)
    {
        if (stmt.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (JsonProperty p in stmt.EnumerateObject())
        {
            switch (p.Name)
            {
                case "match":
                    Match(rule, p.Value);
                    break;
                case "accept":
                    rule.Target = RuleTarget.Accept;
                    break;
                case "drop":
                    rule.Target = RuleTarget.Drop;
                    break;
                case "reject":
                    rule.Target = RuleTarget.Reject;
                    break;
                case "queue":
                    rule.Target = RuleTarget.Queue;
                    break;
                case "return":
                    rule.Target = RuleTarget.Return;
                    break;
                case "jump" or "goto":
                    rule.Target = p.Name == "jump" ? RuleTarget.Jump : RuleTarget.Goto;
                    rule.TargetChain = Str(p.Value, "target");
                    break;
                case "log":
                    Log(rule, p.Value);
                    break;
                case "limit":
                    Limit(rule, p.Value);
                    break;
                case "vmap":
                    VerdictMap(rule, p.Value);
                    break;
                case "xt":
                    Xt(rule, p.Value);
                    break;
                case "quota":
                    rule.Conds.Add(new ConstCond(Tri.Partly, "quota"));
                    break;
            }
        }
    }

    private static void Log(NfRule rule, JsonElement log)
    {
        rule.Target = log.ValueKind == JsonValueKind.Object && log.TryGetProperty("group", out _) ? RuleTarget.GroupLog : RuleTarget.Log;
        rule.LogPrefix = Str(log, "prefix");
        rule.LogUid = false;
        if (log.ValueKind == JsonValueKind.Object && log.TryGetProperty("flags", out JsonElement flags))
        {
            IEnumerable<string?> names = flags.ValueKind == JsonValueKind.Array ? flags.EnumerateArray().Select(f => f.ValueKind == JsonValueKind.String ? f.GetString() : null) : [flags.ValueKind == JsonValueKind.String ? flags.GetString() : null];
            rule.LogUid = names.Any(n => n is "skuid" or "all");
        }
    }

    private static void Limit(NfRule rule, JsonElement limit)
    {
        bool inverted = limit.TryGetProperty("inv", out JsonElement inv) && inv.ValueKind == JsonValueKind.True;
        bool bytes = Str(limit, "rate_unit") is { Length: > 0 } unit && unit != "packets";
        if (inverted || bytes || !limit.TryGetProperty("rate", out JsonElement rate) || !rate.TryGetInt32(out int r) || LogRateLimit.UnitOf(Str(limit, "per")) is not { } per)
        {
            rule.Conds.Add(new ConstCond(Tri.Partly, inverted ? "over a rate" : "a byte rate"));
            return;
        }

        int burst = limit.TryGetProperty("burst", out JsonElement b) && b.TryGetInt32(out int n) ? n : 5;
        rule.Limit = new LogRateLimit(r, per, burst);
    }

    private static void Xt(NfRule rule, JsonElement xt)
    {
        string name = Str(xt, "name");
        if (Str(xt, "type") == "target")
        {
            rule.Target = name switch
            {
                "LOG" => RuleTarget.Log,
                "NFLOG" => RuleTarget.GroupLog,
                "REJECT" => RuleTarget.Reject,
                _ => RuleTarget.None,
            };
            rule.LogUid = null; // nft does not show an iptables target's options
            return;
        }

        rule.Conds.Add(new ConstCond(Tri.Partly, $"iptables-nft match '{name}' (read it with iptables-save)"));
    }

    private static void VerdictMap(NfRule rule, JsonElement vmap)
    {
        if (!vmap.TryGetProperty("key", out JsonElement key) || !IsDport(key) || !vmap.TryGetProperty("data", out JsonElement data)
            || !data.TryGetProperty("set", out JsonElement set) || set.ValueKind != JsonValueKind.Array)
        {
            rule.Conds.Add(new ConstCond(Tri.Partly, "a verdict map"));
            return;
        }

        rule.Target = RuleTarget.VerdictMap;
        rule.Verdicts = [];
        foreach (JsonElement pair in set.EnumerateArray())
        {
            if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2)
            {
                continue;
            }

            RuleTarget target = RuleTarget.None;
            string? chain = null;
            if (pair[1].ValueKind == JsonValueKind.Object)
            {
                foreach (JsonProperty v in pair[1].EnumerateObject())
                {
                    (target, chain) = v.Name switch
                    {
                        "accept" => (RuleTarget.Accept, null),
                        "drop" => (RuleTarget.Drop, null),
                        "reject" => (RuleTarget.Reject, null),
                        "return" => (RuleTarget.Return, null),
                        "jump" => (RuleTarget.Jump, Str(v.Value, "target")),
                        "goto" => (RuleTarget.Goto, Str(v.Value, "target")),
                        _ => (RuleTarget.None, null),
                    };
                }
            }

            foreach ((int low, int high) in PortRanges(pair[0]) ?? [])
            {
                rule.Verdicts.Add((low, high, target, chain));
            }
        }
    }

    private static bool IsDport(JsonElement left) =>
        left.ValueKind == JsonValueKind.Object && left.TryGetProperty("payload", out JsonElement pl) && Str(pl, "field") == "dport" && Str(pl, "protocol") is "tcp" or "th";

    private static void Match(NfRule rule, JsonElement m)
    {
        if (!m.TryGetProperty("left", out JsonElement left) || !m.TryGetProperty("right", out JsonElement right))
        {
            return;
        }

        string op = Str(m, "op");
        bool negated = op == "!=";
        Cond cond = MatchCond(left, right, op);
        if (cond is AllOf all)
        {
            all.NegateLast(negated); // "ip daddr != X" still implies IPv4
        }
        else
        {
            cond.Negated = negated;
        }

        rule.Conds.Add(cond);
    }

    private static Cond MatchCond(JsonElement left, JsonElement right, string op)
    {
        if (left.ValueKind != JsonValueKind.Object)
        {
            return new ConstCond(Tri.Partly, "a match");
        }

        if (left.TryGetProperty("payload", out JsonElement payload))
        {
            string proto = Str(payload, "protocol"), field = Str(payload, "field");
            if (field == "dport" && proto is "tcp" or "th")
            {
                return op is "<" or ">" or "<=" or ">=" ? Compare(right, op) : PortCondOf(right);
            }

            if (proto is not ("tcp" or "th" or "ip" or "ip6" or "ether" or "vlan" or ""))
            {
                return new ConstCond(Tri.No, proto + " " + field); // another transport protocol
            }

            if (proto is "ip" or "ip6" && field is "daddr" or "saddr")
            {
                var family = new FamilyCond(proto == "ip" ? IpFamily.IPv4 : IpFamily.IPv6);
                return right.ValueKind == JsonValueKind.String
                    ? new AllOf([family, new AddressCond(right.GetString()!, field == "daddr")])
                    : new AllOf([family, new ConstCond(Tri.Partly, (field == "daddr" ? "to " : "from ") + right.GetRawText())]);
            }

            if (proto is "ip" or "ip6" && field is "protocol" or "nexthdr")
            {
                return new AllOf([new FamilyCond(proto == "ip" ? IpFamily.IPv4 : IpFamily.IPv6), ProtocolCond(right)]);
            }

            return new ConstCond(Tri.Partly, $"{proto} {field}");
        }

        if (left.TryGetProperty("&", out JsonElement and) && and.ValueKind == JsonValueKind.Array && and.GetArrayLength() == 2
            && and[0].TryGetProperty("payload", out JsonElement fp) && Str(fp, "field") == "flags" && Str(fp, "protocol") == "tcp")
        {
            HashSet<string> mask = Names(and[1]), value = Names(right);
            bool syn = mask.Contains("syn");
            var got = syn ? new HashSet<string> { "syn" } : [];
            return new ConstCond(got.SetEquals(value) ? Tri.Yes : Tri.No, "tcp flags");
        }

        if (left.TryGetProperty("meta", out JsonElement meta))
        {
            return Str(meta, "key") switch
            {
                "l4proto" => ProtocolCond(right),
                "nfproto" => Str(right) is "ipv4" ? new FamilyCond(IpFamily.IPv4) : Str(right) is "ipv6" ? new FamilyCond(IpFamily.IPv6) : new ConstCond(Tri.Partly, "nfproto"),
                "protocol" => Str(right) is "ip" ? new FamilyCond(IpFamily.IPv4) : Str(right) is "ip6" ? new FamilyCond(IpFamily.IPv6) : new ConstCond(Tri.Partly, "protocol"),
                "skuid" when right.ValueKind is JsonValueKind.Number or JsonValueKind.String => new OwnerCond(right.ValueKind == JsonValueKind.Number ? right.GetRawText() : right.GetString()!),
                "oifname" or "oif" when right.ValueKind == JsonValueKind.String => new OutInterfaceCond(right.GetString()!),
                string key => new ConstCond(Tri.Partly, "meta " + key),
            };
        }

        if (left.TryGetProperty("ct", out JsonElement ct))
        {
            if (Str(ct, "key") != "state")
            {
                return new ConstCond(Tri.Partly, "ct " + Str(ct, "key"));
            }

            HashSet<string> states = Names(right);
            return new ConstCond(states.Contains("new") || states.Contains("untracked") ? Tri.Yes : Tri.No, "ct state " + string.Join(",", states));
        }

        if (left.TryGetProperty("socket", out JsonElement socket) && Str(socket, "key") == "cgroupv2")
        {
            string key = right.ValueKind == JsonValueKind.Number ? right.GetRawText() : Str(right);
            return new CgroupCond(key.Trim('/'));
        }

        foreach (JsonProperty p in left.EnumerateObject())
        {
            return new ConstCond(Tri.Partly, p.Name);
        }

        return new ConstCond(Tri.Partly, "a match");
    }

    private static string Str(JsonElement e) => e.ValueKind == JsonValueKind.String ? e.GetString()! : "";

    private static HashSet<string> Names(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => [e.GetString()!],
        JsonValueKind.Array => [.. e.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!)],
        JsonValueKind.Object when e.TryGetProperty("set", out JsonElement s) => Names(s),
        _ => [],
    };

    private static ConstCond ProtocolCond(JsonElement right)
    {
        HashSet<string> names = Names(right);
        if (right.ValueKind == JsonValueKind.Number)
        {
            names.Add(right.GetRawText() == "6" ? "tcp" : "other");
        }

        return new ConstCond(names.Contains("tcp") ? Tri.Yes : Tri.No, "protocol " + string.Join(",", names));
    }

    private static Cond PortCondOf(JsonElement right)
    {
        List<(int, int)>? ranges = PortRanges(right);
        return ranges is null ? new ConstCond(Tri.Partly, "dport " + right.GetRawText()) : new PortCond(ranges, "dport " + right.GetRawText());
    }

    private static Cond Compare(JsonElement right, string op)
    {
        if (right.ValueKind != JsonValueKind.Number || !right.TryGetInt32(out int n))
        {
            return new ConstCond(Tri.Partly, "dport " + op);
        }

        (int low, int high) = op switch
        {
            "<" => (0, n - 1),
            "<=" => (0, n),
            ">" => (n + 1, 65535),
            _ => (n, 65535),
        };
        return new PortCond([(low, high)], $"dport {op} {n}");
    }

    /// <summary>Ports of a number, a service name, a range, a set or an anonymous list; null for a named set (@name).</summary>
    private static List<(int, int)>? PortRanges(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Number:
                return e.TryGetInt32(out int n) ? [(n, n)] : null;
            case JsonValueKind.String:
                int p = IptablesSaveParser.PortNumber(e.GetString()!);
                return p < 0 ? null : [(p, p)];
            case JsonValueKind.Array:
                var all = new List<(int, int)>();
                foreach (JsonElement x in e.EnumerateArray())
                {
                    if (PortRanges(x) is not { } r)
                    {
                        return null;
                    }

                    all.AddRange(r);
                }

                return all;
            case JsonValueKind.Object:
                if (e.TryGetProperty("set", out JsonElement set))
                {
                    return PortRanges(set);
                }

                if (e.TryGetProperty("range", out JsonElement range) && range.ValueKind == JsonValueKind.Array && range.GetArrayLength() == 2
                    && PortRanges(range[0]) is [var lo] && PortRanges(range[1]) is [var hi])
                {
                    return [(lo.Item1, hi.Item1)];
                }

                return null;
            default:
                return null;
        }
    }

    /// <summary>Several conditions that must all hold (an address match implies its family).</summary>
    private sealed class AllOf(Cond[] parts) : Cond
    {
        public override string Text => string.Join(" ", parts.Select(p => p.Text));

        public void NegateLast(bool negated) => parts[^1].Negated = negated;

        protected override Tri Test(Probe p)
        {
            Tri result = Tri.Yes;
            foreach (Cond c in parts)
            {
                Tri t = c.Eval(p);
                if (t == Tri.No)
                {
                    return Tri.No;
                }

                if (t == Tri.Partly)
                {
                    result = Tri.Partly;
                }
            }

            return result;
        }
    }
}
