using System.Runtime.InteropServices;
using System.Threading.Channels;
using MailGuard.Parsing.Internals;

namespace MailGuard.Parsing;

/// <summary>
/// Several different logs (<c>kern.log</c> with <c>syslog</c>, several hosts' files) merged in time order, on every core: each
/// input is read in blocks that the workers parse as for one stream, each line that matters to the merge recorded as a value
/// (its time, its kind, the values counting needs, its duplicate key); one thread takes the inputs' records in the order of
/// <see cref="LogScanner.ScanAsync{TSink}(IReadOnlyList{LogInput}, TSink, CancellationToken)"/>'s merge (the earliest input
/// first, an input going on while its lines are not later than the others'), tells duplicates across inputs apart
/// (<see cref="DuplicateWindow"/>) and counts. The figures are those of the line-by-line merge.
/// </summary>
internal static partial class StreamBlocks
{
    /// <summary>The time of a record without one (it keeps the merge key of the line before).</summary>
    private const long NoTime = long.MinValue;

    /// <summary>Merges <paramref name="inputs"/> into <paramref name="stats"/> (see above); a failed input gets its <see cref="LogInput.Error"/>.</summary>
    /// <param name="inputs">The inputs: plain text (decompressed already), each with its reference time.</param>
    /// <param name="options">The scanners' settings (each input's parser gets its own reference time).</param>
    /// <param name="stats">Filled as <see cref="TrafficStatsSink"/> fills it.</param>
    /// <param name="workers">Parsing threads (at least 1).</param>
    /// <param name="cancellationToken">Stops reading; what was read is counted.</param>
    /// <returns>The totals of what was read.</returns>
    public static async Task<ScanTotals> MergeAsync(IReadOnlyList<LogInput> inputs, LogScannerOptions options, TrafficStats stats, int workers, CancellationToken cancellationToken)
    {
        workers = Math.Max(1, workers);
        using var failed = new CancellationTokenSource();
        var feeds = new BlockFeed<MergeRecord>[inputs.Count];
        var perInput = new LogScannerOptions[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            feeds[i] = new BlockFeed<MergeRecord>(inputs[i].Stream, i, workers + 4, cancellationToken, failed.Token);
            perInput[i] = inputs[i].ReferenceTime is { } reference
                ? options with { Parser = options.Parser with { Envelope = options.Parser.Envelope with { ReferenceTime = reference } } }
                : options;
        }

        var scanners = new LogScanner?[workers][];
        var forged = new ForgedRecords[workers];
        for (int w = 0; w < workers; w++)
        {
            scanners[w] = new LogScanner?[inputs.Count];
            forged[w] = new ForgedRecords();
        }

        var work = Channel.CreateUnbounded<Block<MergeRecord>>();
        Task[] parsing = StartWorkers(work.Reader, workers, (w, block) =>
            Record(scanners[w][block.Input] ??= new LogScanner(perInput[block.Input]), block, new MergeRecorder(block, forged[w])));
        Task reading = ReadAllAsync();
        var totals = new ScanTotals(); // the merge's part: duplicates, and the counts of lines that were duplicates taken back
        Exception? failure = null;
        try
        {
            await new Merge(feeds, totals, new TrafficStatsSink(stats), new DuplicateWindow(options.DuplicateWindow.Ticks)).RunAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failure = e;
            await failed.CancelAsync().ConfigureAwait(false);
        }
        finally
        {
            await reading.ConfigureAwait(false);
            await Task.WhenAll(parsing).ConfigureAwait(false);
            foreach (BlockFeed<MergeRecord> feed in feeds)
            {
                feed.Dispose();
            }
        }

        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }

        for (int i = 0; i < inputs.Count; i++)
        {
            inputs[i].Error ??= feeds[i].Error;
            totals.Add(feeds[i].Totals);
        }

        for (int w = 0; w < workers; w++)
        {
            foreach (LogScanner? scanner in scanners[w])
            {
                if (scanner is not null)
                {
                    totals.Add(scanner.Totals);
                }
            }

            stats.Forged.Merge(forged[w]);
        }

        return totals;

        async Task ReadAllAsync()
        {
            try
            {
                var readers = new Task[feeds.Length];
                for (int i = 0; i < feeds.Length; i++)
                {
                    BlockFeed<MergeRecord> feed = feeds[i];
                    readers[i] = Task.Run(() => feed.ReadAsync(work.Writer), CancellationToken.None);
                }

                await Task.WhenAll(readers).ConfigureAwait(false);
            }
            finally
            {
                work.Writer.Complete();
            }
        }
    }

    /// <summary>A line that matters to the merge: one that may be counted (with its values), or only a time (the merge key of the lines after it).</summary>
    private struct MergeRecord
    {
        /// <summary>The values (for <see cref="LineKind.Entry"/>, <see cref="LineKind.OtherPrefix"/>, <see cref="LineKind.Malformed"/>, <see cref="LineKind.Excluded"/>).</summary>
        public RecordedEntry Entry;

        /// <summary>The line's time (UTC ticks), or <see cref="NoTime"/>.</summary>
        public long Time;

        /// <summary>The duplicate key: <see cref="DuplicateWindow.Second"/> and <see cref="DuplicateWindow.LineHash"/>.</summary>
        public long Second;

        public ulong Hash;

        /// <summary>What the worker counted the line as; <see cref="LineKind.Other"/>: a time only.</summary>
        public LineKind Kind;
    }

    /// <summary>Records, on a worker, what the merge needs of each line (the worker's scanner has counted it as if no other input had it).</summary>
    private readonly struct MergeRecorder(Block<MergeRecord> block, ForgedRecords forged) : ILogSink
    {
        public void OnLine(LineKind kind, ref LogRecord record)
        {
            switch (kind)
            {
                case LineKind.Entry:
                case LineKind.OtherPrefix:
                case LineKind.Malformed:
                case LineKind.Excluded:
                    long second = DuplicateWindow.Second(ref record);
                    block.Records.Add(new MergeRecord
                    {
                        Entry = RecordedEntry.Of(block, kind == LineKind.OtherPrefix && record.OutgoingMail, ref record),
                        Time = record.Envelope.Time?.UtcTicks ?? NoTime,
                        Second = second,
                        Hash = DuplicateWindow.LineHash(ref record, second),
                        Kind = kind,
                    });
                    return;
                case LineKind.Forged:
                    forged.Add(ref record); // counted apart, merged at the end: the order does not matter to it
                    break;
            }

            if (record.Envelope.Time is { } time)
            {
                block.Records.Add(new MergeRecord { Time = time.UtcTicks, Kind = LineKind.Other }); // it moves the input's merge key
            }
        }
    }

    /// <summary>One input's records as the merge takes them: block after block, in the input's order.</summary>
    private sealed class MergeCursor(BlockFeed<MergeRecord> feed) : IMergeHead
    {
        private Block<MergeRecord>? _block;
        private int _next;

        public bool Done { get; private set; }

        public bool HasHead { get; set; }

        public long Key { get; set; } = long.MinValue;

        /// <summary>The head's place in <see cref="Records"/>.</summary>
        public int Head { get; set; }

        public Span<MergeRecord> Records => _block is null ? default : CollectionsMarshal.AsSpan(_block.Records);

        public Block<MergeRecord> Block => _block!;

        /// <summary>Takes the next record as the head, its time (or the key before) as the key; false when the block is used up.</summary>
        public bool TakeHead()
        {
            if (!TryTake(out int at))
            {
                return false;
            }

            long time = _block!.Records[at].Time;
            Key = time != NoTime ? time : Key;
            Head = at;
            HasHead = true;
            return true;
        }

        public bool TryTake(out int at)
        {
            if (_block is not null && _next < _block.Records.Count)
            {
                at = _next++;
                return true;
            }

            at = -1;
            return false;
        }

        /// <summary>The next block of the input, once parsed (the one before goes back to the pool); at the end, <see cref="Done"/>.</summary>
        public async ValueTask FillAsync()
        {
            if (_block is not null)
            {
                feed.Release(_block);
                _block = null;
            }

            ChannelReader<Block<MergeRecord>> ordered = feed.Ordered.Reader;
            while (await ordered.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
            {
                if (ordered.TryRead(out Block<MergeRecord>? block))
                {
                    await block.Recorded.Task.ConfigureAwait(false);
                    _block = block;
                    _next = 0;
                    return;
                }
            }

            Done = true;
        }
    }

    /// <summary>The merge thread: the earliest input's records, duplicates told apart, counted.</summary>
    private sealed class Merge(BlockFeed<MergeRecord>[] feeds, ScanTotals totals, TrafficStatsSink sink, DuplicateWindow window)
    {
        private readonly MergeCursor[] _cursors = Array.ConvertAll(feeds, static f => new MergeCursor(f));

        public async Task RunAsync()
        {
            int current = -1;
            while (true)
            {
                // Every input needs a record in hand (its head) to take part in the merge.
                foreach (MergeCursor c in _cursors)
                {
                    while (!c.Done && !c.HasHead && !c.TakeHead())
                    {
                        await c.FillAsync().ConfigureAwait(false);
                    }
                }

                current = Run(current);
                if (current < 0)
                {
                    return;
                }

                await _cursors[current].FillAsync().ConfigureAwait(false);
            }
        }

        /// <summary>Counts the earliest input's records, then the next earliest's…, until one input's block is used up (its number is returned) or every input is done (-1).</summary>
        private int Run(int current)
        {
            LogRecord record = default; // reused: Restore sets the same fields every time
            while (true)
            {
                current = LogScanner.Earliest(_cursors, current, out long others);
                if (current < 0)
                {
                    return -1;
                }

                MergeCursor source = _cursors[current];
                Pump(source, current, others, ref record);
                if (!source.HasHead)
                {
                    return current;
                }
            }
        }

        /// <summary>Counts the records of <paramref name="source"/> while their time is not after <paramref name="others"/>.</summary>
        private void Pump(MergeCursor source, int index, long others, ref LogRecord record)
        {
            Span<MergeRecord> records = source.Records;
            if (source.HasHead)
            {
                source.HasHead = false;
                Count(source.Block, ref records[source.Head], index, ref record);
            }

            while (source.TryTake(out int at))
            {
                ref MergeRecord r = ref records[at];
                if (others != long.MaxValue)
                {
                    long key = r.Time != NoTime ? r.Time : source.Key;
                    source.Key = key;
                    if (key > others)
                    {
                        source.Head = at; // another input is earlier: this record waits
                        source.HasHead = true;
                        return;
                    }
                }

                Count(source.Block, ref r, index, ref record);
            }
        }

        private void Count(Block<MergeRecord> block, ref MergeRecord r, int index, ref LogRecord record)
        {
            if (r.Kind == LineKind.Other)
            {
                return; // a time only
            }

            int repeats = r.Entry.RepeatCount;
            LineKind kind = window.Admit(index, r.Second, r.Hash, ref repeats, r.Kind, totals);
            long removed = kind == LineKind.Duplicate ? 1L + r.Entry.RepeatCount : r.Entry.RepeatCount - repeats;
            if (removed > 0)
            {
                TakeBack(r.Kind, removed, whole: kind == LineKind.Duplicate, r.Entry.OtherPrefixMail);
            }

            if (kind is LineKind.Entry || (kind == LineKind.Duplicate && r.Entry.Status == NetfilterParseStatus.Entry) || (kind == LineKind.OtherPrefix && r.Entry.OtherPrefixMail))
            {
                r.Entry.Restore(block, ref record);
                if (kind != LineKind.Duplicate)
                {
                    record.Envelope.RepeatCount = repeats;
                }

                sink.OnLine(kind, ref record);
            }
        }

        /// <summary>The worker counted the line as new: take back the copies another input had already given.</summary>
        private void TakeBack(LineKind kind, long copies, bool whole, bool mail)
        {
            switch (kind)
            {
                case LineKind.Entry:
                    totals.Entries -= copies;
                    break;
                case LineKind.Excluded:
                    totals.Excluded -= copies;
                    break;
                case LineKind.OtherPrefix when whole:
                    totals.OtherPrefix--;
                    totals.OtherPrefixMail -= mail ? 1 : 0;
                    break;
                case LineKind.Malformed when whole:
                    totals.Malformed--;
                    break;
            }
        }
    }
}
