using System.Globalization;

namespace MailGuard.Parsing;

/// <summary>Words a kernel time since boot (<see cref="ClockKind.Uptime"/>) the way reports show it: <c>boot +2h14m</c>.</summary>
public static class BootTime
{
    /// <summary>
    /// <c>boot +14m</c>, <c>boot +2h14m</c>, <c>boot +3d02h14m</c>; with <paramref name="seconds"/>
    /// <c>boot +7s</c>, <c>boot +14m05s</c>, <c>boot +2h14m05s</c>, <c>boot +3d02h14m05s</c>.
    /// </summary>
    /// <param name="sinceBoot">The time since boot (a negative one counts as zero).</param>
    /// <param name="seconds">Whether to show the seconds (else the time is cut to the minute).</param>
    /// <returns>The text.</returns>
    public static string Format(TimeSpan sinceBoot, bool seconds = false)
    {
        if (sinceBoot < TimeSpan.Zero)
        {
            sinceBoot = TimeSpan.Zero;
        }

        var ci = CultureInfo.InvariantCulture;
        int d = sinceBoot.Days, h = sinceBoot.Hours, m = sinceBoot.Minutes, s = sinceBoot.Seconds;
        string dhm = d > 0 ? string.Create(ci, $"{d}d{h:00}h{m:00}m") : h > 0 ? string.Create(ci, $"{h}h{m:00}m") : string.Create(ci, $"{m}m");
        return !seconds ? "boot +" + dhm
            : sinceBoot < TimeSpan.FromMinutes(1) ? string.Create(ci, $"boot +{s}s")
            : string.Create(ci, $"boot +{dhm}{s:00}s");
    }
}
