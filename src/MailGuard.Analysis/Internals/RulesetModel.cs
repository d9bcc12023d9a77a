namespace MailGuard.Analysis.Internals;

/// <summary>Whether a rule's condition holds for the probe packet.</summary>
internal enum Tri : byte
{
    No,
    Yes,

    /// <summary>For some packets of the probe's kind only (another interface, address, mark…).</summary>
    Partly,
}

/// <summary>What a rule does when it matches.</summary>
internal enum RuleTarget : byte
{
    /// <summary>Nothing that ends or logs the packet (counter, MARK, CT…).</summary>
    None,
    Log,

    /// <summary>NFLOG / nft log group: to a userspace logger, not the kernel log.</summary>
    GroupLog,
    Accept,
    Drop,
    Reject,

    /// <summary>Handed to userspace (NFQUEUE), which decides.</summary>
    Queue,
    Return,
    Jump,
    Goto,

    /// <summary>An nft verdict map: the verdict depends on the packet (<see cref="NfRule.Verdicts"/>).</summary>
    VerdictMap,
}

internal enum Hook : byte
{
    Output,
    Forward,
}

/// <summary>Who sends the probe packet.</summary>
internal enum ProbeUserKind : byte
{
    /// <summary>A local user that is neither allowed nor in a named service.</summary>
    Ordinary,
    Allowed,
    Service,

    /// <summary>A forwarded packet (no local socket).</summary>
    Forwarded,
}

/// <summary>The packet a check follows through the chains: a new TCP connection (SYN) to <see cref="Port"/>.</summary>
internal sealed record Probe(IpFamily Family, ushort Port, ProbeUserKind User, string? Name, IReadOnlyDictionary<uint, string> UserNames, IReadOnlyCollection<string> AllowedUsers);

/// <summary>A condition of a rule.</summary>
internal abstract class Cond
{
    public bool Negated { get; set; }

    /// <summary>How the condition reads (for "only for …" notes).</summary>
    public abstract string Text { get; }

    public Tri Eval(Probe p)
    {
        Tri t = Test(p);
        return !Negated ? t : t switch { Tri.Yes => Tri.No, Tri.No => Tri.Yes, _ => Tri.Partly };
    }

    protected abstract Tri Test(Probe p);
}

/// <summary>A condition whose answer does not depend on the probe (a protocol, SYN, NEW, a comment) or that mgscan cannot judge (Partly).</summary>
internal sealed class ConstCond(Tri value, string text) : Cond
{
    public override string Text => text;

    protected override Tri Test(Probe p) => value;
}

internal sealed class FamilyCond(IpFamily family) : Cond
{
    public override string Text => family == IpFamily.IPv4 ? "IPv4" : "IPv6";

    protected override Tri Test(Probe p) => p.Family == family ? Tri.Yes : Tri.No;
}

/// <summary>Destination ports: single ports and ranges.</summary>
internal sealed class PortCond(IReadOnlyList<(int Low, int High)> ranges, string text) : Cond
{
    public override string Text => text;

    protected override Tri Test(Probe p) => ranges.Any(r => p.Port >= r.Low && p.Port <= r.High) ? Tri.Yes : Tri.No;
}

/// <summary>The sending user (iptables <c>-m owner --uid-owner</c>, nft <c>meta skuid</c>): a name or a UID.</summary>
internal sealed class OwnerCond(string user) : Cond
{
    public string User => user;

    public override string Text => "uid " + user;

    protected override Tri Test(Probe p)
    {
        if (p.User == ProbeUserKind.Forwarded)
        {
            return Tri.No; // no local socket, no owner
        }

        if (p.User == ProbeUserKind.Allowed)
        {
            return Same(user, p.Name!, p.UserNames) ? Tri.Yes : Tri.No;
        }

        // An ordinary user (or a service's) is none of the allowed users, and may be this user.
        return p.AllowedUsers.Any(a => Same(user, a, p.UserNames)) ? Tri.No : Tri.Partly;
    }

    /// <summary>True when two user names or UIDs name the same user (through the passwd names).</summary>
    public static bool Same(string a, string b, IReadOnlyDictionary<uint, string> names) =>
        string.Equals(Name(a, names), Name(b, names), StringComparison.Ordinal);

    private static string Name(string user, IReadOnlyDictionary<uint, string> names) =>
        uint.TryParse(user, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out uint uid) && names.TryGetValue(uid, out string? name) ? name : user;
}

/// <summary>The socket's cgroup (iptables <c>-m cgroup --path</c>, nft <c>socket cgroupv2</c>): a path, or the numeric id nft shows when it cannot name it.</summary>
internal sealed class CgroupCond(string key) : Cond
{
    public string Key => key;

    public override string Text => "cgroup " + key;

    protected override Tri Test(Probe p) =>
        p.User == ProbeUserKind.Service && (p.Name == key || p.Name!.StartsWith(key + "/", StringComparison.Ordinal)) ? Tri.Yes : Tri.No;
}

/// <summary>The output interface: loopback never carries mail to another server.</summary>
internal sealed class OutInterfaceCond(string name) : Cond
{
    public override string Text => "out " + name;

    protected override Tri Test(Probe p) => name == "lo" ? Tri.No : name is "+" or "*" ? Tri.Yes : Tri.Partly;
}

/// <summary>A source or destination address.</summary>
internal sealed class AddressCond(string address, bool destination) : Cond
{
    public override string Text => (destination ? "to " : "from ") + address;

    protected override Tri Test(Probe p)
    {
        string a = address;
        if (a is "0.0.0.0/0" or "::/0")
        {
            return Tri.Yes;
        }

        bool loopback = a.StartsWith("127.", StringComparison.Ordinal) || a is "::1" or "::1/128";
        return destination && loopback ? Tri.No : Tri.Partly;
    }
}

/// <summary>One rule: its conditions and what it does.</summary>
internal sealed class NfRule
{
    /// <summary>1-based position in its chain.</summary>
    public int Number { get; set; }

    /// <summary>The rule as the input wrote it (iptables-save) or a handle (nft).</summary>
    public required string Text { get; init; }

    public List<Cond> Conds { get; } = [];

    public RuleTarget Target { get; set; }

    /// <summary>The chain of a jump or goto; the unknown target's name otherwise.</summary>
    public string? TargetChain { get; set; }

    public string? LogPrefix { get; set; }

    /// <summary>True when the log holds the UID (<c>--log-uid</c>, <c>flags skuid</c>); null when the input does not say (iptables-nft's xt target in nft JSON).</summary>
    public bool? LogUid { get; set; }

    public LogRateLimit? Limit { get; set; }

    /// <summary>For <see cref="RuleTarget.VerdictMap"/>: the port ranges and the verdict each gets (a jump's chain in <see cref="TargetChain"/> is not used).</summary>
    public List<(int Low, int High, RuleTarget Target, string? Chain)>? Verdicts { get; set; }

    /// <summary>The cgroup this rule selects, when it has a cgroup condition.</summary>
    public string? Cgroup => Conds.OfType<CgroupCond>().FirstOrDefault(c => !c.Negated)?.Key;
}

internal sealed class NfChain
{
    /// <summary>"iptables", "ip6tables" or "nft": the tool whose view this is.</summary>
    public required string Tool { get; init; }

    /// <summary>iptables: the table name (filter); nft: "family table" (inet mailguard).</summary>
    public required string Table { get; init; }

    public required string Name { get; init; }

    public bool V4 { get; init; }

    public bool V6 { get; init; }

    /// <summary>The hook of a base chain, null for a chain reached by jumps.</summary>
    public Hook? Hook { get; init; }

    public int Priority { get; init; }

    /// <summary>What happens at the end of a base chain: <see cref="RuleTarget.Accept"/> or <see cref="RuleTarget.Drop"/>.</summary>
    public RuleTarget Policy { get; set; } = RuleTarget.Accept;

    public List<NfRule> Rules { get; } = [];

    public bool Covers(IpFamily f) => f == IpFamily.IPv4 ? V4 : V6;

    public string Where(NfRule r) => $"{Tool} {Table}/{Name} rule {r.Number}";
}
