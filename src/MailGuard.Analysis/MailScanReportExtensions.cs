using MailGuard.Parsing;

namespace MailGuard.Analysis;

/// <summary>The verdict of a <see cref="MailScanReport"/>.</summary>
public static class MailScanReportExtensions
{
    /// <summary>
    /// Analyses a scan: who sent the mail traffic, which pattern it follows, the evidence and the advice. The scan's
    /// prefix filter and mail ports are used (<see cref="MailScanOptions.Filter"/>, <see cref="MailScanOptions.MailPorts"/>),
    /// whatever <paramref name="options"/> says of them, so that both halves agree.
    /// </summary>
    /// <param name="report">The scan.</param>
    /// <param name="options">Thresholds, user names, Linux family; defaults when null.</param>
    /// <returns>The verdict.</returns>
    public static SpamVerdict Verdict(this MailScanReport report, VerdictOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        VerdictOptions o = (options ?? new VerdictOptions()) with { Filter = report.Options.Filter, MailPorts = report.Options.MailPorts };
        return SpamVerdict.Analyze(report.Stats, report.Totals, o, report.Attribution);
    }
}
