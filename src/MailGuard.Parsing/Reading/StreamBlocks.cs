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
internal static class StreamBlocks
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
        var totals = new ScanTotals();
        var reader = new BlockReader(stream, totals, cancellationToken);
        var work = Channel.CreateUnbounded<Block>(new UnboundedChannelOptions { SingleWriter = true });
        var ordered = Channel.CreateUnbounded<Block>(new UnboundedChannelOptions { SingleWriter = true, SingleReader = true });
        var buffers = new SemaphoreSlim(workers + 4); // blocks alive at once: memory stays bounded however fast the input comes
        var pool = new Stack<Block>(); // blocks are reused with their buffers and entry lists: no garbage per block
        using var failed = new CancellationTokenSource();
        Exception? failure = null;
        var scanners = new LogScanner[workers];
        var forged = new ForgedRecords[workers];
        var tasks = new Task[workers + 1];
        for (int i = 0; i < workers; i++)
        {
            int w = i;
            scanners[w] = new LogScanner(options);
            forged[w] = new ForgedRecords();
            tasks[w] = Task.Run(
                async () =>
                {
                    await foreach (Block block in work.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
                    {
                        try
                        {
                            Record(scanners[w], forged[w], block);
                            block.Recorded.SetResult();
                        }
                        catch (Exception e)
                        {
                            block.Recorded.SetException(e); // a bug: the counting thread raises it
                        }
                    }
                },
                CancellationToken.None);
        }

        tasks[workers] = Task.Run(
            async () =>
            {
                var sink = new TrafficStatsSink(stats);
                await foreach (Block block in ordered.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
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
                        if (!block.Abandoned)
                        {
                            lock (pool)
                            {
                                pool.Push(block);
                            }
                        }

                        buffers.Release();
                    }
                }
            },
            CancellationToken.None);

        try
        {
            Block? current = await RentAsync().ConfigureAwait(false);
            while (current is not null)
            {
                (int length, bool end) = await reader.FillAsync(current.Buffer, current.LeadIn, current.Length, current.LeadIn + ParallelBlockSize).ConfigureAwait(false);
                byte[] buffer = current.Buffer;
                int whole = end ? length : current.LeadIn + buffer.AsSpan(current.LeadIn, length - current.LeadIn).LastIndexOf((byte)'\n') + 1;
                current.Length = whole;
                current.Abandoned = end && reader.Abandoned;
                Block? next = null;
                if (!end)
                {
                    next = await RentAsync().ConfigureAwait(false);
                    if (next is not null)
                    {
                        int from = LeadInStart(buffer.AsSpan(current.LeadIn, whole - current.LeadIn)) + current.LeadIn;
                        buffer.AsSpan(from, length - from).CopyTo(next.Buffer); // the lead-in, then the unfinished line
                        next.LeadIn = whole - from;
                        next.Length = length - from;
                    }
                }

                work.Writer.TryWrite(current); // unbounded: the semaphore bounds them
                ordered.Writer.TryWrite(current);
                current = next;
            }
        }
        finally
        {
            work.Writer.Complete();
            ordered.Writer.Complete();
            await Task.WhenAll(tasks).ConfigureAwait(false);
            foreach (Block block in pool)
            {
                ArrayPool<byte>.Shared.Return(block.Buffer);
            }
        }

        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }

        for (int i = 0; i < workers; i++)
        {
            totals.Add(scanners[i].Totals);
            stats.Forged.Merge(forged[i]);
        }

        return (totals, reader.Error);

        async Task<Block?> RentAsync()
        {
            try
            {
                await buffers.WaitAsync(failed.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return null; // counting failed: stop reading (the failure is raised at the end)
            }

            lock (pool)
            {
                if (pool.TryPop(out Block? reused))
                {
                    reused.Reset();
                    return reused;
                }
            }

            return new Block(ArrayPool<byte>.Shared.Rent(ParallelBlockSize + MaxLeadIn));
        }
    }

    /// <summary>Where the next block's lead-in starts in <paramref name="own"/>: the start of its last line that may be an entry, within <see cref="MaxLeadIn"/>; else its last line.</summary>
    private static int LeadInStart(ReadOnlySpan<byte> own)
    {
        if (own.IsEmpty)
        {
            return 0;
        }

        ReadOnlySpan<byte> tail = own[Math.Max(0, own.Length - MaxLeadIn)..];
        int candidate = tail.LastIndexOf("IN="u8);
        int at = candidate >= 0 ? candidate : tail.Length - 1; // the last line at least
        int lineStart = tail[..at].LastIndexOf((byte)'\n') + 1;
        if (lineStart == 0 && tail.Length < own.Length)
        {
            lineStart = tail[..(tail.Length - 1)].LastIndexOf((byte)'\n') + 1; // a line longer than the lead-in: only the last line
        }

        return own.Length - tail.Length + lineStart;
    }

    /// <summary>Parses a block: its lead-in with the counts taken back, then its lines, each selected entry recorded.</summary>
    private static void Record(LogScanner scanner, ForgedRecords forged, Block block)
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

        var recorder = new Recorder(block, forged);
        scanner.Scan(data[block.LeadIn..], ref recorder);
    }

    /// <summary>Counts a block's recorded entries, in order, as <see cref="TrafficStatsSink"/> counts a line-by-line read.</summary>
    private static void Replay(Block block, ref TrafficStatsSink sink)
    {
        ReadOnlySpan<byte> data = block.Buffer;
        ReadOnlySpan<byte> side = block.SideBytes;
        foreach (ref readonly RecordedEntry e in CollectionsMarshal.AsSpan(block.Entries))
        {
            LogRecord record = default;
            record.Entry._packet = e.Packet;
            record.Entry._fields = e.Fields;
            record.Entry.Prefix = e.Prefix;
            record.Entry.In = e.In;
            record.Entry.Out = e.Out;
            record.Entry.Uid = e.Uid;
            record.Entry.Gid = e.Gid;
            record.Status = e.Status;
            record.RulePort = e.RulePort;
            record.OutgoingMail = e.OtherPrefixMail;
            record.Envelope.Time = e.Time;
            record.Envelope.Uptime = e.Uptime;
            record.Envelope.RepeatCount = e.RepeatCount;
            record.Envelope.Message = (e.InSide ? side : data).Slice(e.MessageStart, e.MessageLength);
            record.Envelope.Host = (e.HostInSide ? side : data).Slice(e.HostStart, e.HostLength);
            sink.OnLine(e.OtherPrefixMail ? LineKind.OtherPrefix : LineKind.Entry, ref record);
        }
    }

    private sealed class Block(byte[] buffer)
    {
        public byte[] Buffer { get; } = buffer;

        /// <summary>Bytes of the block before, read first (not counted).</summary>
        public int LeadIn { get; set; }

        /// <summary>Bytes in use: the lead-in, then whole lines.</summary>
        public int Length { get; set; }

        /// <summary>A read that never finished still owns the rest of the buffer: it is not reused.</summary>
        public bool Abandoned { get; set; }

        public List<RecordedEntry> Entries { get; } = [];

        /// <summary>Messages that are not in the buffer (a repeated entry, copied by the scanner).</summary>
        public ArrayBufferWriter<byte> Side => _side ??= new ArrayBufferWriter<byte>(1024);

        public ReadOnlySpan<byte> SideBytes => _side is null ? default : _side.WrittenSpan;

        private ArrayBufferWriter<byte>? _side;

        /// <summary>Where <paramref name="text"/> (a message, a host name) is: true with its offset in the buffer, else false with its offset in <see cref="Side"/>, where it was copied.</summary>
        public bool Place(ReadOnlySpan<byte> text, out int offset)
        {
            if (text.IsEmpty)
            {
                offset = 0;
                return true;
            }

            if (Buffer.AsSpan().Overlaps(text, out offset) && offset >= 0 && offset + text.Length <= Buffer.Length)
            {
                return true;
            }

            offset = Side.WrittenCount;
            Side.Write(text);
            return false;
        }

        public TaskCompletionSource Recorded { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Ready for another part of the stream.</summary>
        public void Reset()
        {
            LeadIn = 0;
            Length = 0;
            Entries.Clear();
            _side?.ResetWrittenCount();
            Recorded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>
    /// What counting a selected entry needs (<see cref="TrafficStats.Add"/>: the packet, UID, GID, prefix and interfaces), as a
    /// value; its message stays in the block. Not the whole <see cref="NetfilterEntry"/> (552 bytes with the ICMP-quoted
    /// packet and the ARP and MAC fields).
    /// </summary>
    private struct RecordedEntry
    {
        public NetfilterPacket Packet;
        public NetfilterFields Fields;
        public ByteRange Prefix;
        public ByteRange In;
        public ByteRange Out;
        public uint Uid;
        public uint Gid;
        public DateTimeOffset? Time;
        public TimeSpan? Uptime;
        public int RepeatCount;
        public int MessageStart;
        public int MessageLength;
        public bool InSide;
        public int HostStart;
        public int HostLength;
        public bool HostInSide;
        public bool OtherPrefixMail;
        public NetfilterParseStatus Status;
        public int RulePort;
    }

    private readonly struct Recorder(Block block, ForgedRecords forged) : ILogSink
    {
        public void OnLine(LineKind kind, ref LogRecord record)
        {
            switch (kind)
            {
                case LineKind.Entry:
                case LineKind.OtherPrefix when record.OutgoingMail:
                    bool inBuffer = block.Place(record.Envelope.Message, out int offset);
                    ReadOnlySpan<byte> host = record.Envelope.Host;
                    bool hostInBuffer = block.Place(host, out int hostOffset);

                    block.Entries.Add(new RecordedEntry
                    {
                        Packet = record.Entry._packet,
                        Fields = record.Entry._fields,
                        Prefix = record.Entry.Prefix,
                        In = record.Entry.In,
                        Out = record.Entry.Out,
                        Uid = record.Entry.Uid,
                        Gid = record.Entry.Gid,
                        Time = record.Envelope.Time,
                        Uptime = record.Envelope.Uptime,
                        RepeatCount = record.Envelope.RepeatCount,
                        MessageStart = offset,
                        MessageLength = record.Envelope.Message.Length,
                        InSide = !inBuffer,
                        HostStart = hostOffset,
                        HostLength = host.Length,
                        HostInSide = !hostInBuffer,
                        OtherPrefixMail = kind == LineKind.OtherPrefix,
                        Status = record.Status,
                        RulePort = record.RulePort,
                    });
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

    /// <summary>Fills blocks from the stream: cancellation of a blocked read, read errors, lines longer than a block.</summary>
    private sealed class BlockReader(Stream stream, ScanTotals totals, CancellationToken cancellationToken)
    {
        private bool _skipping; // inside a line longer than a block

        /// <summary>Why reading stopped before the end (an I/O error, damaged compressed data), or null.</summary>
        public Exception? Error { get; private set; }

        /// <summary>The last read was left pending (cancelled while blocked): the buffer it writes into must not be reused.</summary>
        public bool Abandoned { get; private set; }

        /// <summary>
        /// Reads into <paramref name="buffer"/> from <paramref name="length"/> until <paramref name="capacity"/> or the end;
        /// on return, unless at the end, [<paramref name="start"/>, length) holds a line end (a line that fills the whole
        /// block was counted as over-long and skipped).
        /// </summary>
        public async ValueTask<(int Length, bool End)> FillAsync(byte[] buffer, int start, int length, int capacity)
        {
            while (true)
            {
                while (length < capacity)
                {
                    int read = await ReadAsync(buffer.AsMemory(length, capacity - length)).ConfigureAwait(false);
                    if (read == 0)
                    {
                        return (length, true);
                    }

                    if (_skipping)
                    {
                        int first = buffer.AsSpan(length, read).IndexOf((byte)'\n');
                        totals.Bytes += first < 0 ? read : first + 1;
                        if (first < 0)
                        {
                            continue; // more of the over-long line: dropped
                        }

                        buffer.AsSpan(length + first + 1, read - first - 1).CopyTo(buffer.AsSpan(length));
                        read -= first + 1;
                        _skipping = false;
                    }

                    length += read;
                }

                if (buffer.AsSpan(start, length - start).Contains((byte)'\n'))
                {
                    return (length, false);
                }

                // No line end in a whole block: the line is counted once and skipped to its end.
                totals.Bytes += length - start;
                totals.Lines++;
                totals.OverlongLines++;
                _skipping = true;
                length = start;
            }
        }

        private async ValueTask<int> ReadAsync(Memory<byte> into)
        {
            if (Abandoned || Error is not null)
            {
                return 0;
            }

            Task<int>? pending = null;
            try
            {
#pragma warning disable CA2012 // consumed exactly once: .Result when already complete, else AsTask()
                ValueTask<int> reading = stream.ReadAsync(into, cancellationToken);
                if (!reading.IsCompleted)
                {
                    pending = reading.AsTask();
                }

                // A read blocked on a pipe does not end when the token fires: stop waiting for it instead.
                return pending is null ? reading.Result : await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
#pragma warning restore CA2012
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Abandoned = pending is { IsCompleted: false }; // that read may still write into the buffer
                return 0;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                Error = e; // what was read before still counts, the cut line too, as the line-by-line read gives it
                return 0;
            }
        }
    }
}
