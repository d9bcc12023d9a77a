using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace MailGuard.Cli;

/// <summary>What mgscan was asked to do.</summary>
internal sealed class ScanSettings
{
    public required string[] Inputs { get; init; }

    public required MailGuard.Parsing.PrefixFilter Filter { get; init; }

    public string Format { get; init; } = "table";

    public int Top { get; init; } = 10;

    public bool List { get; init; }

    public ushort[]? Ports { get; init; }

    public DateTimeOffset? Since { get; init; }

    public DateTimeOffset? Until { get; init; }

    /// <summary>A passwd file for user names; null: /etc/passwd when it exists.</summary>
    public string? Passwd { get; init; }

    /// <summary>The mail ports of the verdict (--mail-ports); null: the default.</summary>
    public ushort[]? MailPorts { get; init; }

    /// <summary>Verdict thresholds set with --set NAME=VALUE.</summary>
    public IReadOnlyDictionary<string, double> Thresholds { get; init; } = new Dictionary<string, double>();

    /// <summary>The verdict settings: defaults, then --mail-ports and --set.</summary>
    public MailGuard.Parsing.VerdictOptions Verdict(IReadOnlyDictionary<uint, string> names, MailGuard.Parsing.LinuxFamily family)
    {
        var d = new MailGuard.Parsing.VerdictOptions();
        int I(string name, int value) => Thresholds.TryGetValue(name, out double v) ? (int)v : value;
        double D(string name, double value) => Thresholds.TryGetValue(name, out double v) ? v : value;
        return new MailGuard.Parsing.VerdictOptions
        {
            UserNames = names,
            Family = family,
            MailPorts = MailPorts ?? d.MailPorts,
            MinAttempts = I("min-attempts", d.MinAttempts),
            DirectToMxMinDestinations = I("direct-min-destinations", d.DirectToMxMinDestinations),
            DirectToMxMinPort25Share = D("direct-min-port25-share", d.DirectToMxMinPort25Share),
            RelayMinSubmissionShare = D("relay-min-submission-share", d.RelayMinSubmissionShare),
            RelayMaxDestinations = I("relay-max-destinations", d.RelayMaxDestinations),
            RelayMinAttempts = I("relay-min-attempts", d.RelayMinAttempts),
            RetryMaxDestinations = I("retry-max-destinations", d.RetryMaxDestinations),
            RetryMinAttempts = I("retry-min-attempts", d.RetryMinAttempts),
            ProxyMinClients = I("proxy-min-clients", d.ProxyMinClients),
            QuietMaxPerMinute = I("quiet-max-per-minute", d.QuietMaxPerMinute),
            BurstMinPerMinute = I("burst-min-per-minute", d.BurstMinPerMinute),
        };
    }

    /// <summary>The names --set accepts.</summary>
    public static readonly string[] ThresholdNames =
    [
        "min-attempts", "direct-min-destinations", "direct-min-port25-share", "relay-min-submission-share", "relay-max-destinations",
        "relay-min-attempts", "retry-max-destinations", "retry-min-attempts", "proxy-min-clients", "quiet-max-per-minute", "burst-min-per-minute",
    ];
}

/// <summary>Reads the values of --port, --since and --until.</summary>
internal static class Options
{
    private static readonly string[] s_dateForms =
    [
        "yyyy-MM-dd", "yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFFF",
        "yyyy-MM-ddTHH:mm", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-ddTHH:mm:ss.FFFFFFF",
    ];

    private static readonly string[] s_timeForms = ["HH:mm", "HH:mm:ss"];

    /// <summary>Port numbers and service names, comma-separated or repeated.</summary>
    public static bool TryPorts(string[]? values, out ushort[]? ports, [NotNullWhen(false)] out string? error)
    {
        ports = null;
        error = null;
        if (values is not { Length: > 0 })
        {
            return true;
        }

        var set = new SortedSet<ushort>();
        foreach (string value in values)
        {
            foreach (string part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (ushort.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out ushort n) && n > 0)
                {
                    set.Add(n);
                }
                else if (Report.PortOfName(part) is { } named)
                {
                    set.Add(named);
                }
                else
                {
                    error = $"--port: '{part}' is not a port number (1-65535) or a known service name (smtp, submission, submissions, ...)";
                    return false;
                }
            }
        }

        if (set.Count == 0)
        {
            error = "--port: no port given";
            return false;
        }

        ports = [.. set];
        return true;
    }

    /// <summary>--set NAME=VALUE pairs: known threshold names, non-negative numbers.</summary>
    public static bool TryThresholds(string[]? values, out Dictionary<string, double> thresholds, [NotNullWhen(false)] out string? error)
    {
        thresholds = [];
        error = null;
        foreach (string value in values ?? [])
        {
            int eq = value.IndexOf('=', StringComparison.Ordinal);
            string name = eq < 0 ? value : value[..eq].Trim();
            if (eq < 0 || Array.IndexOf(ScanSettings.ThresholdNames, name) < 0
                || !double.TryParse(value[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double number) || number < 0 || double.IsInfinity(number))
            {
                error = $"--set: '{value}' is not NAME=NUMBER with a NAME of {string.Join(", ", ScanSettings.ThresholdNames)}";
                return false;
            }

            thresholds[name] = number;
        }

        return true;
    }

    /// <summary>An absolute time, a time of today, a relative time (-2h) or today/yesterday/now; local when no offset is given.</summary>
    public static bool TryTime(string option, string? text, DateTimeOffset now, out DateTimeOffset? time, [NotNullWhen(false)] out string? error)
    {
        time = null;
        error = null;
        if (text is null)
        {
            return true;
        }

        time = Parse(text.Trim(), now);
        if (time is null)
        {
            error = $"{option}: cannot read '{text}' (examples: '2026-11-23 02:00', '2026-11-23T02:00:00Z', '02:00', 'yesterday', '-2h')";
            return false;
        }

        return true;
    }

    private static DateTimeOffset? Parse(string text, DateTimeOffset now)
    {
        var ci = CultureInfo.InvariantCulture;
        DateTimeOffset today = new(now.Date, now.Offset);
        switch (text.ToUpperInvariant())
        {
            case "NOW":
                return now;
            case "TODAY":
                return today;
            case "YESTERDAY":
                return today.AddDays(-1);
            case "TOMORROW":
                return today.AddDays(1);
        }

        if (text.Length >= 3 && text[0] == '-' && long.TryParse(text.AsSpan(1, text.Length - 2), NumberStyles.None, ci, out long amount))
        {
            TimeSpan? unit = char.ToUpperInvariant(text[^1]) switch
            {
                'S' => TimeSpan.FromSeconds(1),
                'M' => TimeSpan.FromMinutes(1),
                'H' => TimeSpan.FromHours(1),
                'D' => TimeSpan.FromDays(1),
                _ => null,
            };
            return unit is { } u && amount < 100_000 ? now - (u * amount) : null;
        }

        if (DateTime.TryParseExact(text, s_timeForms, ci, DateTimeStyles.None, out DateTime clock))
        {
            return today + clock.TimeOfDay;
        }

        if (DateTime.TryParseExact(text, s_dateForms, ci, DateTimeStyles.None, out DateTime local))
        {
            return new DateTimeOffset(local, TimeZoneInfo.Local.GetUtcOffset(local));
        }

        // With an explicit offset or Z: ISO 8601 / RFC 3339.
        return text.Length > 10 && (text.EndsWith('Z') || text.EndsWith('z') || text[10..].Contains('+', StringComparison.Ordinal) || text[10..].Contains('-', StringComparison.Ordinal))
            && DateTimeOffset.TryParse(text, ci, DateTimeStyles.None, out DateTimeOffset exact) ? exact : null;
    }
}
