using System.Globalization;
using System.Text;

namespace MailGuard.Analysis;

/// <summary>The nftables front-end: a file for <c>nft -f</c> with its own table.</summary>
public static partial class MailRules
{
    /// <summary>The nftables table the rules live in (family <c>inet</c>: IPv4 and IPv6).</summary>
    public const string NftTable = "mailguard";

    private static string NftPorts(ushort[] ports) =>
        ports.Length == 1 ? ports[0].ToString(CultureInfo.InvariantCulture) : "{ " + string.Join(", ", ports) + " }";

    // nft's quoted strings have no escapes: names are validated to hold no '"' (ServiceUnit, IsUserName).
    private static string NftString(string s) => "\"" + s + "\"";

    private static string NftFile(Plan p)
    {
        string limit = $"limit rate {p.Limit.RateText} burst {p.Limit.Burst.ToString(CultureInfo.InvariantCulture)} packets";
        string verdict = p.Action == MailTrafficAction.Reject ? "meta l4proto tcp reject with tcp reset" : "drop";
        var sb = new StringBuilder("#!/usr/sbin/nft -f\n");
        sb.Append(Header(p, "nftables, a file for nft -f"))
          .Append("# Load: nft -f mailguard.nft (loading it again replaces the table). Keep it across reboots: include it from\n")
          .Append("# /etc/nftables.conf (Debian) or /etc/sysconfig/nftables.conf (RHEL). The chains run before iptables' filter\n")
          .Append("# chains (priority filter - 10); a drop here is final, an accept only ends this table.\n");
        if (p.Services.Length > 0)
        {
            sb.Append("# nft turns each cgroup path into an id when it loads the file, looking under /sys/fs/cgroup: the services must be\n")
              .Append("# running, and on a host with cgroup v2 at /sys/fs/cgroup/unified (hybrid) load it as\n")
              .Append("#   unshare -m sh -c 'mount --bind /sys/fs/cgroup/unified /sys/fs/cgroup && nft -f mailguard.nft'\n");
        }

        sb.Append("table inet ").Append(NftTable).Append('\n')
          .Append("delete table inet ").Append(NftTable).Append('\n')
          .Append("table inet ").Append(NftTable).Append(" {\n")
          .Append("\tchain output {\n")
          .Append("\t\ttype filter hook output priority filter - 10; policy accept;\n")
          .Append("\t\ttcp dport ").Append(NftPorts(p.Ports)).Append(" jump mail-out\n")
          .Append("\t}\n\n")
          .Append("\tchain mail-out {\n")
          .Append("\t\ttcp flags & (fin | syn | rst | ack) == syn jump mail-log\n");
        if (p.Action != MailTrafficAction.LogOnly)
        {
            foreach (string user in p.Users)
            {
                sb.Append("\t\tmeta skuid ").Append(char.IsAsciiDigit(user[0]) ? user : NftString(user)).Append(" accept\n");
            }

            sb.Append("\t\t").Append(verdict).Append('\n');
        }

        sb.Append("\t}\n\n")
          .Append("\tchain mail-log {\n");
        foreach (ushort port in p.Ports)
        {
            foreach (ServiceRules s in p.Services)
            {
                string match = string.Create(CultureInfo.InvariantCulture, $"tcp dport {port} socket cgroupv2 level 2 {NftString(s.Cgroup)}");
                sb.Append("\t\t").Append(match).Append(' ').Append(limit).Append(" log prefix ")
                  .Append(NftString(s.Prefixes.First(x => x.Port == port).Prefix)).Append(" flags skuid\n")
                  .Append("\t\t").Append(match).Append(" return\n");
            }

            sb.Append("\t\ttcp dport ").Append(port.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(limit)
              .Append(" log prefix ").Append(NftString(GenericPrefix(port))).Append(" flags skuid\n");
        }

        sb.Append("\t}\n");
        if (p.Forward)
        {
            sb.Append("\n\tchain forward {\n")
              .Append("\t\ttype filter hook forward priority filter - 10; policy accept;\n")
              .Append("\t\ttcp dport ").Append(NftPorts(p.Ports)).Append(" jump mail-fwd\n")
              .Append("\t}\n\n")
              .Append("\tchain mail-fwd {\n");
            foreach (ushort port in p.Ports)
            {
                sb.Append("\t\ttcp dport ").Append(port.ToString(CultureInfo.InvariantCulture))
                  .Append(" tcp flags & (fin | syn | rst | ack) == syn ").Append(limit)
                  .Append(" log prefix ").Append(NftString(GenericPrefix(port))).Append('\n');
            }

            if (p.Action != MailTrafficAction.LogOnly)
            {
                sb.Append("\t\t").Append(verdict).Append('\n');
            }

            sb.Append("\t}\n");
        }

        sb.Append("}\n");
        return sb.ToString();
    }
}
