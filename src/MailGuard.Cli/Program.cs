using System.CommandLine;
using MailGuard.Parsing;

namespace MailGuard.Cli;

/// <summary>Entry point of <c>mgscan</c>.</summary>
public static class Program
{
    /// <summary>Exit codes, as grep and ripgrep use them.</summary>
    internal static class ExitCode
    {
        /// <summary>Entries were found.</summary>
        public const int Found = 0;

        /// <summary>The input held no selected entry.</summary>
        public const int NoneFound = 1;

        /// <summary>An input could not be read (the others were), or the command line is wrong.</summary>
        public const int Error = 2;

        /// <summary>The input held no netfilter LOG line at all: the report is a diagnosis (missing rules, the log elsewhere).</summary>
        public const int NoLogLines = 3;
    }

    /// <summary>Runs mgscan.</summary>
    /// <param name="args">The command line.</param>
    /// <returns>The exit code.</returns>
    public static int Main(string[] args)
    {
        var stderr = new TerminalWriter(Console.Error);
        try
        {
            return Run(args, stderr);
        }
        catch (OutputException e)
        {
            stderr.WriteLine($"mgscan: cannot write the output: {e.Message}");
            return ExitCode.Error;
        }
        catch (Exception e)
        {
            return Crashed(e, stderr, Environment.GetEnvironmentVariable("MGSCAN_DEBUG") is { Length: > 0 } and not "0");
        }
    }

    /// <summary>An unexpected exception: one line with its type and message (the stack trace too with <paramref name="debug"/>), exit 2.</summary>
    internal static int Crashed(Exception e, TextWriter stderr, bool debug)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } or System.Reflection.TargetInvocationException { InnerException: not null })
        {
            e = e.InnerException!;
        }

        stderr.WriteLine($"mgscan: internal error: {e.GetType().Name}: {TerminalText.OneLine(e.Message)}{(debug ? "" : " (MGSCAN_DEBUG=1 shows where)")}");
        if (debug)
        {
            foreach (string line in e.ToString().Split('\n'))
            {
                stderr.WriteLine(line.TrimEnd('\r'));
            }
        }

        return ExitCode.Error;
    }

    private static int Run(string[] args, TextWriter stderr)
    {
        var files = new Argument<string[]>("files")
        {
            Arity = ArgumentArity.ZeroOrMore,
            Description = "Log files: kern.log, messages, syslog, their rotated .1 and .gz copies (read in time order, lines found in two files counted once), journalctl or dmesg output. '-': standard input; none: standard input when it is a pipe, else this machine's kernel log (kern.log, messages or the journal).",
        };
        var top = new Option<int>("--top", "-n")
        {
            Description = "Rows per table (any whole number from 1).",
            DefaultValueFactory = _ => 10,
            CustomParser = r => Options.TryTop(r.Tokens[^1].Value, out int n, out string? error) ? n : Options.Fail(r, error, 0),
        };
        var maxKeys = new Option<int>("--max-keys")
        {
            Description = "The most distinct keys (destinations, sources, users, names, minutes) counted exactly (a whole number from 64): past it mgscan counts into bounded summaries and marks the figures that are estimates, so memory stays flat on a stream that never ends.",
            DefaultValueFactory = _ => TrafficStatsOptions.DefaultKeyBudget,
            CustomParser = r => Options.TryMaxKeys(r.Tokens[^1].Value, out int n, out string? error) ? n : Options.Fail(r, error, 0),
            HelpName = "N",
        };
        var format = new Option<string>("--format", "-f")
        {
            Description = "Output: table (for the terminal), json (stable schema mailguard.report/1, see docs/report-json.md), csv, ndjson (one JSON object per entry as it is read, Elastic Common Schema names, for log shippers: docs/entries-ndjson.md) or prometheus (the text exposition format, for node_exporter's textfile collector: docs/prometheus.md).",
            DefaultValueFactory = _ => "table",
            HelpName = "table|json|csv|ndjson|prometheus",
            CustomParser = r => r.Tokens[^1].Value is "table" or "json" or "csv" or "ndjson" or "prometheus" ? r.Tokens[^1].Value : Options.Fail(r, $"--format: '{r.Tokens[^1].Value}' is not {Options.Accepts("--format")}", ""),
        };
        var prefix = new Option<string?>("--prefix")
        {
            Description = "Select entries whose log prefix matches this pattern instead of 'IPTABLES TCP-OUT #:' ('*' any text, '?' one character, '#' the rule's port).",
        };
        var all = new Option<bool>("--all")
        {
            Description = "Select every netfilter entry, whatever its prefix.",
        };
        var port = new Option<string[]>("--port", "-p")
        {
            Description = "Only entries to these destination ports: numbers or names, comma-separated or repeated (--port 25,587, --port smtp).",
            AllowMultipleArgumentsPerToken = false,
        };
        var since = new Option<string?>("--since")
        {
            Description = "Only entries at or after this time: '2026-11-23 02:00', '2026-11-23T02:00:00+01:00', '02:00' (today), 'yesterday', '-2h' (2 hours ago; also s, m, d). Times without an offset are local (TZ).",
        };
        var until = new Option<string?>("--until")
        {
            Description = "Only entries at or before this time (same forms as --since).",
        };
        var passwd = new Option<string?>("--passwd")
        {
            Description = "Read user names from this passwd file (another machine's /etc/passwd) instead of /etc/passwd.",
        };
        var mailPorts = new Option<string[]>("--mail-ports")
        {
            Description = "The ports the verdict counts as mail (default 25,465,587,2525): numbers or names, comma-separated.",
        };
        var set = new Option<string[]>("--set")
        {
            Description = "Change a verdict threshold, e.g. --set direct-min-destinations=100 (names and defaults: docs/verdict.md).",
        };
        var list = new Option<bool>("--list")
        {
            Description = "Print one line per selected entry instead of the report.",
        };
        var interval = new Option<string?>("--interval")
        {
            Description = "With --format json: while a stream is read (journalctl -k -f | mgscan), a report of what was read so far this often (1s, 10s, 1m), one JSON document per line; the final report comes last.",
            HelpName = "DURATION",
        };
        var follow = new Option<bool>("--follow", "-F")
        {
            Description = "Follow the named files as tail -F does: what is there, then what is appended, across logrotate's rename-and-create and copytruncate; Ctrl+C or SIGTERM prints the report (with --interval, one per interval).",
        };
        var state = new Option<string?>("--state")
        {
            Description = "Remember in FILE how far each named file was read, and read only what is new since the last run that used it: across logrotate's rename-and-create (the rest of kern.log.1 or kern.log.2.gz is read first) and copytruncate. For cron jobs; with --follow, a stopped follow resumes where it stopped.",
            HelpName = "FILE",
        };
        var noJoin = new Option<bool>("--no-join")
        {
            Description = "Read no file as an application log: Postfix, Exim, V2Ray/Xray, shadowsocks and PHP logs among the files (and their lines in a syslog) are then not joined with the attempts (docs/attribution.md).",
        };
        var noLive = new Option<bool>("--no-live")
        {
            Description = "No live view: on a stream read at a terminal (journalctl -k -f | mgscan, --follow) mgscan shows a screen updated every second, then the report; with this only the report.",
        };
        var root = new RootCommand("""
            mgscan: find who sends the outgoing mail traffic that your iptables/nftables LOG rules recorded.

            Reads netfilter LOG lines (prefix 'IPTABLES TCP-OUT <port>:' by default) from syslog files, the
            journal or dmesg, says who sent the traffic and what pattern it follows (a verdict with the
            commands that stop it), and reports per local user (UID), source, port and destination.
            Examples:
              mgscan /var/log/kern.log --top 20
              mgscan /var/log/kern.log* /var/log/syslog*      (rotated and .gz files; overlaps counted once)
              journalctl -k -f | mgscan                       (a live view, updated every second; Ctrl+C prints the report)
              mgscan /var/log/messages --since -2h --port 25 --format json
              journalctl -k -f | mgscan --format json --interval 10s   (a report every 10 s, one per line)
              mgscan --follow /var/log/kern.log --list        (each entry as it is logged, across rotation)
              mgscan --state /var/lib/mgscan/state /var/log/kern.log   (only what is new since the last run: cron)
              mgscan serve --listen 127.0.0.1:9329 --follow /var/log/kern.log   (Prometheus metrics on /metrics)

            Exit status: 0 entries found, 1 no entry found, 3 no netfilter LOG line at all (a diagnosis), 2 an input
            could not be read, a wrong option, the output could not be written, or an internal error (MGSCAN_DEBUG=1
            prints its stack trace).
            """)
        {
            files,
            top,
            maxKeys,
            format,
        };
        var listen = new Option<string>("--listen")
        {
            Description = "Where to serve /metrics: an IP address and a port (127.0.0.1:9329, [::1]:9329). Keep it on loopback or a private network: the figures name users and addresses.",
            Required = true,
            HelpName = "HOST:PORT",
        };
        var serve = new Command("serve", """
            Read or follow the log as a live scan does and serve its figures on GET /metrics in Prometheus's text exposition
            format (docs/prometheus.md), renewed every second; stops on SIGTERM or Ctrl+C (exit 0).
            Example: mgscan serve --listen 127.0.0.1:9329 --follow /var/log/kern.log
            """)
        {
            listen,
            files,
            top,
            maxKeys,
        };
        // The selection and the verdict's settings are the same for a report and for serve (an option may have two parents).
        foreach (Option shared in new Option[] { prefix, all, port, since, until, passwd, mailPorts, set })
        {
            root.Options.Add(shared);
            serve.Options.Add(shared);
        }

        foreach (Option reportOnly in new Option[] { list, interval, follow, state, noLive, noJoin })
        {
            root.Options.Add(reportOnly);
        }

        serve.Options.Add(follow);
        root.Subcommands.Add(RulesCommand.Create(stderr));
        root.Subcommands.Add(serve);
        root.SetAction((result, ct) => Act(result, ct, serving: false));
        serve.SetAction((result, ct) => Act(result, ct, serving: true));
        async Task<int> Act(ParseResult result, CancellationToken ct, bool serving)
        {
            System.Net.IPEndPoint? endPoint = null;
            if (serving && !Options.TryListen(result.GetValue(listen)!, out endPoint, out string? listenError))
            {
                stderr.WriteLine($"mgscan: {listenError}");
                return ExitCode.Error;
            }

            DateTimeOffset now = DateTimeOffset.Now;
            if (!Options.TryPorts("--port", result.GetValue(port), out ushort[]? ports, out string? error)
                || !Options.TryTime("--since", result.GetValue(since), now, out DateTimeOffset? from, out error)
                || !Options.TryTime("--until", result.GetValue(until), now, out DateTimeOffset? to, out error)
                || !Options.TryPorts("--mail-ports", result.GetValue(mailPorts), out ushort[]? mail, out error)
                || !Options.TryThresholds(result.GetValue(set), out Dictionary<string, double> thresholds, out error)
                || !Options.TryInterval((serving ? null : result.GetValue(interval)), out TimeSpan? every, out error))
            {
                stderr.WriteLine($"mgscan: {error}");
                return ExitCode.Error;
            }

            if (from > to)
            {
                stderr.WriteLine("mgscan: --since is after --until");
                return ExitCode.Error;
            }

            if (every is not null && ((serving ? "prometheus" : result.GetValue(format)) != "json" || (!serving && result.GetValue(list))))
            {
                stderr.WriteLine("mgscan: --interval: works with --format json (one report per line), not with --list or another format");
                return ExitCode.Error;
            }

            string[] named = result.GetValue(files) ?? [];
            if (result.GetValue(follow) && (named.Length == 0 || named.Contains("-")))
            {
                stderr.WriteLine("mgscan: --follow: name the files to follow (a stream needs nothing: journalctl -k -f | mgscan)");
                return ExitCode.Error;
            }

            string root = Environment.GetEnvironmentVariable("MGSCAN_ROOT") is { Length: > 0 } r ? r : "/";
            MachineLogs? machine = named.Length == 0 && !Console.IsInputRedirected ? MachineLogs.Find(root) : null; // a terminal: read this machine's log
            ReadState? readState = null;
            if ((serving ? null : result.GetValue(state)) is { } stateFile)
            {
                if (named.Contains("-") || (named.Length == 0 && machine is null))
                {
                    stderr.WriteLine("mgscan: --state: name the log files (a stream has no place to resume from; the journal keeps its own: journalctl -k --cursor-file=FILE | mgscan)");
                    return ExitCode.Error;
                }

                if (machine is { Files.Count: 0 })
                {
                    stderr.WriteLine("mgscan: --state: this system's kernel log is the journal, which keeps its own place: journalctl -k --cursor-file=/var/lib/mgscan/cursor | mgscan");
                    return ExitCode.Error;
                }

                try
                {
                    readState = ReadState.Load(stateFile);
                }
                catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
                {
                    stderr.WriteLine($"mgscan: --state: {e.Message} (delete it to read every file from its start)");
                    return ExitCode.Error;
                }
            }

            var settings = new ScanSettings
            {
                Inputs = named.Length > 0 ? named : ["-"],
                Machine = machine,
                Root = root,
                Filter = result.GetValue(all) ? PrefixFilter.All
                    : result.GetValue(prefix) is { Length: > 0 } p ? PrefixFilter.Pattern(p)
                    : PrefixFilter.TcpOut,
                Format = (serving ? "prometheus" : result.GetValue(format))!,
                Top = result.GetValue(top),
                MaxKeys = result.GetValue(maxKeys),
                List = (!serving && result.GetValue(list)),
                Interval = every,
                Follow = result.GetValue(follow),
                StateFile = (serving ? null : result.GetValue(state)),
                State = readState,
                Live = !(serving || result.GetValue(noLive)),
                Join = !result.GetValue(noJoin),
                Ports = ports,
                Since = from,
                Until = to,
                Passwd = result.GetValue(passwd),
                MailPorts = mail,
                Thresholds = thresholds,
            };
            using CancellationTokenSource signals = Scan.CancelOnSignals();
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, signals.Token);
            // A followed file ends on a signal (what is written is read, then the report: the state moves to the end);
            // anything else is cancelled by it, and the report covers what was read.
            return await Scan.RunAsync(settings with { Listen = endPoint }, stderr, settings.Follow ? ct : linked.Token, signals.Token).ConfigureAwait(false);
        }

        // No response files: a log named @something is a file, not a list of options.
        ParseResult parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Action is not { ClearsParseErrors: true } && Options.CommandLineError(parsed, files) is { } wrong) // --help and --version win
        {
            stderr.WriteLine($"mgscan: {wrong}");
            return ExitCode.Error;
        }

        // Our own Ctrl+C/SIGTERM handling prints the report and exits 0; System.CommandLine's would exit 130/143.
        // Exceptions reach Main, which prints one line and exits 2 (the default handler prints a trace and exits 1, "none found").
        return parsed.Invoke(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false });
    }
}
