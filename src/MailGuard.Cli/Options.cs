using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using MailGuard.Analysis;

namespace MailGuard.Cli;

/// <summary>What mgscan was asked to do.</summary>
internal sealed record ScanSettings
{
    public required string[] Inputs { get; init; }

    public required MailGuard.Parsing.PrefixFilter Filter { get; init; }

    /// <summary>No file named and a terminal on standard input: this machine's own kernel log is read.</summary>
    public MailGuard.Parsing.MachineLogs? Machine { get; init; }

    /// <summary>The root of the system whose logs are looked for (MGSCAN_ROOT; "/" on a live system).</summary>
    public string Root { get; init; } = "/";

    public string Format { get; init; } = "table";

    public int Top { get; init; } = 10;

    /// <summary>--max-keys: the key budget (distinct keys counted exactly per table).</summary>
    public int MaxKeys { get; init; } = MailGuard.Parsing.TrafficStatsOptions.DefaultKeyBudget;

    public bool List { get; init; }

    /// <summary>--interval: a report of what was read so far this often (one JSON document per line), the final report last.</summary>
    public TimeSpan? Interval { get; init; }

    /// <summary>--follow: the named files are followed across rotation until a signal.</summary>
    public bool Follow { get; init; }

    /// <summary>--state: the file that remembers how far each input was read.</summary>
    public string? StateFile { get; init; }

    /// <summary>Its content, loaded before the scan.</summary>
    public MailGuard.Parsing.ReadState? State { get; init; }
    /// <summary>mgscan serve --listen: the address /metrics is served on while the scan runs; null for a report.</summary>
    public System.Net.IPEndPoint? Listen { get; init; }

    /// <summary>False with --no-live: no live view, even on a stream read at a terminal.</summary>
    public bool Live { get; init; } = true;

    /// <summary>False with --no-join: no file is read as an application log.</summary>
    public bool Join { get; init; } = true;

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
    public VerdictOptions Verdict(IReadOnlyDictionary<uint, string> names, LinuxFamily family)
    {
        var d = new VerdictOptions();
        int I(string name, int value) => Thresholds.TryGetValue(name, out double v) ? (int)v : value;
        double D(string name, double value) => Thresholds.TryGetValue(name, out double v) ? v : value;
        return new VerdictOptions
        {
            Filter = Filter,
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

/// <summary>Reads the option values and says in one line what is wrong with a command line.</summary>
internal static class Options
{
    /// <summary>What each option takes, for the one-line error messages.</summary>
    private static readonly Dictionary<string, string> s_accepts = new()
    {
        ["--top"] = "a whole number from 1 to 2147483647",
        ["--max-keys"] = "a whole number from 64 to 2147483647",
        ["--format"] = "table, json, csv, ndjson or prometheus",
        ["--prefix"] = "a pattern ('*' any text, '?' one character, '#' the rule's port)",
        ["--all"] = "no value",
        ["--port"] = "port numbers (1-65535) or service names, comma-separated: 25,587 or smtp",
        ["--since"] = "a time: '2026-11-23 02:00', '2026-11-23T02:00:00Z', '02:00', 'yesterday', '-2h'",
        ["--until"] = "a time: '2026-11-23 02:00', '2026-11-23T02:00:00Z', '02:00', 'yesterday', '-2h'",
        ["--passwd"] = "a passwd file",
        ["--mail-ports"] = "port numbers (1-65535) or service names, comma-separated: 25,587 or smtp",
        ["--set"] = "NAME=VALUE with a NAME of " + string.Join(", ", ScanSettings.ThresholdNames),
        ["--list"] = "no value",
        ["--interval"] = "a duration from 1s to 24h: 1s, 10s, 1m, 1h",
        ["--follow"] = "no value",
        ["--state"] = "a file (created when missing)",
        ["--no-live"] = "no value",
        ["--no-join"] = "no value",
        ["--listen"] = "HOST:PORT with an IP address and a port from 1 to 65535: 127.0.0.1:9329, [::1]:9329, localhost:9329",
        ["--front-end"] = "iptables, iptables-restore, nft, firewalld or ufw",
        ["--action"] = "drop, reject or log-only",
        ["--allow-user"] = "user names (letters, digits, _ . -, starting with a letter or _) or UIDs, comma-separated",
        ["--per-service"] = "systemd service names (v2ray.service or v2ray: ASCII letters, digits and _ . - @ \\ :)",
        ["--log-limit"] = "a rate from 1 to 10000 per second, minute, hour or day: 10/second",
        ["--log-burst"] = "a whole number from 1 to 10000",
        ["--check"] = "no value",
        ["--forward"] = "no value",
    };

    /// <summary>What <paramref name="option"/> takes.</summary>
    public static string Accepts(string option) => s_accepts.GetValueOrDefault(option, "a value");

    /// <summary>Records a parse error on the option's argument (System.CommandLine reports it) and returns <paramref name="value"/>.</summary>
    public static T Fail<T>(ArgumentResult result, string error, T value)
    {
        result.AddError(error);
        return value;
    }

    /// <summary>
    /// The first thing wrong with a command line, as one line without the "mgscan: " in front, or null. A word
    /// starting with '-' (but '-' alone, standard input) that is no option is an error, not a file name, unless
    /// it comes after "--".
    /// </summary>
    public static string? CommandLineError(ParseResult parsed, Argument<string[]> files)
    {
        // the files of the command that was parsed: mgscan's own, or a subcommand's (mgscan rules --check FILES)
        IReadOnlyList<Token> named = parsed.GetResult(files)?.Tokens ?? [.. parsed.CommandResult.Children.OfType<ArgumentResult>().SelectMany(a => a.Tokens)];
        string help = parsed.CommandResult.Command is RootCommand ? "mgscan --help" : "mgscan " + parsed.CommandResult.Command.Name + " --help";
        foreach (Token token in parsed.Tokens)
        {
            if (token.Type == TokenType.DoubleDash)
            {
                break;
            }

            if (token.Value.Length > 1 && token.Value[0] == '-' && named.Any(f => ReferenceEquals(f, token)))
            {
                return $"{token.Value}: no such option ({help} lists them; a file whose name starts with '-' goes after --)";
            }
        }

        if (parsed.Errors.Count == 0)
        {
            return null;
        }

        ParseError first = parsed.Errors[0];
        if (first.Message.StartsWith("--", StringComparison.Ordinal))
        {
            return first.Message; // ours, from a CustomParser
        }

        OptionResult? option = first.SymbolResult switch
        {
            OptionResult o => o,
            ArgumentResult { Parent: OptionResult o } => o,
            _ => null,
        };
        if (option is null)
        {
            return TerminalText.OneLine(first.Message);
        }

        string name = option.Option.Name;
        return option.Tokens.Count == 0
            ? $"{name}: the value is missing (it takes {Accepts(name)})"
            : $"{name}: {string.Join(" ", option.Tokens.Select(t => $"'{t.Value}'"))} not accepted (it takes {Accepts(name)}, once)";
    }

    /// <summary>--interval: a whole number of seconds (s), minutes (m) or hours (h), from 1 s to 24 h.</summary>
    public static bool TryInterval(string? text, out TimeSpan? interval, [NotNullWhen(false)] out string? error)
    {
        interval = null;
        error = null;
        if (text is null)
        {
            return true;
        }

        long unit = text.Length < 2 ? 0 : text[^1] switch { 's' => TimeSpan.TicksPerSecond, 'm' => TimeSpan.TicksPerMinute, 'h' => TimeSpan.TicksPerHour, _ => 0 };
        if (unit > 0 && long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n is >= 1 and <= 86_400 && n * unit <= TimeSpan.TicksPerDay)
        {
            interval = TimeSpan.FromTicks(n * unit);
            return true;
        }

        error = $"--interval: '{text}' is not {Accepts("--interval")}";
        return false;
    }

    /// <summary>--listen: an IP address (IPv6 in brackets) or <c>localhost</c>, a colon and a port from 1 to 65535.</summary>
    public static bool TryListen(string text, [NotNullWhen(true)] out System.Net.IPEndPoint? endPoint, [NotNullWhen(false)] out string? error)
    {
        endPoint = null;
        int colon = text.LastIndexOf(':');
        string host = colon > 0 ? text[..colon] : "";
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        else if (host.Contains(':', StringComparison.Ordinal))
        {
            host = ""; // an IPv6 address without brackets: its port cannot be told apart
        }

        System.Net.IPAddress? address = host == "localhost" ? System.Net.IPAddress.Loopback
            : host.Length > 0 && System.Net.IPAddress.TryParse(host, out System.Net.IPAddress? a)
                && (a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? text.StartsWith('[') : !text.StartsWith('[') && host.Count(c => c == '.') == 3) ? a : null; // not 1.2.3 (1.2.0.3)
        if (address is not null && int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is >= 1 and <= 65535)
        {
            endPoint = new System.Net.IPEndPoint(address, port);
            error = null;
            return true;
        }

        error = $"--listen: '{TerminalText.OneLine(text)}' is not {Accepts("--listen")}";
        return false;
    }

    /// <summary>--max-keys: a whole number from 64 to <see cref="int.MaxValue"/>.</summary>
    public static bool TryMaxKeys(string text, out int keys, [NotNullWhen(false)] out string? error)
    {
        error = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out keys) && keys >= 64 ? null : $"--max-keys: '{text}' is not {Accepts("--max-keys")}";
        return error is null;
    }

    /// <summary>--top: a whole number from 1 to <see cref="int.MaxValue"/>.</summary>
    public static bool TryTop(string text, out int top, [NotNullWhen(false)] out string? error)
    {
        error = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out top) && top >= 1 ? null : $"--top: '{text}' is not {Accepts("--top")}";
        return error is null;
    }

    private static readonly string[] s_dateForms =
    [
        "yyyy-MM-dd", "yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFFF",
        "yyyy-MM-ddTHH:mm", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-ddTHH:mm:ss.FFFFFFF",
    ];

    private static readonly string[] s_timeForms = ["HH:mm", "HH:mm:ss"];

    /// <summary>Port numbers and service names, comma-separated or repeated (<paramref name="option"/> names the option in the error).</summary>
    public static bool TryPorts(string option, string[]? values, out ushort[]? ports, [NotNullWhen(false)] out string? error)
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
                    error = $"{option}: '{part}' is not a port number (1-65535) or a known service name (smtp, submission, submissions, ...)";
                    return false;
                }
            }
        }

        if (set.Count == 0)
        {
            error = $"{option}: no port given (it takes {Accepts(option)})";
            return false;
        }

        ports = [.. set];
        return true;
    }

    /// <summary>--set NAME=VALUE pairs: known threshold names; shares from 0 to 1, the others whole numbers from 0 to <see cref="int.MaxValue"/>.</summary>
    public static bool TryThresholds(string[]? values, out Dictionary<string, double> thresholds, [NotNullWhen(false)] out string? error)
    {
        thresholds = [];
        error = null;
        foreach (string value in values ?? [])
        {
            int eq = value.IndexOf('=', StringComparison.Ordinal);
            string name = eq < 0 ? value : value[..eq].Trim();
            if (eq < 0 || Array.IndexOf(ScanSettings.ThresholdNames, name) < 0)
            {
                error = $"--set: '{value}' is not {Accepts("--set")}";
                return false;
            }

            bool share = name.EndsWith("-share", StringComparison.Ordinal);
            if (!double.TryParse(value[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double number) || !double.IsFinite(number) || number < 0
                || (share ? number > 1 : number > int.MaxValue || number != Math.Floor(number)))
            {
                error = $"--set: '{value}': {name} takes {(share ? "a share from 0 to 1" : "a whole number from 0 to 2147483647")}";
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

        try
        {
            time = Parse(text.Trim(), now);
        }
        catch (ArgumentOutOfRangeException)
        {
            time = null; // before year 1 or after 9999 in UTC
        }

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
