using System.Diagnostics;
using System.Text;
using MailGuard.Parsing.AppLogs;

namespace MailGuard.Parsing;

/// <summary>
/// The whole job in one call: reads log files, streams or standard input and counts the selected netfilter entries.
/// It picks the strategy itself — a large uncompressed file on all cores, compression by content, several inputs
/// merged in time order with overlaps counted once, the year of year-less stamps from each file's modification time,
/// the local zone — and returns a <see cref="MailScanReport"/>.
/// </summary>
/// <example>
/// <code>
/// MailScanReport report = await MailScan.FilesAsync(["/var/log/kern.log", "/var/log/kern.log.1"]);
/// Console.WriteLine($"{report.Totals.Entries:N0} entries, {report.All.DistinctDestinations:N0} destinations");
/// foreach ((uint uid, KeyStat stat) in report.Uids.Top(10))
///     Console.WriteLine($"uid {uid}: {stat.Attempts:N0} attempts");
/// </code>
/// </example>
public static class MailScan
{
    /// <summary>Below this a file is read on one core: the cut and the merge would cost more than they save.</summary>
    private const long ParallelFrom = 16L << 20;

    /// <summary>Scans log files (rotated, compressed or not) as one log.</summary>
    /// <param name="paths">The files, in any order.</param>
    /// <param name="options">Settings; defaults when null.</param>
    /// <param name="cancellationToken">Stops the scan; the report then covers what was read.</param>
    /// <returns>The report.</returns>
    public static Task<MailScanReport> FilesAsync(IEnumerable<string> paths, MailScanOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        return ScanAsync([.. paths.Select(MailInput.File)], options, cancellationToken);
    }

    /// <summary>Scans one stream (compression detected by content) until its end.</summary>
    /// <param name="stream">The log text; disposed by the scan.</param>
    /// <param name="options">Settings; defaults when null.</param>
    /// <param name="cancellationToken">Stops the scan; the report then covers what was read.</param>
    /// <returns>The report.</returns>
    public static Task<MailScanReport> StreamAsync(Stream stream, MailScanOptions? options = null, CancellationToken cancellationToken = default) =>
        ScanAsync([MailInput.Stream("stream", stream)], options, cancellationToken);

    /// <summary>Scans files and streams as one log (see <see cref="MailScan"/>).</summary>
    /// <param name="inputs">What to read.</param>
    /// <param name="options">Settings; defaults when null.</param>
    /// <param name="cancellationToken">Stops the scan, also a read that waits on a silent pipe; the report then covers what was read.</param>
    /// <returns>The report; <see cref="MailScanReport.Inputs"/> says what could not be read.</returns>
    public static async Task<MailScanReport> ScanAsync(IReadOnlyList<MailInput> inputs, MailScanOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        options ??= new MailScanOptions();
        if (options.JoinApplicationLogs && options.AttemptListener is null && ApplicationLogs(inputs, options) is { } apps)
        {
            return await WithJoinAsync(inputs, apps, options, cancellationToken).ConfigureAwait(false);
        }

        DateTimeOffset now = DateTimeOffset.UtcNow;
        var results = new MailInputResult[inputs.Count];
        var opened = new List<(int Index, LogInput Input)>(inputs.Count);
        try
        {
            for (int i = 0; i < inputs.Count; i++)
            {
                MailInput input = inputs[i];
                try
                {
                    Stream stream = input.Open();
                    DateTimeOffset reference = options.ReferenceTime ?? input.WrittenUpTo ?? (input.Path is { } path && stream.CanSeek ? File.GetLastWriteTimeUtc(path) : now);
                    opened.Add((i, new LogInput(input.Name, LogScanner.OpenMaybeGzip(stream), reference)));
                    results[i] = new MailInputResult(input.Name, null, Opened: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    results[i] = new MailInputResult(input.Name, e, Opened: false);
                }
            }

            var stats = new TrafficStats(options.Stats) { AttemptListener = options.AttemptListener };
            if (opened.Count < inputs.Count && options.RequireEveryInput)
            {
                return new MailScanReport(options, stats, new ScanTotals(), results, cancelled: false); // an input that is missing may hold the evidence
            }

            ScanTotals totals;
            if (opened.Count == 1 && inputs[opened[0].Index] is { Path: { } file } && ReadsInParallel(file, options))
            {
                await opened[0].Input.Stream.DisposeAsync().ConfigureAwait(false);
                opened.Clear();
                (stats, totals) = await Task.Run(() => InParallel(file, options, stats.Options, cancellationToken), CancellationToken.None).ConfigureAwait(false);
            }
            else if (opened.Count == inputs.Count && options.OnEntry is null && options.OnSnapshot is null && options.Waiting is null && Cores(options) >= 2
                && inputs.All(static i => i.Path is not null) && RotationChain.Plan([.. inputs.Select(static i => i.Path!)], options) is { } chain)
            {
                // One log cut by logrotate: its files one after the other are the log as written; read as one stream on every core.
                var ordered = chain.Oldest.Select(link => opened[link.Input].Input).ToList();
                var text = new ConcatStream(ordered);
                Exception? error;
                (totals, error) = await StreamBlocks.ScanParallelAsync(text, options.Scanner(chain.Reference), stats, Cores(options), cancellationToken).ConfigureAwait(false);
                totals.Bytes -= text.AddedLineEnds;
                foreach (RotationChain.Link link in chain.Oldest)
                {
                    totals.FormatMask |= link.Format >= 0 ? 1UL << link.Format : 0; // each file's first line, as the merge notes it
                }

                ordered[^1].Error ??= error;
            }
            else if (opened.Count == 1 && options.OnEntry is null && options.OnSnapshot is null && options.Waiting is null)
            {
                // One input that is not cut in advance (a pipe, standard input, compressed text, a small file): read in
                // blocks, the lines that cannot be entries passed over in one vectorised search per block, parsed on every
                // core and counted in order.
                LogInput input = opened[0].Input;
                LogScannerOptions scannerOptions = options.Scanner(input.ReferenceTime ?? now);
                Exception? error;
                if (Cores(options) >= 2)
                {
                    (totals, error) = await StreamBlocks.ScanParallelAsync(input.Stream, scannerOptions, stats, Cores(options), cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    var scanner = new LogScanner(scannerOptions);
                    (_, error) = await StreamBlocks.ScanAsync(input.Stream, scanner, new TrafficStatsSink(stats), cancellationToken).ConfigureAwait(false);
                    totals = scanner.Totals;
                }

                input.Error ??= error;
            }
            else if (opened.Count >= 2 && options.OnEntry is null && options.OnSnapshot is null && options.Waiting is null && Cores(options) >= 2)
            {
                // Different logs (kern.log with syslog, several hosts' files): each read in blocks parsed on every core, the
                // lines merged in time order and the duplicates told apart on one thread.
                totals = await StreamBlocks.MergeAsync([.. opened.Select(static o => o.Input)], options.Scanner(now), stats, Cores(options), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // Entries or snapshots in order while reading, a live stream, or one core: line by line on this thread.
                var snapshots = options.OnSnapshot is null ? null : new Snapshots(options, results);
                LogScanner? scanner = null;
                TrafficStats live = stats;
                scanner = new LogScanner(options.Scanner(now) with { Filled = snapshots is null ? null : () => snapshots.Tick(live, scanner!.Totals) });
                var sink = new ScanSink(new TrafficStatsSink(stats), options.OnEntry);
                await scanner.ScanAsync([.. opened.Select(o => o.Input)], sink, cancellationToken).ConfigureAwait(false);
                totals = scanner.Totals;
            }

            foreach ((int index, LogInput input) in opened)
            {
                if (input.Error is { } error)
                {
                    results[index] = results[index] with { Error = error };
                }
            }

            return new MailScanReport(options, stats, totals, results, cancellationToken.IsCancellationRequested);
        }
        finally
        {
            foreach ((int _, LogInput input) in opened)
            {
                await input.Stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>The inputs that are application logs (files only: recognised by their first lines), or null when none is.</summary>
    private static List<(int Index, InputContent Content, AppProgram Program)>? ApplicationLogs(IReadOnlyList<MailInput> inputs, MailScanOptions options)
    {
        List<(int, InputContent, AppProgram)>? apps = null;
        for (int i = 0; i < inputs.Count; i++)
        {
            if (inputs[i].Path is { } path && AppLogSniffer.Sniff(path, options, out AppProgram program) is var content and not InputContent.Kernel)
            {
                (apps ??= []).Add((i, content, program));
            }
        }

        return apps;
    }

    /// <summary>
    /// Scans the kernel logs among <paramref name="inputs"/> with every new attempt handed, in order, to the join with
    /// the application logs, which are read alongside as the kernel's time advances.
    /// </summary>
    private static async Task<MailScanReport> WithJoinAsync(IReadOnlyList<MailInput> inputs, List<(int Index, InputContent Content, AppProgram Program)> apps, MailScanOptions options, CancellationToken cancellationToken)
    {
        var readers = new List<AppLogReader>(apps.Count);
        var results = new MailInputResult?[inputs.Count];
        var kernel = new List<(int Index, MailInput Input)>(inputs.Count);
        for (int i = 0, a = 0; i < inputs.Count; i++)
        {
            bool isApp = a < apps.Count && apps[a].Index == i;
            if (!isApp || apps[a].Content == InputContent.Both)
            {
                kernel.Add((i, inputs[i]));
            }

            if (!isApp)
            {
                continue;
            }

            MailInput input = inputs[i];
            try
            {
                Stream raw = input.Open();
                DateTimeOffset reference = options.ReferenceTime ?? File.GetLastWriteTimeUtc(input.Path!);
                var parser = new AppLineParser(new EnvelopeOptions { TimeZone = options.TimeZone, ReferenceTime = reference });
                readers.Add(new AppLogReader(input.Name, raw, parser, i) { Program = apps[a].Program });
                results[i] ??= new MailInputResult(input.Name, null, Opened: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                results[i] = new MailInputResult(input.Name, e, Opened: false);
            }

            a++;
        }

        using var join = new AttemptJoin(readers, options.TraceJoin);
        MailScanReport scanned = await ScanAsync([.. kernel.Select(static k => k.Input)], options with { AttemptListener = join }, cancellationToken).ConfigureAwait(false);
        for (int k = 0; k < kernel.Count; k++)
        {
            MailInputResult r = scanned.Inputs[k];
            results[kernel[k].Index] = results[kernel[k].Index] is { Error: { } appError } ? r with { Error = r.Error ?? appError } : r;
        }

        bool cancelled = cancellationToken.IsCancellationRequested;
        Attribution attribution = await Task.Run(() => join.Finish(complete: !cancelled), CancellationToken.None).ConfigureAwait(false);
        // attribution.Logs is in the inputs' order, as readers is: the same input may be named twice.
        for (int l = 0; l < readers.Count; l++)
        {
            int index = readers[l].Order;
            if (attribution.Logs[l].Error is { } error && results[index] is { } r)
            {
                results[index] = r with { Error = r.Error ?? error };
            }
        }

        return new MailScanReport(options, scanned.Stats, scanned.Totals, [.. results.Select(static r => r!)], cancelled, attribution);
    }

    /// <summary>A large, regular, uncompressed file, when nothing needs its entries in order: read in chunks on all cores.</summary>
    private static bool ReadsInParallel(string path, MailScanOptions options)
    {
        if (Cores(options) < 2 || options.OnEntry is not null || options.OnSnapshot is not null || options.AttemptListener is not null)
        {
            return false; // chunks are counted apart: no order for entries, snapshots or the join
        }

        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length < ParallelFrom)
            {
                return false;
            }

            using FileStream f = info.OpenRead();
            Span<byte> start = stackalloc byte[10];
            int n = f.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
            return LogScanner.DetectCompression(start[..n]) == CompressionFormat.None; // compressed data cannot be cut
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // the ordinary path says why
        }
    }

    private static (TrafficStats Stats, ScanTotals Totals) InParallel(string path, MailScanOptions options, TrafficStatsOptions statsOptions, CancellationToken cancellationToken)
    {
        DateTimeOffset reference = options.ReferenceTime ?? File.GetLastWriteTimeUtc(path);
        IReadOnlyList<ChunkResult<TrafficStatsSink>> chunks = ParallelScan.File(
            path, () => new TrafficStatsSink(new TrafficStats(statsOptions)), options.Scanner(reference), options.Parallelism, options.RetryWindow, cancellationToken);
        return Merge(chunks);
    }

    private static int Cores(MailScanOptions options) => options.Parallelism > 0 ? options.Parallelism : Environment.ProcessorCount;

    /// <summary>The chunks' statistics and totals, summed.</summary>
    private static (TrafficStats Stats, ScanTotals Totals) Merge(IReadOnlyList<ChunkResult<TrafficStatsSink>> chunks)
    {
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

    /// <summary>The statistics, and for <see cref="MailScanOptions.OnEntry"/> each entry handed on.</summary>
    private readonly struct ScanSink(TrafficStatsSink stats, Action<MailEntry>? onEntry) : ILogSink
    {
        public void OnLine(LineKind kind, ref LogRecord record)
        {
            stats.OnLine(kind, ref record);
            if (kind == LineKind.Entry && onEntry is not null)
            {
                onEntry(Entry(ref record));
            }
        }

        private static MailEntry Entry(ref LogRecord r)
        {
            ref readonly NetfilterEntry e = ref r.Entry;
            ReadOnlySpan<byte> msg = r.Message;
            return new MailEntry(
                r.Envelope.Time, r.Envelope.Uptime, Encoding.UTF8.GetString(r.Envelope.Host), Encoding.UTF8.GetString(r.Prefix), r.RulePort,
                Encoding.UTF8.GetString(e.In.Slice(msg)), Encoding.UTF8.GetString(e.Out.Slice(msg)), e.Src, e.Dst, e.Spt, e.Dpt,
                e.Has(NetfilterFields.Uid) ? e.Uid : null, e.Has(NetfilterFields.Gid) ? e.Gid : null, r.Copies, e.Packet.Proto);
        }
    }

    /// <summary>Makes a report of what was read so far, at most once per <see cref="MailScanOptions.SnapshotInterval"/>.</summary>
    private sealed class Snapshots(MailScanOptions options, MailInputResult[] inputs)
    {
        private long _last = Stopwatch.GetTimestamp();

        public void Tick(TrafficStats stats, ScanTotals totals)
        {
            if (Stopwatch.GetElapsedTime(_last) < options.SnapshotInterval)
            {
                return;
            }

            _last = Stopwatch.GetTimestamp();
            var copy = new TrafficStats(stats.Options);
            copy.Merge(stats);
            options.OnSnapshot!(new MailScanReport(options, copy, totals, [.. inputs], cancelled: false));
        }
    }
}
