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

    /// <summary>The library's sink, and for --list each entry printed.</summary>
    private readonly struct StatsSink(TrafficStats stats, TextWriter? list) : ILogSink
    {
        private readonly TrafficStatsSink _inner = new(stats);

        public TrafficStats Stats => stats;

        public void OnLine(LineKind kind, ref LogRecord record)
        {
            _inner.OnLine(kind, ref record);
            if (kind == LineKind.Entry && list is not null)
            {
                Print(list, ref record);
            }
        }

        private static void Print(TextWriter w, ref LogRecord r)
        {
            var ci = CultureInfo.InvariantCulture;
            string time = r.Envelope.Time is { } t ? t.ToString("yyyy-MM-dd HH:mm:ss", ci)
                : r.Envelope.Uptime is { } u ? string.Create(ci, $"+{u.TotalSeconds:F6}s") : "-";
            string uid = r.Entry.Has(NetfilterFields.Uid) ? r.Entry.Uid.ToString(ci) : "-";
            string dst = r.Entry.Dst.IsIPv6 ? $"[{r.Entry.Dst}]" : r.Entry.Dst.ToString();
            string copies = r.Copies > 1 ? string.Create(ci, $"  x{r.Copies:N0} (a repeat notice)") : "";
            w.WriteLine(string.Create(ci, $"{time}  uid={uid,-6} {r.Entry.Src} -> {dst}:{r.Entry.Dpt}  rule={r.RulePort}{copies}"));
        }
    }

    public static async Task<int> RunAsync(ScanSettings settings, TextWriter stderr, CancellationToken ct)
    {
        var stats = new TrafficStats();
        Stream stdout = new OutputStream(StandardStream(1, FileAccess.Write));
        var outWriter = new TerminalWriter(new StreamWriter(stdout, Report.Utf8, 1 << 16));
        var parser = new LogLineParserOptions
        {
            SkipOtherLines = true, // the report needs entries only
            LeanEntries = true, // and of them only addresses, ports, UID/GID, interfaces and prefix
            Filter = settings.Filter,
            Ports = settings.Ports,
            Since = settings.Since,
            Until = settings.Until,
            MailPorts = settings.MailPorts ?? new VerdictOptions().MailPorts,
            Envelope = new EnvelopeOptions { AssumedOffset = TimeZoneInfo.Local.GetUtcOffset(DateTime.UtcNow) },
        };
        var scanner = new LogScanner(new LogScannerOptions
        {
            Waiting = settings.List ? outWriter.Flush : null, // --list on a live stream shows each entry as it comes
            Parser = parser,
        });
        ScanTotals totals = scanner.Totals;
        bool failed = false;
        bool noLogLines = false;
        long analysed = -1; // entries the verdict was reached on (other prefixes' when the selection logged none)
        var inputs = new List<LogInput>();
        try
        {
            if (ParallelCandidate(settings) is { } big)
            {
                try
                {
                    (stats, totals) = ScanInParallel(big, parser, ct);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    stderr.WriteLine($"mgscan: {big}: {Reason(e)}");
                    failed = true;
                }
            }
            else
            {
                if (settings.Machine is { } machine)
                {
                    if (machine.Files.Count > 0)
                    {
                        settings = settings with { Inputs = [.. machine.Files] };
                    }
                    else
                    {
                        inputs.Add(new LogInput("journal", LogScanner.OpenMaybeGzip(machine.OpenJournal())));
                        settings = settings with { Inputs = [] }; // not the terminal too
                    }
                }

                foreach (string name in settings.Inputs)
                {
                    if (Open(name, stderr) is { } input)
                    {
                        inputs.Add(input);
                    }
                    else
                    {
                        failed = true;
                    }
                }

                if (failed)
                {
                    // A named input that cannot be read never yields a verdict: it may hold the evidence.
                    if (settings.Inputs.Any(LooksLikeASystemLog))
                    {
                        stderr.WriteLine($"mgscan: {MachineLogs.Find(settings.Root).Instead()}");
                    }

                    stderr.WriteLine("mgscan: no report: an input could not be read");
                    return Program.ExitCode.Error;
                }

                await scanner.ScanAsync(inputs, new StatsSink(stats, settings.List ? outWriter : null), ct).ConfigureAwait(false);
            }

            foreach (LogInput input in inputs)
            {
                if (input.Error is CompressedDataException damaged)
                {
                    // The library says what and where; only a single input's entries are known apart.
                    string entries = inputs.Count == 1 ? string.Create(CultureInfo.InvariantCulture, $"the {totals.Entries:N0} entries") : "the entries";
                    stderr.WriteLine($"mgscan: {input.Name}: {damaged.Message}; {entries} in them are counted");
                    failed = true;
                }
                else if (input.Error is { } e && !(e is IOException io && IsBrokenPipe(io)))
                {
                    stderr.WriteLine($"mgscan: {input.Name}: {e.Message} (the entries read before are counted)");
                    failed = true;
                }
            }

            if (!settings.List)
            {
                IReadOnlyDictionary<uint, string> names = Names(settings.Passwd, stderr, ref failed);
                VerdictOptions options = settings.Verdict(names, Family(settings.Inputs, settings.Passwd is not null)) with
                {
                    // the logs are this machine's (no other machine's passwd given): the services running now are the candidates
                    ServicesByUid = settings.Passwd is null ? RunningServices.ByUid(settings.Root) : new Dictionary<uint, IReadOnlyList<string>>(),
                };
                SpamVerdict verdict = SpamVerdict.Analyze(stats, totals, options);
                noLogLines = verdict.Class == VerdictClass.NoLogLines;
                bool otherPrefixes = !ReferenceEquals(verdict.Stats, stats); // the selection logged nothing: other rules' mail traffic was analysed
                analysed = verdict.Stats.All.Count;
                stats = verdict.Stats;
                switch (settings.Format)
                {
                    case "json":
                        await outWriter.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                        Report.Json(stdout, stats, totals, settings.Top, verdict);
                        break;
                    case "csv":
                        Report.Csv(outWriter, stats, settings.Top);
                        break;
                    default:
                        if (settings.Machine is { } m)
                        {
                            outWriter.WriteLine(m.Files.Count > 0
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
                        Report.Table(outWriter, stats, totals, settings.Top, names, otherPrefixes);
                        break;
                }
            }
            else
            {
                noLogLines = totals.NetfilterLines == 0;
                await outWriter.FlushAsync(CancellationToken.None).ConfigureAwait(false); // the entries before their count (and a failed write before either)
                stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mgscan: {totals.Lines:N0} lines, {totals.Entries:N0} entries{Report.Skipped(totals)}"));
            }

            await outWriter.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (IOException e) when (IsBrokenPipe(e))
        {
            return Program.ExitCode.Found; // mgscan … | head: a closed pipe ends quietly
        }
        finally
        {
            foreach (LogInput input in inputs)
            {
                await input.Stream.DisposeAsync().ConfigureAwait(false);
            }
        }

        return failed ? Program.ExitCode.Error : noLogLines ? Program.ExitCode.NoLogLines : (analysed >= 0 ? analysed : totals.Entries) > 0 ? Program.ExitCode.Found : Program.ExitCode.NoneFound;
    }

    /// <summary>A path that names a system log (kern.log, messages, syslog): when it is missing, say where the kernel's log is instead.</summary>
    private static bool LooksLikeASystemLog(string name) =>
        Path.GetFileName(name) is var f && (f.StartsWith("kern.log", StringComparison.Ordinal) || f.StartsWith("messages", StringComparison.Ordinal) || f.StartsWith("syslog", StringComparison.Ordinal));

    /// <summary>A single large, regular, uncompressed file (the report, not --list): read in parallel chunks on all cores.</summary>
    private static string? ParallelCandidate(ScanSettings settings)
    {
        if (settings.List || settings.Inputs is not [var name] || name == "-" || Environment.ProcessorCount < 2)
        {
            return null;
        }

        try
        {
            var info = new FileInfo(name);
            if (!info.Exists || info.Length < (16 << 20) || (info.Attributes & FileAttributes.Directory) != 0)
            {
                return null;
            }

            using FileStream f = info.OpenRead();
            Span<byte> start = stackalloc byte[10];
            int n = f.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
            return LogScanner.DetectCompression(start[..n]) != CompressionFormat.None ? null : name; // compressed data cannot be cut
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // the normal path reports it
        }
    }

    private static (TrafficStats Stats, ScanTotals Totals) ScanInParallel(string path, LogLineParserOptions parser, CancellationToken ct)
    {
        var options = new LogScannerOptions
        {
            Parser = parser with { Envelope = parser.Envelope with { ReferenceTime = File.GetLastWriteTimeUtc(path) } },
        };
        IReadOnlyList<ChunkResult<StatsSink>> chunks = ParallelScan.File(path, () => new StatsSink(new TrafficStats(), null), options, cancellationToken: ct);
        TrafficStats stats = chunks[0].Sink.Stats;
        var totals = new ScanTotals();
        totals.Add(chunks[0].Totals);
        for (int i = 1; i < chunks.Count; i++)
        {
            stats.Merge(chunks[i].Sink.Stats);
            totals.Add(chunks[i].Totals);
        }

        return (stats, totals);
    }

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
            stderr.WriteLine($"mgscan: {file}: {Reason(e)} (users are shown by number)");
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
    /// Standard input or output as a FileStream on the descriptor, not Console's stream: that one ignores a
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

    /// <summary>Opens one input (compression detected by content, on the first read); on failure prints one line naming it and the reason.</summary>
    private static LogInput? Open(string name, TextWriter stderr)
    {
        if (name == "-")
        {
            return new LogInput("-", LogScanner.OpenMaybeGzip(StandardStream(0, FileAccess.Read)));
        }

        FileStream? file = null;
        try
        {
            if (Directory.Exists(name))
            {
                stderr.WriteLine($"mgscan: {name}: is a directory (name the log files in it, e.g. {Path.Combine(name, "kern.log")}*)");
                return null;
            }

            file = new FileStream(name, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
            DateTimeOffset? written = file.CanSeek ? File.GetLastWriteTimeUtc(name) : null; // the year of year-less stamps
            return new LogInput(name, LogScanner.OpenMaybeGzip(file), written);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            file?.Dispose();
            stderr.WriteLine($"mgscan: {name}: {Reason(e)}");
            return null;
        }
    }

    internal static bool IsBrokenPipe(IOException e) => e.HResult == 32 || e.Message.Contains("pipe", StringComparison.OrdinalIgnoreCase);

    private static string Reason(Exception e) => e switch
    {
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
