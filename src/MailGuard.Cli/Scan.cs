using System.Globalization;
using System.Runtime.InteropServices;
using MailGuard.Analysis;
using MailGuard.Parsing;

namespace MailGuard.Cli;

/// <summary>Reads every input through one <see cref="LogScanner"/> into one <see cref="TrafficStats"/> and renders the report.</summary>
internal static class Scan
{
    private static PosixSignalRegistration? s_sigterm;
    private static PosixSignalRegistration? s_sigint;

    /// <summary>One --list line per entry (a repeat notice's entry once, with its count); the user's name as in the report: <c>uid=33(www-data)</c>.</summary>
    private static void Print(TextWriter w, MailEntry e, IReadOnlyDictionary<uint, string> names)
    {
        var ci = CultureInfo.InvariantCulture;
        string time = e.Time is { } t ? t.ToString("yyyy-MM-dd HH:mm:ss", ci)
            : e.Uptime is { } u ? string.Create(ci, $"+{u.TotalSeconds:F6}s") : "-";
        string uid = e.Uid is { } id ? (names.TryGetValue(id, out string? name) ? string.Create(ci, $"{id}({name})") : id.ToString(ci)) : "-";
        string dst = e.Dst.IsIPv6 ? $"[{e.Dst}]" : e.Dst.ToString();
        string copies = e.Copies > 1 ? string.Create(ci, $"  x{e.Copies:N0} (a repeat notice)") : "";
        w.WriteLine(string.Create(ci, $"{time}  uid={uid,-6} {e.Src} -> {dst}:{e.Dpt}  rule={e.RulePort}{copies}"));
    }

    public static async Task<int> RunAsync(ScanSettings settings, TextWriter stderr, CancellationToken ct, CancellationToken stop)
    {
        Stream stdout = new OutputStream(StandardStream(1, FileAccess.Write));
        var outWriter = new TerminalWriter(new StreamWriter(stdout, Report.Utf8, 1 << 16));
        // The verdict's settings before the scan: a snapshot (--interval) gives a verdict too.
        bool failed = false;
        IReadOnlyDictionary<uint, string> names = Names(settings.Passwd, stderr, ref failed);
        VerdictOptions verdictOptions = settings.Verdict(names, Family(settings.Inputs, settings.Passwd is not null)) with
        {
            // the logs are this machine's (no other machine's passwd given): the services running now are the candidates
            ServicesByUid = settings.Passwd is null && !settings.List && settings.Format != "ndjson" ? RunningServices.ByUid(settings.Root) : new Dictionary<uint, IReadOnlyList<string>>(),
        };
        bool entries = settings.List || settings.Format == "ndjson"; // one line per entry instead of the report
        using EntryJson? ndjson = settings.Format == "ndjson" ? new EntryJson(stdout, names) : null;
        MailScanOptions options = new()
        {
            Filter = settings.Filter,
            Ports = settings.Ports,
            Since = settings.Since,
            Until = settings.Until,
            MailPorts = settings.MailPorts ?? new VerdictOptions().MailPorts,
            OnEntry = ndjson is not null ? ndjson.Write : settings.List ? e => Print(outWriter, e, names) : null,
            Waiting = ndjson is not null ? ndjson.Flush : settings.List ? outWriter.Flush : null, // on a live stream each entry shows as it comes
            OnSnapshot = settings.Interval is null ? null : r => JsonLine(stdout, r, r.Verdict(verdictOptions), settings.Top),
            SnapshotInterval = settings.Interval ?? TimeSpan.FromSeconds(1),
            KeyBudget = settings.MaxKeys,
            JoinApplicationLogs = settings.Join,
        };

        MetricsServer? server = null;
        if (settings.Listen is { } listen)
        {
            try
            {
                server = MetricsServer.Start(listen);
            }
            catch (System.Net.Sockets.SocketException e)
            {
                stderr.WriteLine($"mgscan: --listen {listen}: {(e.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse ? "the address is in use (another mgscan serve or exporter on this port?)" : TerminalText.OneLine(e.Message))}");
                return Program.ExitCode.Error;
            }

            // Each snapshot (every second) is rendered here, on the scan's thread; the HTTP side only sends the latest bytes.
            options = options with { OnSnapshot = r => server.Publish(Prometheus.Render(r.Verdict(verdictOptions), r.Totals, settings.Top)) };
        }

        using MetricsServer? disposeServer = server;
        Task serving = server?.RunAsync(stop) ?? Task.CompletedTask;
        IReadOnlyList<MailInput> inputs = settings.Machine is { Files.Count: 0 } journal
            ? [MailInput.Stream("journal", journal.OpenJournal())]
            : settings.Follow ? [.. settings.Inputs.Select(name => MailInput.Follow(name, settings.State, stop))]
            : settings.State is { } state ? [.. (settings.Machine is { } machine ? [machine.Files[0]] : settings.Inputs).Select(name => MailInput.Resume(name, state))] // the rotated files are the resume's to find
            : [.. (settings.Machine?.Files ?? settings.Inputs).Select(name => name == "-" ? MailInput.StandardInput() : MailInput.File(name))];
        try
        {
            MailScanReport report = LiveView.Wanted(settings)
                ? await LiveView.RunAsync(stdout, LiveView.Source(settings), verdictOptions, onSnapshot => MailScan.ScanAsync(inputs, options with { OnSnapshot = onSnapshot }, ct)).ConfigureAwait(false)
                : await MailScan.ScanAsync(inputs, options, ct).ConfigureAwait(false);
            foreach (MailInputResult input in report.Inputs)
            {
                if (input.Error is null || (input.Error is IOException io && IsBrokenPipe(io)))
                {
                    continue;
                }

                failed = true;
                stderr.WriteLine(!input.Opened ? $"mgscan: {input.Name}: {Reason(input.Name, input.Error)}"
                    : input.Error is CompressedDataException damaged
                        ? $"mgscan: {input.Name}: {damaged.Message}; {(report.Inputs.Count == 1 ? string.Create(CultureInfo.InvariantCulture, $"the {report.Totals.Entries:N0} entries") : "the entries")} in them are counted"
                        : $"mgscan: {input.Name}: {input.Error.Message} (the entries read before are counted)");
            }

            foreach (ResumeResult lost in settings.State?.Results.Where(r => r.Kind == ResumeKind.NotFound) ?? [])
            {
                stderr.WriteLine($"mgscan: {lost.Path}: the place the last run stopped at is in no file here any more (rotated away and deleted, or the file was rewritten): read from its start; lines written in between are missing from this report");
            }

            if (report.Inputs.Any(i => !i.Opened))
            {
                // A named input that cannot be read never yields a verdict: it may hold the evidence.
                if (report.Inputs.Any(i => !i.Opened && LooksLikeASystemLog(i.Name)))
                {
                    stderr.WriteLine($"mgscan: {MachineLogs.Find(settings.Root).Instead()}");
                }

                stderr.WriteLine("mgscan: no report: an input could not be read");
                return Program.ExitCode.Error;
            }

            if (report.Attribution is { } appLogs && report.Totals.Lines == 0 && appLogs.Logs.Count == report.Inputs.Count)
            {
                // Application logs alone: the join has no attempt to explain, and no verdict can come from them.
                stderr.WriteLine($"mgscan: {TerminalText.Escape(string.Join(", ", appLogs.Logs.Select(l => l.Name)))}: application logs only; name the kernel log too (mgscan /var/log/kern.log {TerminalText.Escape(appLogs.Logs[0].Name)} …)");
                return Program.ExitCode.Error;
            }

            ScanTotals totals = report.Totals;
            bool noLogLines;
            long analysed;
            if (!entries)
            {
                SpamVerdict verdict = report.Verdict(verdictOptions);
                noLogLines = verdict.Class == VerdictClass.NoLogLines;
                TrafficStats stats = verdict.Stats; // the selection's, or other rules' mail traffic when the selection logged none
                bool otherPrefixes = !ReferenceEquals(stats, report.Stats);
                analysed = stats.All.Count;
                // Resumed where earlier runs stopped (which found the log): no LOG line in a few minutes' lines is no diagnosis.
                bool quietSinceLastRun = noLogLines && settings.State is { } resumed && resumed.Results is { Count: > 0 } results
                    && results.All(r => r.Kind is ResumeKind.Continued or ResumeKind.AfterRotation);
                noLogLines &= !quietSinceLastRun;
                if (server is not null)
                {
                    // The input is read to its end (or followed until the signal): the final figures are served until SIGTERM or Ctrl+C.
                    server.Publish(Prometheus.Render(verdict, totals, settings.Top));
                    try
                    {
                        await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                    }

                    await serving.ConfigureAwait(false);
                    return failed ? Program.ExitCode.Error : Program.ExitCode.Found;
                }

                switch (settings.Format)
                {
                    case "table" when quietSinceLastRun:
                        outWriter.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"Nothing logged since the last run: {totals.Lines:N0} new line{(totals.Lines == 1 ? "" : "s")}, no netfilter LOG line among them (state: {settings.StateFile})."));
                        break;
                    case "json" when settings.Interval is not null:
                        await outWriter.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                        JsonLine(stdout, report, verdict, settings.Top); // the last line: the final report
                        break;
                    case "json":
                        await outWriter.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                        Report.Json(stdout, stats, totals, settings.Top, verdict);
                        break;
                    case "prometheus":
                        await outWriter.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                        Prometheus.Write(stdout, verdict, totals, settings.Top);
                        break;
                    case "csv":
                        Report.Csv(outWriter, stats, settings.Top);
                        if (stats.Estimated)
                        {
                            // CSV has no place for a bound: say it where a person or a cron mail sees it
                            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                                $"mgscan: more distinct keys than --max-keys {stats.Estimates.KeyBudget:N0}: the counts are estimates; --format json gives the bound of each, a larger --max-keys exact figures"));
                        }

                        break;
                    default:
                        if (settings.Machine is { } m)
                        {
                            outWriter.WriteLine(m.Files.Count > 0 && settings.State is not null ? $"Read what is new in this machine's kernel log since the last run: {m.Files[0]}."
                                : m.Files.Count > 0
                                ? string.Create(CultureInfo.InvariantCulture, $"Read this machine's kernel log: {m.Files[0]}{(m.Files.Count > 1 ? $" and {m.Files.Count - 1} rotated file{(m.Files.Count == 2 ? "" : "s")}" : "")}.")
                                : "Read this machine's kernel log from the journal (journalctl _TRANSPORT=kernel -o json: every boot it keeps).");
                        }

                        if (verdict.Selection is { } selection)
                        {
                            foreach (string line in VerdictReport.Wrap(selection, 80))
                            {
                                outWriter.WriteLine(line);
                            }
                        }

                        VerdictReport.Table(outWriter, verdict, settings.Top);
                        outWriter.WriteLine();
                        // Several hosts: one passwd file cannot name their users (the verdict shows them by number too).
                        Report.Table(outWriter, stats, totals, settings.Top, verdict.Hosts.Count > 0 ? new Dictionary<uint, string>() : names, otherPrefixes);
                        break;
                }
            }
            else
            {
                noLogLines = totals.NetfilterLines == 0;
                analysed = totals.Entries;
                ndjson?.Flush();
                await outWriter.FlushAsync(CancellationToken.None).ConfigureAwait(false); // the entries before their count (and a failed write before either)
                stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mgscan: {totals.Lines:N0} lines, {totals.Entries:N0} entries{Report.Skipped(totals)}"));
            }

            await outWriter.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            if (settings.State is { } read && !SaveState(read, settings.StateFile!, stderr))
            {
                return Program.ExitCode.Error;
            }

            return failed ? Program.ExitCode.Error : noLogLines ? Program.ExitCode.NoLogLines : analysed > 0 ? Program.ExitCode.Found : Program.ExitCode.NoneFound;
        }
        catch (IOException e) when (IsBrokenPipe(e))
        {
            return Program.ExitCode.Found; // mgscan … | head: a closed pipe ends quietly
        }
    }

    /// <summary>Stores how far each input was read, once the report is out (a report that could not be written moves nothing).</summary>
    private static bool SaveState(ReadState state, string file, TextWriter stderr)
    {
        try
        {
            state.Save(file);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"mgscan: --state: {file}: {e.Message} (the next run reads these lines again)");
            return false;
        }
    }

    /// <summary>A report as one line of JSON (--interval), written at once.</summary>
    private static void JsonLine(Stream stdout, MailScanReport report, SpamVerdict verdict, int top)
    {
        Report.Json(stdout, verdict.Stats, report.Totals, top, verdict, indented: false); // ends with its newline
        stdout.Flush();
    }

    /// <summary>A path that names a system log (kern.log, messages, syslog): when it is missing, say where the kernel's log is instead.</summary>
    private static bool LooksLikeASystemLog(string name) =>
        Path.GetFileName(name) is var f && (f.StartsWith("kern.log", StringComparison.Ordinal) || f.StartsWith("messages", StringComparison.Ordinal) || f.StartsWith("syslog", StringComparison.Ordinal));

    /// <summary>User names from --passwd, or from /etc/passwd when it exists (the logs are this machine's).</summary>
    private static IReadOnlyDictionary<uint, string> Names(string? passwd, TextWriter stderr, ref bool failed)
    {
        string file = passwd ?? "/etc/passwd";
        try
        {
            return File.Exists(file) || passwd is not null ? UserNames.Parse(File.ReadAllText(file)) : new Dictionary<uint, string>();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"mgscan: {file}: {Reason(file, e)} (users are shown by number)");
            failed |= passwd is not null;
            return new Dictionary<uint, string>();
        }
    }

    /// <summary>The Linux family for the advice: from the log names (kern.log/syslog: Debian; messages: RHEL), else this machine's /etc/os-release.</summary>
    private static LinuxFamily Family(string[] inputs, bool foreign)
    {
        foreach (string input in inputs)
        {
            string name = Path.GetFileName(input);
            if (name.StartsWith("kern.log", StringComparison.Ordinal) || name.StartsWith("syslog", StringComparison.Ordinal))
            {
                return LinuxFamily.Debian;
            }

            if (name.StartsWith("messages", StringComparison.Ordinal))
            {
                return LinuxFamily.RedHat;
            }
        }

        try
        {
            string release = !foreign && File.Exists("/etc/os-release") ? File.ReadAllText("/etc/os-release") : "";
            return release.Contains("debian", StringComparison.OrdinalIgnoreCase) ? LinuxFamily.Debian
                : release.Contains("rhel", StringComparison.OrdinalIgnoreCase) || release.Contains("fedora", StringComparison.OrdinalIgnoreCase) ? LinuxFamily.RedHat
                : LinuxFamily.Unknown;
        }
        catch (IOException)
        {
            return LinuxFamily.Unknown;
        }
    }

    /// <summary>
    /// Standard output as a FileStream on the descriptor, not Console's stream: that one ignores a
    /// closed pipe (mgscan would read on for nothing after <c>| head</c> exits) and reads a pipe synchronously
    /// (so mgscan could not tell when a live stream is waiting, to flush --list output). Output to a regular file
    /// goes through Console's stream: a FileStream writes a seekable file at offsets of its own and leaves the
    /// descriptor's offset where it was, so <c>{ echo a; mgscan …; echo b; } > f</c> lost the report's start to "b".
    /// </summary>
    private static Stream StandardStream(int fd, FileAccess access)
    {
        if (OperatingSystem.IsWindows())
        {
            return fd == 0 ? Console.OpenStandardInput() : Console.OpenStandardOutput();
        }

        var stream = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: false), access, bufferSize: 0, isAsync: false);
        if (fd == 1 && stream.CanSeek)
        {
            stream.Dispose(); // not the descriptor
            return Console.OpenStandardOutput();
        }

        return stream;
    }

    internal static bool IsBrokenPipe(IOException e) => e.HResult == 32 || e.Message.Contains("pipe", StringComparison.OrdinalIgnoreCase);

    private static string Reason(string name, Exception e) => e switch
    {
        _ when Directory.Exists(name) => $"is a directory (name the log files in it, e.g. {Path.Combine(name, "kern.log")}*)",
        FileNotFoundException or DirectoryNotFoundException => "no such file",
        UnauthorizedAccessException => "permission denied (system logs are readable by root and members of the 'adm' group: sudo mgscan …, or sudo usermod -aG adm $USER)",
        _ => e.Message,
    };

    public static CancellationTokenSource CancelOnSignals()
    {
        var cts = new CancellationTokenSource();
        if (OperatingSystem.IsWindows())
        {
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true; // report what was read, then exit normally
                cts.Cancel();
            };
            return cts;
        }

        // One mechanism for both signals. Kept in static fields: a collected registration is unregistered
        // (SIGTERM would then exit 143). A shell starts background jobs with SIGINT ignored: kill -INT
        // does nothing to `mgscan … &` in a script, as for any program.
        s_sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
        s_sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
        return cts;

        void Cancel(PosixSignalContext c)
        {
            c.Cancel = true; // report what was read, then exit normally
            cts.Cancel();
        }
    }
}
