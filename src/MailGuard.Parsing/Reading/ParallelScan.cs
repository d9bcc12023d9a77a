using Microsoft.Win32.SafeHandles;

namespace MailGuard.Parsing;

/// <summary>What one chunk of a <see cref="ParallelScan"/> produced.</summary>
/// <typeparam name="TSink">The consumer type.</typeparam>
/// <param name="Sink">The chunk's consumer after its lines.</param>
/// <param name="Totals">The chunk's counts.</param>
public readonly record struct ChunkResult<TSink>(TSink Sink, ScanTotals Totals);

/// <summary>
/// Reads a large regular (uncompressed) file on all cores: the file is cut into one chunk per core at
/// line boundaries, each chunk is scanned by its own <see cref="LogScanner"/> into its own sink, and the
/// caller merges the sinks (e.g. <see cref="TrafficStats.Merge"/>) and totals (<see cref="ScanTotals.Add"/>).
/// </summary>
/// <remarks>
/// Each chunk first reads the end of the chunk before it — at least 32 MiB, and as much more (doubling,
/// up to 256 MiB) as it takes to cover the lead-in time (default 2 minutes, the default
/// <see cref="TrafficStatsOptions.RetryWindow"/>) when the lines carry times — and passes its entries as
/// <see cref="LineKind.Duplicate"/> (not to be counted): a sink that tracks flows
/// (<see cref="TrafficStats.Observe"/>) then knows the SYN retransmission series that cross the boundary.
/// A <c>last message repeated N times</c> opening a chunk is not tied to the entry before it. Standard input, pipes and gzip files cannot be cut: use
/// <see cref="LogScanner.ScanAsync{TSink}(Stream, TSink, CancellationToken)"/>.
/// </remarks>
public static class ParallelScan
{
    private const int BlockSize = 4 << 20;

    /// <summary>The least of the previous chunk each chunk reads first, as <see cref="LineKind.Duplicate"/> lines, so that retransmissions crossing the boundary are known.</summary>
    internal const long MinLeadIn = 32 << 20;

    /// <summary>The most: past it, a chunk would spend more on its lead-in than parallel reading saves.</summary>
    internal const long MaxLeadIn = 256 << 20;

    /// <summary>Scans <paramref name="path"/> in parallel chunks.</summary>
    /// <typeparam name="TSink">The consumer; one per chunk.</typeparam>
    /// <param name="path">A regular, uncompressed file.</param>
    /// <param name="newSink">Makes the consumer of one chunk (called on the chunk's thread).</param>
    /// <param name="options">Scanner settings; defaults when null.</param>
    /// <param name="chunks">How many chunks (0: one per core; files under 1 MiB get one).</param>
    /// <param name="cancellationToken">Stops every chunk; what was read stays counted.</param>
    /// <returns>One result per chunk, in file order.</returns>
    public static IReadOnlyList<ChunkResult<TSink>> File<TSink>(string path, Func<TSink> newSink, LogScannerOptions? options = null, int chunks = 0, CancellationToken cancellationToken = default)
        where TSink : ILogSink =>
        File(path, newSink, options, chunks, TimeSpan.FromMinutes(2), MinLeadIn, cancellationToken);

    /// <summary>Scans <paramref name="path"/> in parallel chunks, with a chosen lead-in.</summary>
    /// <typeparam name="TSink">The consumer; one per chunk.</typeparam>
    /// <param name="path">A regular, uncompressed file.</param>
    /// <param name="newSink">Makes the consumer of one chunk (called on the chunk's thread).</param>
    /// <param name="options">Scanner settings; defaults when null.</param>
    /// <param name="chunks">How many chunks (0: one per core; files under 1 MiB get one).</param>
    /// <param name="leadInTime">How much log time before its start each chunk reads as lead-in, when the lines carry times (the sink's retry window).</param>
    /// <param name="cancellationToken">Stops every chunk; what was read stays counted.</param>
    /// <returns>One result per chunk, in file order.</returns>
    public static IReadOnlyList<ChunkResult<TSink>> File<TSink>(string path, Func<TSink> newSink, LogScannerOptions? options, int chunks, TimeSpan leadInTime, CancellationToken cancellationToken = default)
        where TSink : ILogSink =>
        File(path, newSink, options, chunks, leadInTime, MinLeadIn, cancellationToken);

    /// <summary>The whole of it; <paramref name="minLeadIn"/> is smaller in tests.</summary>
    internal static IReadOnlyList<ChunkResult<TSink>> File<TSink>(string path, Func<TSink> newSink, LogScannerOptions? options, int chunks, TimeSpan leadInTime, long minLeadIn, CancellationToken cancellationToken)
        where TSink : ILogSink
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(newSink);
        options ??= new LogScannerOptions();
        using SafeFileHandle file = System.IO.File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.SequentialScan);
        long length = RandomAccess.GetLength(file);
        int n = chunks > 0 ? chunks : Environment.ProcessorCount;
        if (length < (1 << 20))
        {
            n = 1;
        }

        long[] starts = new long[n + 1];
        for (int i = 1; i < n; i++)
        {
            starts[i] = Math.Max(starts[i - 1], LineStartAtOrAfter(file, length * i / n, length));
        }

        starts[n] = length;
        var results = new ChunkResult<TSink>[n];
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = n }, i =>
        {
            TSink sink = newSink();
            byte[] block = new byte[BlockSize]; // one per chunk, for its lead-in and its own lines
            if (i > 0)
            {
                // The end of the previous chunk, passed as Duplicate: a sink can learn its flows without counting them.
                long from = LeadInStart(file, starts[i - 1], starts[i], length, options.Parser.Envelope, leadInTime, minLeadIn);
                var leadIn = new LeadInSink<TSink> { Inner = sink };
                new LogScanner(options).ScanRange(file, block, from, starts[i], length, ref leadIn, cancellationToken);
                sink = leadIn.Inner;
            }

            var scanner = new LogScanner(options);
            scanner.ScanRange(file, block, starts[i], starts[i + 1], length, ref sink, cancellationToken);
            results[i] = new ChunkResult<TSink>(sink, scanner.Totals);
        });
        return results;
    }

    /// <summary>Passes the selected entries of a lead-in as <see cref="LineKind.Duplicate"/>, nothing else.</summary>
    private struct LeadInSink<TSink> : ILogSink
        where TSink : ILogSink
    {
        public TSink Inner;

        public void OnLine(LineKind kind, ref LogRecord record)
        {
            if (kind is LineKind.Entry or LineKind.Excluded or LineKind.Duplicate)
            {
                Inner.OnLine(LineKind.Duplicate, ref record);
            }
        }
    }

    /// <summary>
    /// Where the lead-in of the chunk starting at <paramref name="start"/> begins: <paramref name="minLeadIn"/>
    /// bytes before it, doubled while the first line there is less than <paramref name="leadInTime"/> older
    /// than the chunk's first line (up to <see cref="MaxLeadIn"/> and never before <paramref name="previous"/>).
    /// </summary>
    private static long LeadInStart(SafeFileHandle file, long previous, long start, long length, EnvelopeOptions envelope, TimeSpan leadInTime, long minLeadIn)
    {
        var parser = new EnvelopeParser(envelope);
        DateTimeOffset? chunkTime = TimeAt(file, start, length, parser);
        long size = minLeadIn;
        while (true)
        {
            long from = LineStartAtOrAfter(file, Math.Max(previous, start - size), length);
            if (from <= previous || size >= MaxLeadIn || chunkTime is null || TimeAt(file, from, length, parser) is not { } t || chunkTime.Value - t >= leadInTime)
            {
                return Math.Min(from, start);
            }

            size *= 2;
        }
    }

    /// <summary>The time of the first of the few lines at <paramref name="offset"/> that has one, or null.</summary>
    private static DateTimeOffset? TimeAt(SafeFileHandle file, long offset, long length, EnvelopeParser parser)
    {
        Span<byte> probe = stackalloc byte[8192];
        int read = RandomAccess.Read(file, probe[..(int)Math.Min(probe.Length, length - offset)], offset);
        ReadOnlySpan<byte> rest = probe[..Math.Max(read, 0)];
        for (int n = 0; n < 16 && !rest.IsEmpty; n++)
        {
            int nl = rest.IndexOf((byte)'\n');
            if (nl < 0)
            {
                break; // a line longer than the probe: no time from here
            }

            parser.Parse(rest[..nl], out LogEnvelope envelope);
            if (envelope.Time is { } t)
            {
                return t;
            }

            rest = rest[(nl + 1)..];
        }

        return null;
    }

    /// <summary>The offset of the first line that starts at or after <paramref name="offset"/>.</summary>
    private static long LineStartAtOrAfter(SafeFileHandle file, long offset, long length)
    {
        if (offset <= 0)
        {
            return 0;
        }

        Span<byte> probe = stackalloc byte[4096];
        long at = offset - 1; // a line starts at offset when the byte before it is a newline
        while (at < length)
        {
            int read = RandomAccess.Read(file, probe, at);
            if (read <= 0)
            {
                break;
            }

            int nl = probe[..read].IndexOf((byte)'\n');
            if (nl >= 0)
            {
                return at + nl + 1;
            }

            at += read;
        }

        return length;
    }

    /// <summary>Reads [start, end) of the file in blocks and hands whole lines to <see cref="LogScanner.Scan"/>; a line longer than a block is counted as over-long.</summary>
    internal static void ScanRange<TSink>(this LogScanner scanner, SafeFileHandle file, byte[] block, long start, long end, long length, ref TSink sink, CancellationToken cancellationToken)
        where TSink : ILogSink
    {
        int carry = 0;
        bool skipping = false; // inside a line too long for the block
        long pos = start;
        while (pos < end && !cancellationToken.IsCancellationRequested)
        {
            int read = RandomAccess.Read(file, block.AsSpan(carry, (int)Math.Min(block.Length - carry, end - pos)), pos);
            if (read <= 0)
            {
                break; // the file shrank while we read it
            }

            pos += read;
            Span<byte> data = block.AsSpan(0, carry + read);
            int lastNewline = data.LastIndexOf((byte)'\n');
            if (skipping)
            {
                int first = data.IndexOf((byte)'\n');
                if (first < 0)
                {
                    scanner.Totals.Bytes += data.Length;
                    carry = 0;
                    continue;
                }

                scanner.Totals.Bytes += first + 1;
                data.Slice(first + 1).CopyTo(block);
                data = block.AsSpan(0, data.Length - first - 1);
                lastNewline = data.LastIndexOf((byte)'\n');
                skipping = false;
            }

            if (lastNewline < 0 && data.Length == block.Length)
            {
                // No line end in a whole block: count the line once and skip to its end.
                scanner.Totals.Bytes += data.Length;
                scanner.Totals.Lines++;
                scanner.Totals.OverlongLines++;
                skipping = true;
                carry = 0;
                continue;
            }

            int whole = pos >= end && end == length ? data.Length : lastNewline + 1; // the file's last line may lack a newline
            scanner.Scan(data[..whole], ref sink);
            carry = data.Length - whole;
            data[whole..].CopyTo(block);
        }

        if (carry > 0)
        {
            scanner.Scan(block.AsSpan(0, carry), ref sink); // a chunk always ends at a line end; only a truncated read leaves this
        }
    }
}
