using System.Globalization;
using MailGuard.Analysis.Internals;
using MailGuard.Parsing;

namespace MailGuard.Analysis;

/// <summary>The firewall front-ends <see cref="MailRules.Generate"/> writes rules for.</summary>
public enum FirewallFrontEnd
{
    /// <summary><c>iptables</c> and <c>ip6tables</c> commands, one per line, to paste into a root shell.</summary>
    Iptables,

    /// <summary>A fragment for <c>iptables-restore -n</c> and <c>ip6tables-restore -n</c> (the same text serves both).</summary>
    IptablesRestore,

    /// <summary>A file for <c>nft -f</c>: its own table <c>inet mailguard</c> (IPv4 and IPv6), replaced on every load.</summary>
    Nftables,

    /// <summary><c>firewall-cmd --permanent --direct</c> commands (firewalld's direct interface: its rich rules cannot log the UID).</summary>
    Firewalld,

    /// <summary>Lines for <c>/etc/ufw/before.rules</c> and <c>/etc/ufw/before6.rules</c>, after <c># End required lines</c>.</summary>
    Ufw,
}

/// <summary>What the rules do with a mail connection after logging it.</summary>
public enum MailTrafficAction
{
    /// <summary>Drop it (the sender's kernel retries the SYN for a while, then gives up).</summary>
    Drop,

    /// <summary>Refuse it at once with a TCP reset (<c>REJECT --reject-with tcp-reset</c>).</summary>
    Reject,

    /// <summary>Only log it; the connection goes ahead.</summary>
    LogOnly,
}

/// <summary>The unit of a <see cref="LogRateLimit"/>.</summary>
public enum LogRateUnit
{
    /// <summary>Per second.</summary>
    Second,

    /// <summary>Per minute.</summary>
    Minute,

    /// <summary>Per hour.</summary>
    Hour,

    /// <summary>Per day.</summary>
    Day,
}

/// <summary>
/// How many lines a LOG rule may write (iptables <c>-m limit --limit 10/second --limit-burst 50</c>, nftables
/// <c>limit rate 10/second burst 50 packets</c>): a flood of connections cannot fill the disk. Packets over the
/// limit are not logged, and are still dropped.
/// </summary>
/// <param name="Rate">Lines per <paramref name="Per"/>: 1 to 10,000.</param>
/// <param name="Per">The unit of <paramref name="Rate"/>.</param>
/// <param name="Burst">Lines that may come at once before the rate applies: 1 to 10,000.</param>
public readonly record struct LogRateLimit(int Rate, LogRateUnit Per, int Burst)
{
    /// <summary>The default: 10 lines a second, 50 at once (at most about 2.5 KB a second of log, 216 MB a day).</summary>
    public static LogRateLimit Default { get; } = new(10, LogRateUnit.Second, 50);

    /// <summary>The rate as iptables and nftables write it: <c>10/second</c>.</summary>
    public string RateText => string.Create(CultureInfo.InvariantCulture, $"{Rate}/{UnitName(Per)}");

    /// <summary>Reads <c>N/second</c>, <c>N/minute</c>, <c>N/hour</c> or <c>N/day</c> (also <c>s</c>, <c>sec</c>, <c>m</c>, <c>min</c>, <c>h</c>, <c>d</c>).</summary>
    /// <param name="text">The rate.</param>
    /// <param name="burst">The burst to go with it.</param>
    /// <param name="limit">The limit.</param>
    /// <returns>True when <paramref name="text"/> is a rate from 1 to 10,000 and <paramref name="burst"/> is from 1 to 10,000.</returns>
    public static bool TryParse(string text, int burst, out LogRateLimit limit)
    {
        ArgumentNullException.ThrowIfNull(text);
        limit = default;
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 1 || !int.TryParse(text.AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out int rate)
            || rate is < 1 or > 10_000 || burst is < 1 or > 10_000 || UnitOf(text[(slash + 1)..]) is not { } unit)
        {
            return false;
        }

        limit = new LogRateLimit(rate, unit, burst);
        return true;
    }

    /// <summary>The unit named by iptables (<c>sec</c>, <c>min</c>, <c>hour</c>, <c>day</c>, also their long and one-letter forms) or nftables (<c>second</c>, …).</summary>
    /// <param name="name">The unit's name.</param>
    /// <returns>The unit, or null.</returns>
    public static LogRateUnit? UnitOf(string name) => name?.ToUpperInvariant() switch
    {
        "S" or "SEC" or "SECOND" => LogRateUnit.Second,
        "M" or "MIN" or "MINUTE" => LogRateUnit.Minute,
        "H" or "HOUR" => LogRateUnit.Hour,
        "D" or "DAY" => LogRateUnit.Day,
        _ => null,
    };

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{RateText} burst {Burst}");

    private static string UnitName(LogRateUnit unit) => unit switch
    {
        LogRateUnit.Minute => "minute",
        LogRateUnit.Hour => "hour",
        LogRateUnit.Day => "day",
        _ => "second",
    };
}

/// <summary>
/// The mail rule set that <see cref="MailRules.Generate"/> writes and that <see cref="RulesetCheck.Check"/> expects:
/// for every mail port, new outgoing connections are logged with the sender's UID under the prefix mgscan reads
/// (<c>IPTABLES TCP-OUT &lt;port&gt;:</c>, or <c>TCP-OUT &lt;port&gt; &lt;service&gt;:</c> for a service of
/// <see cref="Services"/>), rate-limited, then dropped (or rejected), except the <see cref="AllowedUsers"/>'.
/// </summary>
public sealed record MailRuleOptions
{
    /// <summary>The destination ports that carry mail. Default 25, 465, 587, 2525 (as <see cref="VerdictOptions.MailPorts"/>).</summary>
    public IReadOnlyList<ushort> MailPorts { get; init; } = [25, 465, 587, 2525];

    /// <summary>What happens to a logged connection. Default <see cref="MailTrafficAction.Drop"/>.</summary>
    public MailTrafficAction Action { get; init; } = MailTrafficAction.Drop;

    /// <summary>
    /// Users (names or UIDs) whose mail connections are logged and then accepted: the mail server's (postfix).
    /// Names must be plain user names (<see cref="MailRules.IsUserName"/>).
    /// </summary>
    public IReadOnlyList<string> AllowedUsers { get; init; } = [];

    /// <summary>
    /// systemd services (<c>v2ray.service</c>, or <c>v2ray</c>) whose connections are logged under a prefix that names
    /// them (<see cref="ServicePrefix"/>), matched by their cgroup <c>system.slice/UNIT</c>: services that share a UID are
    /// told apart. Normalised by <see cref="MailRules.ServiceUnit"/>.
    /// </summary>
    public IReadOnlyList<string> Services { get; init; } = [];

    /// <summary>Also log (and drop) forwarded mail traffic (a VPN's or containers' clients: FORWARD). Default false.</summary>
    public bool Forward { get; init; }

    /// <summary>The rate limit of every LOG rule. Default <see cref="LogRateLimit.Default"/>.</summary>
    public LogRateLimit RateLimit { get; init; } = LogRateLimit.Default;

    /// <summary>User names of UIDs (<see cref="UserNames.Parse"/>): rulesets show UIDs where the rules named users.</summary>
    public IReadOnlyDictionary<uint, string> UserNames { get; init; } = new Dictionary<uint, string>();

    /// <summary>Throws <see cref="ArgumentException"/> when a value cannot go into a rule.</summary>
    internal void Validate()
    {
        if (MailPorts is not { Count: > 0 } || MailPorts.Contains((ushort)0))
        {
            ThrowHelper.Argument(nameof(MailPorts), "At least one mail port (1-65535) is needed.");
        }

        if (RateLimit.Rate is < 1 or > 10_000 || RateLimit.Burst is < 1 or > 10_000)
        {
            ThrowHelper.Argument(nameof(RateLimit), "The rate and the burst must be from 1 to 10,000.");
        }

        foreach (string user in AllowedUsers)
        {
            if (!MailRules.IsUserName(user))
            {
                ThrowHelper.Argument(nameof(AllowedUsers), $"'{user}' is not a user name or UID.");
            }
        }

        foreach (string unit in Services)
        {
            _ = MailRules.ServiceUnit(unit);
        }
    }
}
