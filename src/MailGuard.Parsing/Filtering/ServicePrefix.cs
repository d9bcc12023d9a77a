using System.Globalization;
using System.Text;

namespace MailGuard.Parsing;

/// <summary>
/// The log prefix of a per-service LOG rule, <c>TCP-OUT &lt;port&gt; &lt;service&gt;:</c> (for example
/// <c>TCP-OUT 25 v2ray:</c>): a rule that matches one systemd service's cgroup (iptables <c>-m cgroup --path
/// system.slice/v2ray.service</c>, nftables <c>socket cgroupv2 level 2 "system.slice/v2ray.service"</c>) names the
/// service, so that services sharing a UID (root, nobody, a proxy user) are told apart. <see cref="PrefixFilter.TcpOut"/>
/// selects these prefixes too, and the statistics read the service back (<see cref="TrafficStats.Services"/>).
/// </summary>
public static class ServicePrefix
{
    /// <summary>The longest prefix iptables' LOG target takes (<c>--log-prefix</c>: 29 characters).</summary>
    public const int MaxLength = 29;

    private const string Head = "TCP-OUT ";

    /// <summary>
    /// The service name as it goes into a prefix: the unit name without <c>.service</c>, cut to 14 characters so that the
    /// prefix fits <see cref="MaxLength"/> with any port, and the service has the same name on every port.
    /// </summary>
    /// <param name="port">The destination port of the rule.</param>
    /// <param name="unit">The systemd unit, e.g. <c>v2ray.service</c> or <c>shadowsocks-libev-server@config</c>.</param>
    /// <returns>The prefix, e.g. <c>TCP-OUT 25 v2ray:</c>.</returns>
    /// <exception cref="ArgumentException">The unit name is empty or holds a character outside ASCII letters, digits and <c>_ . - @ \ :</c>.</exception>
    public static string Format(ushort port, string unit)
    {
        ArgumentNullException.ThrowIfNull(unit);
        string name = unit.EndsWith(".service", StringComparison.Ordinal) ? unit[..^".service".Length] : unit;
        if (name.Length == 0 || !IsServiceName(Encoding.ASCII.GetBytes(name)))
        {
            throw new ArgumentException($"'{unit}' is not a systemd unit name.", nameof(unit));
        }

        // Cut to the room a 5-digit port leaves, so that one service has one name on every port (cut to each port's
        // own room, shadowsocks-libev would read as …-libe on 587 and …-lib on 2525: two services in the report).
        const int room = MaxLength - 8 - 5 - 1 - 1; // "TCP-OUT ", the port, " ", ":"
        return string.Create(CultureInfo.InvariantCulture, $"{Head}{port} ") + (name.Length > room ? name[..room] : name) + ":";
    }

    /// <summary>Reads a per-service prefix.</summary>
    /// <param name="prefix">A log prefix (trailing spaces are ignored).</param>
    /// <param name="port">The rule's port.</param>
    /// <param name="service">The service name (bytes of <paramref name="prefix"/>).</param>
    /// <returns>True when <paramref name="prefix"/> is <c>TCP-OUT &lt;port&gt; &lt;service&gt;:</c>.</returns>
    public static bool TryParse(ReadOnlySpan<byte> prefix, out int port, out ReadOnlySpan<byte> service)
    {
        port = -1;
        service = default;
        prefix = prefix.TrimEnd((byte)' ');
        if (!prefix.StartsWith("TCP-OUT "u8) || prefix.Length < 12 || prefix[^1] != (byte)':')
        {
            return false;
        }

        ReadOnlySpan<byte> rest = prefix[8..^1];
        int space = rest.IndexOf((byte)' ');
        if (space is < 1 or > 5 || space == rest.Length - 1)
        {
            return false;
        }

        int value = 0;
        foreach (byte b in rest[..space])
        {
            if ((uint)(b - '0') > 9)
            {
                return false;
            }

            value = (value * 10) + (b - '0');
        }

        ReadOnlySpan<byte> name = rest[(space + 1)..];
        if (value is 0 or > 65535 || !IsServiceName(name))
        {
            return false;
        }

        port = value;
        service = name;
        return true;
    }

    /// <summary>Reads a per-service prefix given as text.</summary>
    /// <param name="prefix">A log prefix.</param>
    /// <returns>The service name, or null when <paramref name="prefix"/> is not a per-service prefix.</returns>
    public static string? ServiceOf(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        byte[] bytes = Encoding.UTF8.GetBytes(prefix);
        return TryParse(bytes, out _, out ReadOnlySpan<byte> service) ? Encoding.ASCII.GetString(service) : null;
    }

    private static bool IsServiceName(ReadOnlySpan<byte> name)
    {
        foreach (byte c in name)
        {
            if (!((uint)((c | 0x20) - 'a') <= 'z' - 'a' || (uint)(c - '0') <= 9 || c is (byte)'_' or (byte)'.' or (byte)'-' or (byte)'@' or (byte)'\\' or (byte)':'))
            {
                return false;
            }
        }

        return name.Length > 0;
    }
}
