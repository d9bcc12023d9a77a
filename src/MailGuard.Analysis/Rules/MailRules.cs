using System.Globalization;
using System.Text;
using MailGuard.Analysis.Internals;
using MailGuard.Parsing;

namespace MailGuard.Analysis;

/// <summary>
/// Writes the firewall rules mgscan is built for, for each front-end (<see cref="FirewallFrontEnd"/>): every new
/// outgoing connection to a mail port is logged with the sender's UID under the prefix mgscan reads, at a limited
/// rate, then dropped (or rejected) unless its user is allowed. Services named in
/// <see cref="MailRuleOptions.Services"/> are logged under their own prefix (<see cref="ServicePrefix"/>), matched by
/// their cgroup, and once only.
/// </summary>
/// <remarks>
/// The layout, the same in every front-end: <c>OUTPUT</c> sends TCP to the mail ports to the chain
/// <c>MAILGUARD-OUT</c> (nftables: <c>mail-out</c>), which sends new connections (SYN) to <c>MAILGUARD-LOG</c>
/// (<c>mail-log</c>): one LOG rule per service and port, each followed by a RETURN so the packet is logged once, then
/// one LOG rule per port for everyone else. Back in <c>MAILGUARD-OUT</c>, the allowed users' connections are
/// accepted and all others dropped. Every name that goes into a rule is validated; the shell commands quote what is
/// not a plain word.
/// </remarks>
public static partial class MailRules
{
    /// <summary>The chain the mail ports are sent to (iptables front-ends).</summary>
    public const string OutChain = "MAILGUARD-OUT";

    /// <summary>The chain of the LOG rules (iptables front-ends).</summary>
    public const string LogChain = "MAILGUARD-LOG";

    /// <summary>The chain for forwarded mail traffic (iptables front-ends, with <see cref="MailRuleOptions.Forward"/>).</summary>
    public const string ForwardChain = "MAILGUARD-FWD";

    private const int MultiportMax = 15; // iptables' multiport takes at most 15 ports

    private static readonly string[] s_otherUnitTypes =
        [".socket", ".scope", ".slice", ".target", ".timer", ".mount", ".automount", ".path", ".device", ".swap"];

    /// <summary>The rule set for one front-end.</summary>
    /// <param name="frontEnd">The firewall front-end.</param>
    /// <param name="options">What the rules do (ports, action, allowed users, services, rate limit).</param>
    /// <returns>The text: commands (one a line) or a file, with comments that say how to load it and keep it.</returns>
    /// <exception cref="ArgumentException">An option cannot go into a rule (a bad user or unit name, two services
    /// whose prefixes would be equal, a unit name with '\' for firewalld).</exception>
    public static string Generate(FirewallFrontEnd frontEnd, MailRuleOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Plan plan = Plan.Of(options);
        return frontEnd switch
        {
            FirewallFrontEnd.Iptables => IptablesCommands(plan),
            FirewallFrontEnd.IptablesRestore => RestoreFragment(plan),
            FirewallFrontEnd.Nftables => NftFile(plan),
            FirewallFrontEnd.Firewalld => FirewalldCommands(plan),
            FirewallFrontEnd.Ufw => UfwLines(plan),
            _ => throw new ArgumentOutOfRangeException(nameof(frontEnd), frontEnd, "Not a front-end."),
        };
    }

    /// <summary>
    /// A systemd service unit as the rules name it: <c>v2ray</c> and <c>v2ray.service</c> both give <c>v2ray.service</c>.
    /// </summary>
    /// <param name="name">The unit's name, with or without <c>.service</c>.</param>
    /// <returns>The unit name ending in <c>.service</c>.</returns>
    /// <exception cref="ArgumentException">Not a service's name: another unit type (<c>.socket</c>, …), a template
    /// without instance (<c>name@.service</c>), a leading '-' or '.', or a character outside ASCII letters, digits and
    /// <c>_ . - @ \ :</c>.</exception>
    public static string ServiceUnit(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string unit = name.EndsWith(".service", StringComparison.Ordinal) ? name : name + ".service";
        string bare = unit[..^".service".Length];
        if (s_otherUnitTypes.Any(t => name.EndsWith(t, StringComparison.Ordinal)))
        {
            ThrowHelper.Argument(nameof(name), $"'{name}' is not a service unit (only services run in system.slice/NAME.service).");
        }

        if (bare.Length is 0 or > 240 || bare[0] is '-' or '.' || bare.EndsWith('@') || !IsUnitText(bare))
        {
            ThrowHelper.Argument(nameof(name), $"'{name}' is not a systemd service name (ASCII letters, digits and _ . - @ \\ : only).");
        }

        return unit;
    }

    /// <summary>The cgroup of a service, as iptables' <c>-m cgroup --path</c> and nftables' <c>socket cgroupv2 level 2</c> name it.</summary>
    /// <param name="unit">A service unit (<see cref="ServiceUnit"/>).</param>
    /// <returns><c>system.slice/UNIT</c>.</returns>
    public static string CgroupPath(string unit) => "system.slice/" + ServiceUnit(unit);

    /// <summary>
    /// True for a name the rules can hold for a user: a UID (0 to 4294967294) or a name of 1 to 32 ASCII letters,
    /// digits, '_', '.' and '-' that starts with a letter or '_' (what useradd accepts, uppercase included: Debian-exim).
    /// </summary>
    /// <param name="user">A user name or UID.</param>
    /// <returns>True when it can go into a rule unquoted.</returns>
    public static bool IsUserName(string? user)
    {
        if (string.IsNullOrEmpty(user) || user.Length > 32)
        {
            return false;
        }

        if (char.IsAsciiDigit(user[0]))
        {
            return uint.TryParse(user, NumberStyles.None, CultureInfo.InvariantCulture, out uint uid) && uid != uint.MaxValue;
        }

        return (char.IsAsciiLetter(user[0]) || user[0] == '_') && user.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-');
    }

    private static bool IsUnitText(string s) => s.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' or '@' or '\\' or ':');

    private static string Ports(ushort[] ports) => string.Join(", ", ports);

    private static string Header(Plan p, string what)
    {
        var sb = new StringBuilder();
        sb.Append("# mgscan rules (").Append(what).Append("): log new outgoing connections to mail ports ").Append(Ports(p.Ports))
          .Append(" with the sender's UID, ").Append(p.Limit.RateText).Append(" (burst ").Append(p.Limit.Burst.ToString(CultureInfo.InvariantCulture))
          .Append(") at most per rule, then ")
          .Append(p.Action switch { MailTrafficAction.Reject => "reject them (TCP reset)", MailTrafficAction.LogOnly => "let them go (log only)", _ => "drop them" });
        if (p.Users.Length > 0 && p.Action != MailTrafficAction.LogOnly)
        {
            sb.Append(" except those of ").Append(string.Join(", ", p.Users));
        }

        sb.Append('.').Append('\n');
        if (p.Services.Length > 0)
        {
            sb.Append("# Services logged under their own prefix (their cgroup system.slice/UNIT): ")
              .Append(string.Join(", ", p.Services.Select(s => $"{s.Unit} as '{s.Prefixes[0].Prefix}'"))).Append('\n');
        }

        sb.Append("# Read the log with: mgscan /var/log/kern.log (or journalctl -k | mgscan)\n");
        return sb.ToString();
    }

    /// <summary>What every front-end writes, in front-end-neutral form.</summary>
    private sealed class Plan
    {
        public required ushort[] Ports { get; init; }

        public required MailTrafficAction Action { get; init; }

        public required string[] Users { get; init; }

        public required ServiceRules[] Services { get; init; }

        public required bool Forward { get; init; }

        public required LogRateLimit Limit { get; init; }

        public static Plan Of(MailRuleOptions o)
        {
            ushort[] ports = [.. o.MailPorts.Distinct().Order()];
            var services = new List<ServiceRules>();
            var seen = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string given in o.Services)
            {
                string unit = ServiceUnit(given);
                if (services.Any(s => s.Unit == unit))
                {
                    continue;
                }

                (ushort Port, string Prefix)[] prefixes = [.. ports.Select(port => (port, ServicePrefix.Format(port, unit)))];
                foreach ((ushort _, string prefix) in prefixes)
                {
                    if (seen.TryGetValue(prefix, out string? other))
                    {
                        ThrowHelper.Argument(nameof(o.Services), $"'{other}' and '{unit}' give the same log prefix '{prefix}' (iptables takes 29 characters): the log could not tell them apart.");
                    }

                    seen[prefix] = unit;
                }

                services.Add(new ServiceRules(unit, "system.slice/" + unit, prefixes));
            }

            return new Plan
            {
                Ports = ports,
                Action = o.Action,
                Users = [.. o.AllowedUsers.Distinct(StringComparer.Ordinal)],
                Services = [.. services],
                Forward = o.Forward,
                Limit = o.RateLimit,
            };
        }

        /// <summary>The mail ports in groups iptables' multiport takes.</summary>
        public IEnumerable<ushort[]> PortGroups() => Ports.Chunk(MultiportMax);
    }

    private sealed record ServiceRules(string Unit, string Cgroup, (ushort Port, string Prefix)[] Prefixes);

    private static string GenericPrefix(ushort port) => string.Create(CultureInfo.InvariantCulture, $"IPTABLES TCP-OUT {port}:");
}
