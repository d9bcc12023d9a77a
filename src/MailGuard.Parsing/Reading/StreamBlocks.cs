using System.Buffers;
using System.Runtime.InteropServices;
using System.Threading.Channels;

namespace MailGuard.Parsing;

/// <summary>
/// Reads a stream that cannot be cut in advance (standard input, a pipe, decompressed text) in blocks cut at line ends and
/// hands each block to <see cref="LogScanner.Scan"/>: the vectorised pass over the lines that cannot be entries, as for a
/// file's chunks (<see cref="ParallelScan"/>), instead of the line-by-line split a live view needs.
/// </summary>
/// <remarks>
/// <para>On one core a block is scanned straight into the sink. On several (<see cref="ScanParallelAsync"/>), the blocks are
/// parsed by workers, each entry recorded as a value, and the entries are counted by one thread in the order of the stream:
/// the figures are exactly those of a one-thread read, connection attempts included (a retransmission is told from a new
/// attempt by the flows seen before it, however far back). An earlier version that counted each block on its worker, with
/// the end of the block before as a lead-in, was measured and dropped: on a dense log (1 GiB in 56 minutes) the 2-minute
/// retry window spans 38 MiB, far more than a lead-in can afford, and attempts across block edges were counted twice.</para>
/// <para>A block's worker first reads the end of the block before it, from its last line that may be an entry: a
/// <c>last message repeated</c> notice opening a block repeats that entry, as on one thread.</para>
/// </remarks>
internal static partial class StreamBlocks
{
    /// <summary>The size of a block on one core (a line longer than that is counted once, as over-long, and skipped).</summary>
    internal const int BlockSize = 4 << 20;

    /// <summary>The size of a block on several cores: small, so that a few in flight hold little memory.</summary>
    internal const int ParallelBlockSize = 1 << 20;

    /// <summary>The most of the block before that a block's worker reads first.</summary>
    private const int MaxLeadIn = 64 << 10;

    /// <summary>Scans <paramref name="stream"/> on this thread to its end, a read error or cancellation.</summary>
    /// <typeparam name="TSink">The consumer.</typeparam>
    /// <param name="stream">Plain text (decompressed already).</param>
    /// <param name="scanner">The scanner; its <see cref="LogScanner.Totals"/> count what was read.</param>
    /// <param name="sink">The consumer.</param>
    /// <param name="cancellationToken">Stops reading, also a read blocked on a silent pipe; what was read is scanned and counted.</param>
    /// <returns>The sink after the scan, and why reading stopped before the end (an I/O error, damaged compressed data) or null.</returns>
    public static async Task<(TSink Sink, Exception? Error)> ScanAsync<TSink>(Stream stream, LogScanner scanner, TSink sink, CancellationToken cancellationToken)
        where TSink : ILogSink
    {
        var reader = new BlockReader(stream, scanner.Totals, cancellationToken);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BlockSize);
        try
        {
            int length = 0; // the unfinished line of the last block, then what was read since
            while (true)
            {
                (length, bool end) = await reader.FillAsync(buffer, 0, length, BlockSize).ConfigureAwait(false);
                int whole = end ? length : buffer.AsSpan(0, length).LastIndexOf((byte)'\n') + 1;
                scanner.Scan(buffer.AsSpan(0, whole), ref sink);
                if (end)
                {
                    break;
                }

                buffer.AsSpan(whole, length - whole).CopyTo(buffer);
                length -= whole;
            }
        }
        finally
        {
            if (!reader.Abandoned)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        return (sink, reader.Error);
    }

    /// <summary>
    /// Scans <paramref name="stream"/> into <paramref name="stats"/>: one thread reads, <paramref name="workers"/> parse, one
    /// counts in order (see <see cref="StreamBlocks"/>).
    /// </summary>
    /// <param name="stream">Plain text (decompressed already).</param>
    /// <param name="options">The scanners' settings.</param>
    /// <param name="stats">Filled as <see cref="TrafficStatsSink"/> fills it.</param>
    /// <param name="workers">Parsing threads (at least 1).</param>
    /// <param name="cancellationToken">Stops reading, also a read blocked on a silent pipe; what was read is scanned and counted.</param>
    /// <returns>The totals of what was read, and why reading stopped before the end or null.</returns>
    public static async Task<(ScanTotals Totals, Exception? Error)> ScanParallelAsync(Stream stream, LogScannerOptions options, TrafficStats stats, int workers, CancellationToken cancellationToken)
    {
        workers = Math.Max(1, workers);
        using var failed = new CancellationTokenSource();
        var feed = new BlockFeed<RecordedEntry>(stream, 0, workers + 4, cancellationToken, failed.Token);
        var work = Channel.CreateUnbounded<Block<RecordedEntry>>(new UnboundedChannelOptions { SingleWriter = true });
        Exception? failure = null;
        var scanners = new LogScanner[workers];
        var forged = new ForgedRecords[workers];
        for (int i = 0; i < workers; i++)
        {
            scanners[i] = new LogScanner(options);
            forged[i] = new ForgedRecords();
        }

        Task[] parsing = StartWorkers(work.Reader, workers, (w, block) => Record(scanners[w], block, new Recorder(block, forged[w])));
        Task counting = Task.Run(
            async () =>
            {
                var sink = new TrafficStatsSink(stats);
                await foreach (Block<RecordedEntry> block in feed.Ordered.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
                {
                    try
                    {
                        await block.Recorded.Task.ConfigureAwait(false);
                        if (failure is null)
                        {
                            Replay(block, ref sink);
                        }
                    }
                    catch (Exception e)
                    {
                        failure ??= e;
                        await failed.CancelAsync().ConfigureAwait(false);
                    }
                    finally
                    {
                        feed.Release(block);
                    }
                }
            },
            CancellationToken.None);

        try
        {
            await feed.ReadAsync(work.Writer).ConfigureAwait(false);
        }
        finally
        {
            work.Writer.Complete();
            await Task.WhenAll([.. parsing, counting]).ConfigureAwait(false);
            feed.Dispose();
        }

        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }

        ScanTotals totals = feed.Totals;
        for (int i = 0; i < workers; i++)
        {
            totals.Add(scanners[i].Totals);
            stats.Forged.Merge(forged[i]);
        }

        return (totals, feed.Error);
    }

    /// <summary>Parses a block: its lead-in with the counts taken back, then its lines into <paramref name="sink"/>.</summary>
    private static void Record<TRecord, TSink>(LogScanner scanner, Block<TRecord> block, TSink sink)
        where TRecord : struct
        where TSink : ILogSink
    {
        ReadOnlySpan<byte> data = block.Buffer.AsSpan(0, block.Length);
        if (block.LeadIn > 0)
        {
            var saved = new ScanTotals();
            saved.Add(scanner.Totals);
            var none = default(Discard);
            scanner.Scan(data[..block.LeadIn], ref none);
            scanner.Totals.Set(saved);
        }

        scanner.Scan(data[block.LeadIn..], ref sink);
    }

    /// <summary>Counts a block's recorded entries, in order, as <see cref="TrafficStatsSink"/> counts a line-by-line read.</summary>
    private static void Replay(Block<RecordedEntry> block, ref TrafficStatsSink sink)
    {
        LogRecord record = default;
        foreach (ref readonly RecordedEntry e in CollectionsMarshal.AsSpan(block.Records))
        {
            e.Restore(block, ref record);
            sink.OnLine(e.OtherPrefixMail ? LineKind.OtherPrefix : LineKind.Entry, ref record);
        }
    }

    private readonly struct Recorder(Block<RecordedEntry> block, ForgedRecords forged) : ILogSink
    {
        public void OnLine(LineKind kind, ref LogRecord record)
        {
            switch (kind)
            {
                case LineKind.Entry:
                case LineKind.OtherPrefix when record.OutgoingMail:
                    block.Records.Add(RecordedEntry.Of(block, kind == LineKind.OtherPrefix, ref record));
                    break;
                case LineKind.Forged:
                    forged.Add(ref record); // counted apart, merged at the end: the order does not matter to it
                    break;
            }
        }
    }

    private struct Discard : ILogSink
    {
        public readonly void OnLine(LineKind kind, ref LogRecord record)
        {
        }
    }
}
