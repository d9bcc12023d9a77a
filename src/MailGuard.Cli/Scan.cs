using System.Globalization;
using System.Runtime.InteropServices;
using MailGuard.Parsing;

namespace MailGuard.Cli;

/// <summary>Reads every input through one <see cref="LogScanner"/> into one <see cref="TrafficStats"/> and renders the report.</summary>
internal static class Scan
{
    private readonly struct StatsSink(TrafficStats stats, TextWriter? list) : ILogSink
    {
        public void OnLine(LineKind kind, ref LogRecord record)
        {
            if (kind != LineKind.Entry)
            {
                return;
            }

            stats.Add(ref record);
            if (list is not null)
            {
                for (int i = 0; i < record.Copies; i++)
                {
                    Print(list, ref record);
                }
            }
        }

        private static void Print(TextWriter w, ref LogRecord r)
        {
            var ci = CultureInfo.InvariantCulture;
            string time = r.Envelope.Time is { } t ? t.ToString("yyyy-MM-dd HH:mm:ss", ci)
                : r.Envelope.Uptime is { } u ? string.Create(ci, $"+{u.TotalSeconds:F6}s") : "-";
            string uid = r.Entry.Has(NetfilterFields.Uid) ? r.Entry.Uid.ToString(ci) : "-";
            string dst = r.Entry.Dst.IsIPv6 ? $"[{r.Entry.Dst}]" : r.Entry.Dst.ToString();
            w.WriteLine(string.Create(ci, $"{time}  uid={uid,-6} {r.Entry.Src} -> {dst}:{r.Entry.Dpt}  rule={r.RulePort}"));
        }
    }

    public static async Task<int> RunAsync(string[] inputs, PrefixFilter filter, string format, int top, bool list, TextWriter stderr, CancellationToken ct)
    {
        var stats = new TrafficStats();
        var scanner = new LogScanner(new LogScannerOptions { Parser = new LogLineParserOptions { Filter = filter } });
        Stream stdout = Console.OpenStandardOutput();
        var outWriter = new StreamWriter(stdout, Report.Utf8, 1 << 16);
        bool failed = false;
        try
        {
            foreach (string input in inputs)
            {
                if (ct.IsCancellationRequested)
                {
                    break;
                }

                Stream raw;
                try
                {
                    raw = input == "-" ? Console.OpenStandardInput() : new FileStream(input, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    stderr.WriteLine($"mgscan: {input}: {Reason(e)}");
                    failed = true;
                    continue;
                }

                try
                {
                    using Stream s = LogScanner.OpenMaybeGzip(raw);
                    await scanner.ScanAsync(s, new StatsSink(stats, list ? outWriter : null), ct).ConfigureAwait(false);
                }
                catch (InvalidDataException e)
                {
                    stderr.WriteLine($"mgscan: {input}: {e.Message} (the entries read before are kept)");
                    failed = true;
                }
                catch (IOException e) when (!IsBrokenPipe(e))
                {
                    stderr.WriteLine($"mgscan: {input}: {e.Message}");
                    failed = true;
                }
            }

            if (!list)
            {
                switch (format)
                {
                    case "json":
                        await outWriter.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                        Report.Json(stdout, stats, scanner.Totals, top);
                        break;
                    case "csv":
                        Report.Csv(outWriter, stats, top);
                        break;
                    default:
                        Report.Table(outWriter, stats, scanner.Totals, top);
                        break;
                }
            }
            else
            {
                stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mgscan: {scanner.Totals.Lines:N0} lines, {scanner.Totals.Entries:N0} entries, {scanner.Totals.OtherPrefix:N0} other netfilter entries, {scanner.Totals.Malformed:N0} malformed"));
            }

            await outWriter.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (IOException e) when (IsBrokenPipe(e))
        {
            return Program.ExitCode.Found; // mgscan … | head: a closed pipe ends quietly
        }

        return failed ? Program.ExitCode.Error : scanner.Totals.Entries > 0 ? Program.ExitCode.Found : Program.ExitCode.NoneFound;
    }

    private static bool IsBrokenPipe(IOException e) => e.HResult == 32 || e.Message.Contains("pipe", StringComparison.OrdinalIgnoreCase);

    private static string Reason(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => "no such file",
        UnauthorizedAccessException => "permission denied (system logs are readable by root and members of the 'adm' group: sudo mgscan …, or sudo usermod -aG adm $USER)",
        _ => e.Message,
    };

    public static CancellationTokenSource CancelOnSignals()
    {
        var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true; // report what was read, then exit normally
            cts.Cancel();
        };
        if (!OperatingSystem.IsWindows())
        {
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
            {
                c.Cancel = true;
                cts.Cancel();
            });
        }

        return cts;
    }
}
