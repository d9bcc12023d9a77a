using System.Buffers;
using System.Threading.Channels;

namespace MailGuard.Parsing;

/// <summary>The parts every block pipeline shares: an input cut into blocks at line ends, the blocks, the parsing workers.</summary>
internal static partial class StreamBlocks
{
    /// <summary>Workers that parse blocks from <paramref name="work"/> with <paramref name="record"/> (given the worker's number), each block's <see cref="Block{TRecord}.Recorded"/> set when done.</summary>
    private static Task[] StartWorkers<TRecord>(ChannelReader<Block<TRecord>> work, int workers, Action<int, Block<TRecord>> record)
        where TRecord : struct
    {
        var tasks = new Task[workers];
        for (int i = 0; i < workers; i++)
        {
            int w = i;
            tasks[w] = Task.Run(
                async () =>
                {
                    await foreach (Block<TRecord> block in work.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
                    {
                        try
                        {
                            record(w, block);
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

        return tasks;
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

    /// <summary>
    /// One input read into blocks cut at line ends, each block handed to the parsing workers and, in the order of the input,
    /// to <see cref="Ordered"/>. At most <c>capacity</c> blocks are alive at once (memory stays bounded however fast the input
    /// comes); a block comes back with <see cref="Release"/> and is reused with its buffer and records (no garbage per block).
    /// </summary>
    private sealed class BlockFeed<TRecord> : IDisposable
        where TRecord : struct
    {
        private readonly int _input;
        private readonly BlockReader _reader;
        private readonly SemaphoreSlim _buffers;
        private readonly Stack<Block<TRecord>> _pool = new();
        private readonly CancellationToken _failed;

        /// <param name="stream">Plain text (decompressed already).</param>
        /// <param name="input">The number of the input (<see cref="Block{TRecord}.Input"/>).</param>
        /// <param name="capacity">Blocks alive at once.</param>
        /// <param name="cancellationToken">Stops reading; what was read is still handed on.</param>
        /// <param name="failed">Stops reading at once: counting failed.</param>
        public BlockFeed(Stream stream, int input, int capacity, CancellationToken cancellationToken, CancellationToken failed)
        {
            _input = input;
            _reader = new BlockReader(stream, Totals, cancellationToken);
            _buffers = new SemaphoreSlim(capacity);
            _failed = failed;
        }

        /// <summary>What the reader counted itself: the lines longer than a block, skipped.</summary>
        public ScanTotals Totals { get; } = new();

        /// <summary>The blocks in the order of the input; completed when the input is read.</summary>
        public Channel<Block<TRecord>> Ordered { get; } = Channel.CreateUnbounded<Block<TRecord>>(new UnboundedChannelOptions { SingleWriter = true, SingleReader = true });

        /// <summary>Why reading stopped before the end (an I/O error, damaged compressed data), or null.</summary>
        public Exception? Error => _reader.Error;

        /// <summary>Reads the input to its end, each block written to <paramref name="work"/> and to <see cref="Ordered"/>.</summary>
        public async Task ReadAsync(ChannelWriter<Block<TRecord>> work)
        {
            try
            {
                Block<TRecord>? current = await RentAsync().ConfigureAwait(false);
                while (current is not null)
                {
                    (int length, bool end) = await _reader.FillAsync(current.Buffer, current.LeadIn, current.Length, current.LeadIn + ParallelBlockSize).ConfigureAwait(false);
                    byte[] buffer = current.Buffer;
                    int whole = end ? length : current.LeadIn + buffer.AsSpan(current.LeadIn, length - current.LeadIn).LastIndexOf((byte)'\n') + 1;
                    current.Length = whole;
                    current.Abandoned = end && _reader.Abandoned;
                    Block<TRecord>? next = null;
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

                    work.TryWrite(current); // unbounded: the semaphore bounds them
                    Ordered.Writer.TryWrite(current);
                    current = next;
                }
            }
            finally
            {
                Ordered.Writer.Complete();
            }
        }

        /// <summary>A block counted: back to the pool.</summary>
        public void Release(Block<TRecord> block)
        {
            if (!block.Abandoned)
            {
                lock (_pool)
                {
                    _pool.Push(block);
                }
            }

            _buffers.Release();
        }

        /// <summary>The pooled blocks' buffers back to the array pool (after the scan).</summary>
        public void Dispose()
        {
            foreach (Block<TRecord> block in _pool)
            {
                ArrayPool<byte>.Shared.Return(block.Buffer);
            }

            _pool.Clear();
            _buffers.Dispose();
        }

        private async Task<Block<TRecord>?> RentAsync()
        {
            try
            {
                await _buffers.WaitAsync(_failed).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return null; // counting failed: stop reading (the failure is raised at the end)
            }

            lock (_pool)
            {
                if (_pool.TryPop(out Block<TRecord>? reused))
                {
                    reused.Reset();
                    return reused;
                }
            }

            return new Block<TRecord>(ArrayPool<byte>.Shared.Rent(ParallelBlockSize + MaxLeadIn), _input);
        }
    }

    /// <summary>A part of an input (whole lines, after a lead-in of the part before) and what its worker recorded of it.</summary>
    private sealed class Block<TRecord>(byte[] buffer, int input)
        where TRecord : struct
    {
        public byte[] Buffer { get; } = buffer;

        /// <summary>The input the block belongs to.</summary>
        public int Input { get; } = input;

        /// <summary>Bytes of the block before, read first (not counted).</summary>
        public int LeadIn { get; set; }

        /// <summary>Bytes in use: the lead-in, then whole lines.</summary>
        public int Length { get; set; }

        /// <summary>A read that never finished still owns the rest of the buffer: it is not reused.</summary>
        public bool Abandoned { get; set; }

        /// <summary>What the worker recorded, in the order of the lines.</summary>
        public List<TRecord> Records { get; } = [];

        /// <summary>Messages that are not in the buffer (a repeated entry, copied by the scanner).</summary>
        public ArrayBufferWriter<byte> Side => _side ??= new ArrayBufferWriter<byte>(1024);

        public ReadOnlySpan<byte> SideBytes => _side is null ? default : _side.WrittenSpan;

        private ArrayBufferWriter<byte>? _side;

        public TaskCompletionSource Recorded { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Ready for another part of the input.</summary>
        public void Reset()
        {
            LeadIn = 0;
            Length = 0;
            Records.Clear();
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

        /// <summary>The values of <paramref name="record"/>; its message is found in the block's buffer, or copied to its side buffer.</summary>
        public static RecordedEntry Of<TRecord>(Block<TRecord> block, bool otherPrefixMail, ref LogRecord record)
            where TRecord : struct
        {
            ReadOnlySpan<byte> message = record.Envelope.Message;
            bool inBuffer = Place(block, message, out int offset);
            ReadOnlySpan<byte> host = record.Envelope.Host;
            bool hostInBuffer = Place(block, host, out int hostOffset);

            return new RecordedEntry
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
                MessageLength = message.Length,
                InSide = !inBuffer,
                HostStart = hostOffset,
                HostLength = host.Length,
                HostInSide = !hostInBuffer,
                OtherPrefixMail = otherPrefixMail,
                Status = record.Status,
                RulePort = record.RulePort,
            };
        }

        /// <summary>
        /// The record again, its message in <paramref name="block"/> (valid while the block is). Only the fields recorded are
        /// set: pass the same record every time, zeroed once (zeroing the whole 600-byte record per entry costs more than the rest).
        /// </summary>
        public readonly void Restore<TRecord>(Block<TRecord> block, ref LogRecord record)
            where TRecord : struct
        {
            record.Entry._packet = Packet;
            record.Entry._fields = Fields;
            record.Entry.Prefix = Prefix;
            record.Entry.In = In;
            record.Entry.Out = Out;
            record.Entry.Uid = Uid;
            record.Entry.Gid = Gid;
            record.Status = Status;
            record.RulePort = RulePort;
            record.OutgoingMail = OtherPrefixMail;
            record.Envelope.Time = Time;
            record.Envelope.Uptime = Uptime;
            record.Envelope.RepeatCount = RepeatCount;
            record.Envelope.Message = (InSide ? block.SideBytes : block.Buffer).Slice(MessageStart, MessageLength);
            record.Envelope.Host = (HostInSide ? block.SideBytes : block.Buffer).Slice(HostStart, HostLength);
        }

        /// <summary>Where <paramref name="text"/> (a message, a host name) is: true with its offset in the block's buffer, else false with its offset in the side buffer, where it was copied.</summary>
        private static bool Place<TRecord>(Block<TRecord> block, ReadOnlySpan<byte> text, out int offset)
            where TRecord : struct
        {
            if (text.IsEmpty)
            {
                offset = 0;
                return true;
            }

            ReadOnlySpan<byte> buffer = block.Buffer;
            if (buffer.Overlaps(text, out offset) && offset >= 0 && offset + text.Length <= buffer.Length)
            {
                return true;
            }

            offset = block.Side.WrittenCount;
            block.Side.Write(text);
            return false;
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
