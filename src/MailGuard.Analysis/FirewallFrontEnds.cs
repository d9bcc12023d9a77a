using MailGuard.Parsing;

namespace MailGuard.Analysis;

/// <summary>Names the firewall front-end that writes a log prefix: ufw, firewalld, Shorewall, CSF, or this project's own rules.</summary>
public static class FirewallFrontEnds
{
    /// <summary>The front-end a prefix comes from, as a reader knows it.</summary>
    /// <param name="prefix">A log prefix (trailing spaces allowed).</param>
    /// <returns>
    /// <c>ufw</c> (<c>[UFW BLOCK] </c>, <c>[UFW AUDIT] </c>…), <c>firewalld</c> (<c>filter_OUT_public_REJECT: </c>,
    /// <c>FINAL_REJECT: </c>…), <c>Shorewall</c> (<c>Shorewall:fw2net:REJECT:</c>), <c>CSF</c> (<c>Firewall: *TCP_OUT Blocked* </c>),
    /// <c>mgscan rules</c> (<c>IPTABLES TCP-OUT 25:</c>, <c>TCP-OUT 25 v2ray:</c>), or null when none is known.
    /// </returns>
    public static string? Name(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        string p = prefix.TrimStart();
        if (p.StartsWith("[UFW ", StringComparison.Ordinal))
        {
            return "ufw";
        }

        if (p.StartsWith("filter_", StringComparison.Ordinal) || p.StartsWith("nat_", StringComparison.Ordinal) || p.StartsWith("raw_", StringComparison.Ordinal)
            || p.StartsWith("mangle_", StringComparison.Ordinal) || p.StartsWith("FINAL_REJECT", StringComparison.Ordinal) || p.StartsWith("STATE_INVALID_", StringComparison.Ordinal))
        {
            return "firewalld";
        }

        if (p.StartsWith("Shorewall:", StringComparison.Ordinal))
        {
            return "Shorewall";
        }

        if (p.StartsWith("Firewall: *", StringComparison.Ordinal))
        {
            return "CSF";
        }

        if (p.StartsWith("IPTABLES TCP-OUT ", StringComparison.Ordinal) || ServicePrefix.ServiceOf(p) is not null)
        {
            return "mgscan rules";
        }

        return null;
    }
}
