using MailGuard.Parsing;

namespace MailGuard.Analysis;

/// <summary>The Linux family whose commands the advice uses (for keeping firewall rules across reboots).</summary>
public enum LinuxFamily
{
    /// <summary>Not known: the advice gives the commands of both families.</summary>
    Unknown = 0,

    /// <summary>Debian, Ubuntu and derivatives (<c>/var/log/kern.log</c>, <c>iptables-persistent</c>).</summary>
    Debian,

    /// <summary>RHEL, CentOS, Rocky, Alma, Fedora (<c>/var/log/messages</c>, <c>iptables-services</c>/firewalld).</summary>
    RedHat,
}

/// <summary>
/// The thresholds of <see cref="SpamVerdict.Analyze(TrafficStats, ScanTotals?, VerdictOptions?)"/>. The classes are tested in this order; the first
/// that fits wins (see docs/verdict.md):
/// proxy relay → relay abuse → retrying client → direct-to-MX → nothing suspicious → unclear.
/// </summary>
public sealed record VerdictOptions
{
    /// <summary>The destination ports that carry mail. Default 25, 465, 587, 2525.</summary>
    public IReadOnlyCollection<ushort> MailPorts { get; init; } = [25, 465, 587, 2525];

    /// <summary>Below this many mail connection attempts in all, nothing is suspicious. Default 20.</summary>
    public int MinAttempts { get; init; } = 20;

    /// <summary>Direct-to-MX: at least this many different destinations (fan-out). Default 50.</summary>
    public int DirectToMxMinDestinations { get; init; } = 50;

    /// <summary>Direct-to-MX: at least this share of the actor's attempts go to port 25. Default 0.5.</summary>
    public double DirectToMxMinPort25Share { get; init; } = 0.5;

    /// <summary>Relay abuse: at least this share of the actor's attempts go to 465/587. Default 0.8.</summary>
    public double RelayMinSubmissionShare { get; init; } = 0.8;

    /// <summary>Relay abuse: at most this many destinations. Default 5.</summary>
    public int RelayMaxDestinations { get; init; } = 5;

    /// <summary>Relay abuse: at least this many attempts. Default 100.</summary>
    public int RelayMinAttempts { get; init; } = 100;

    /// <summary>Retrying client: at most this many destinations. Default 3.</summary>
    public int RetryMaxDestinations { get; init; } = 3;

    /// <summary>Retrying client: at least this many attempts. Default 30.</summary>
    public int RetryMinAttempts { get; init; } = 30;

    /// <summary>Proxy relay: forwarded traffic from at least this many different clients (SRC). Default 3.</summary>
    public int ProxyMinClients { get; init; } = 3;

    /// <summary>Nothing suspicious needs at most this many attempts in the busiest minute. Default 10.</summary>
    public int QuietMaxPerMinute { get; init; } = 10;

    /// <summary>A burst starts at the first minute with at least this many attempts (and a quarter of the peak). Default 5.</summary>
    public int BurstMinPerMinute { get; init; } = 5;

    /// <summary>User names of UIDs (from /etc/passwd: <see cref="UserNames.Parse"/>); empty: numbers only.</summary>
    public IReadOnlyDictionary<uint, string> UserNames { get; init; } = new Dictionary<uint, string>();

    /// <summary>The Linux family for the advice.</summary>
    public LinuxFamily Family { get; init; }

    /// <summary>User names of proxy and VPN daemons: their traffic is relayed for clients.</summary>
    public IReadOnlyCollection<string> ProxyUsers { get; init; } = ["proxy", "squid", "danted", "dante", "sockd", "3proxy", "tinyproxy", "privoxy", "debian-tor", "tor", "_tor", "haproxy", "openvpn", "nobody"];

    /// <summary>User names of mail servers (the only users that should connect to port 25), in order of preference. Not <c>mail</c>: every Debian system has that user, mail server or not.</summary>
    public IReadOnlyList<string> MailUsers { get; init; } = ["postfix", "Debian-exim", "exim", "_smtpd", "opensmtpd", "smmsp"];

    /// <summary>User names of web servers and PHP: a compromise there is a web application's.</summary>
    public IReadOnlyCollection<string> WebUsers { get; init; } = ["www-data", "apache", "nginx", "http", "wwwrun", "php-fpm", "lighttpd"];

    /// <summary>
    /// The prefix filter the scan selected entries by (<see cref="LogLineParserOptions.Filter"/>): analysed entries under
    /// other prefixes are named in <see cref="SpamVerdict.DiscoveredPrefixes"/>. Default <see cref="PrefixFilter.TcpOut"/>.
    /// </summary>
    public PrefixFilter Filter { get; init; } = PrefixFilter.TcpOut;

    /// <summary>
    /// Service names (from per-service prefixes, <see cref="ServicePrefix"/>) taken for proxies and VPNs: a name that
    /// starts with one of these relays its clients' traffic. Default: the usual proxy daemons.
    /// </summary>
    public IReadOnlyCollection<string> ProxyServices { get; init; } = ["v2ray", "xray", "shadowsocks", "ss-server", "ss-local", "ssserver", "sing-box", "trojan", "hysteria", "squid", "danted", "3proxy", "tinyproxy", "privoxy", "tor", "haproxy", "openvpn", "wireguard", "wg-quick", "ocserv", "strongswan"];

    /// <summary>
    /// User names that several services often run as (root, nobody, proxy users): when such a UID is the culprit,
    /// the verdict says the log cannot tell its services apart. UIDs 0 and 65534 always count as shared.
    /// </summary>
    public IReadOnlyCollection<string> SharedUsers { get; init; } = ["root", "nobody", "nogroup", "daemon", "proxy"];

    /// <summary>
    /// The services known to run as each UID (for example this machine's running units, read by the caller), named in
    /// the verdict when a shared UID is the culprit; empty when not known.
    /// </summary>
    public IReadOnlyDictionary<uint, IReadOnlyList<string>> ServicesByUid { get; init; } = new Dictionary<uint, IReadOnlyList<string>>();
}

/// <summary>Reads user names from passwd text.</summary>
public static class UserNames
{
    /// <summary>Parses <c>/etc/passwd</c> lines (<c>name:x:uid:gid:…</c>); malformed lines are skipped.</summary>
    /// <param name="passwd">The file's text.</param>
    /// <returns>UID → name (the first name of a UID wins).</returns>
    public static IReadOnlyDictionary<uint, string> Parse(string passwd)
    {
        ArgumentNullException.ThrowIfNull(passwd);
        var names = new Dictionary<uint, string>();
        foreach (string line in passwd.Split('\n'))
        {
            string[] f = line.TrimEnd('\r').Split(':');
            if (f.Length >= 4 && f[0].Length > 0 && !f[0].StartsWith('#') && uint.TryParse(f[2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out uint uid))
            {
                names.TryAdd(uid, f[0]);
            }
        }

        return names;
    }
}
