using System.Buffers;
using System.IO.Pipelines;

namespace MailGuard.Parsing.Internals;

/// <summary>
/// Pulls whole lines out of one input: a <see cref="PipeReader"/> (or, for tests, one fixed buffer of any
/// segment layout). A line that straddles segments is copied into one pooled buffer of the maximum line
/// length; a longer line is skipped and counted without growing memory; the last line counts without a
/// newline. The line returned stays valid until the next <see cref="FillAsync"/> of this source, so
/// several sources can each hold a line at once (the merge of several inputs relies on it).
/// </summary>
internal sealed class LineSource : IDisposable, IMergeHead
{
    private readonly PipeReader? _reader;
    private readonly Action? _waiting;
    private readonly Action? _filled;
    private readonly int _maxLine;
    private readonly ScanTotals _totals;
    private readonly byte[] _straddle;
    private ReadOnlySequence<byte> _buffer;
    private ReadOnlySequence<byte> _current;
    private bool _disposed;
    private bool _abandoned;
    private SequencePosition _position;
    private bool _completed;
    private bool _skippingOverlong;

    public LineSource(Stream stream, LogLineParser parser, int maxLine, ScanTotals totals, Action? waiting, Action? filled = null)
        : this(parser, maxLine, totals)
    {
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true));
        _waiting = waiting;
        _filled = filled;
    }

    public LineSource(ReadOnlySequence<byte> whole, LogLineParser parser, int maxLine, ScanTotals totals)
        : this(parser, maxLine, totals)
    {
        _buffer = whole;
        _position = whole.Start;
        _completed = true;
    }

    public LineSource(LogLineParser parser, int maxLine, ScanTotals totals)
    {
        Parser = parser;
        _maxLine = maxLine;
        _totals = totals;
        _straddle = ArrayPool<byte>.Shared.Rent(maxLine);
    }

    /// <summary>The parser of this input (its own envelope state and reference time).</summary>
    public LogLineParser Parser { get; }

    /// <summary>True once the input has no more lines.</summary>
    public bool Done { get; private set; }

    /// <summary>The last selected entry line, kept for <c>last message repeated N times</c>; empty when the previous line was something else.</summary>
    public byte[]? LastEntry { get; set; }

    /// <summary>The length of <see cref="LastEntry"/>, or -1.</summary>
    public int LastEntryLength { get; set; } = -1;

    /// <summary>The line <see cref="TryTake"/> returned last, again (valid until the next <see cref="TryTake"/> or <see cref="FillAsync"/>).</summary>
    public ReadOnlySpan<byte> Current => _current.IsSingleSegment ? _current.FirstSpan : _straddle.AsSpan(0, (int)_current.Length);

    /// <summary>True once the wrapper of the input's first line was noted (<see cref="ScanTotals.Formats"/>).</summary>
    public bool FormatNoted { get; set; }

    /// <summary>True when <see cref="Current"/> was taken and parsed for its key but not yet passed on.</summary>
    public bool HasHead { get; set; }

    /// <summary>Ends the source early (its input failed).</summary>
    public void Stop()
    {
        Done = true;
        HasHead = false;
    }

    /// <summary>The time of the last entry line (UTC ticks; the bound of a following repeat notice), or <see cref="long.MinValue"/>.</summary>
    public long LastEntryTicks { get; private set; } = long.MinValue;

    /// <summary>Keeps a copy of an entry line for a following <c>last message repeated N times</c>.</summary>
    /// <param name="line">The line.</param>
    /// <param name="time">Its time, when it has one.</param>
    public void Remember(ReadOnlySpan<byte> line, DateTimeOffset? time)
    {
        LastEntry ??= ArrayPool<byte>.Shared.Rent(_maxLine);
        line.CopyTo(LastEntry);
        LastEntryLength = line.Length;
        if (time is { } t)
        {
            LastEntryTicks = t.UtcTicks;
        }
    }

    /// <summary>The merge key of the line taken last (UTC ticks; the previous line's for lines without time).</summary>
    public long Key { get; set; } = long.MinValue;

    /// <summary>Takes the next whole line from what is buffered.</summary>
    /// <param name="line">The line without its newline; valid until the next <see cref="FillAsync"/>.</param>
    /// <returns>False when more input must be read first (<see cref="FillAsync"/>), or the input is done.</returns>
    public bool TryTake(out ReadOnlySpan<byte> line)
    {
        while (true)
        {
            var reader = new SequenceReader<byte>(_buffer.Slice(_position));
            if (reader.TryReadTo(out ReadOnlySequence<byte> seq, (byte)'\n', advancePastDelimiter: true))
            {
                _position = reader.Position;
                _totals.Bytes += seq.Length + 1;
                if (_skippingOverlong)
                {
                    _skippingOverlong = false; // the tail of a line already counted
                    continue;
                }

                if (Accept(seq, out line))
                {
                    return true;
                }

                continue;
            }

            ReadOnlySequence<byte> rest = reader.UnreadSequence;
            if (rest.Length > _maxLine)
            {
                // No newline within the limit: count the line once, drop what we have, skip to its end.
                _totals.Bytes += rest.Length;
                if (!_skippingOverlong)
                {
                    _totals.Lines++;
                    _totals.OverlongLines++;
                    _skippingOverlong = true;
                }

                _position = _buffer.End;
            }
            else if (_completed)
            {
                _position = _buffer.End;
                Done = true;
                if (rest.Length > 0)
                {
                    _totals.Bytes += rest.Length;
                    if (!_skippingOverlong && Accept(rest, out line))
                    {
                        return true; // the last line, without a newline
                    }
                }
            }

            line = default;
            return false;
        }
    }

    /// <summary>Why reading stopped early (corrupt gzip, an I/O error), or null.</summary>
    public Exception? Error { get; private set; }

    /// <summary>Reads more input after <see cref="TryTake"/> returned false; the lines taken before become invalid.</summary>
    /// <param name="cancellationToken">Stops the wait; the source is then done.</param>
    /// <returns>False when the input is done (at its end, cancelled, or failed: see <see cref="Error"/>).</returns>
    public async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (Done || _reader is null)
        {
            Done = true;
            return false;
        }

        ReadOnlySequence<byte> unterminated = _buffer.Slice(_position); // stays valid: not consumed
        _reader.AdvanceTo(_position, _buffer.End);
        _buffer = default;
        _position = default;
        _current = default;
#pragma warning disable CA2012 // consumed exactly once below: .Result when already complete, else AsTask()
        ValueTask<ReadResult> read;
        try
        {
            read = _reader.ReadAsync(cancellationToken);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            return Fail(e, unterminated);
        }

        Task<ReadResult>? pending = null;
        _filled?.Invoke(); // what was read before was passed on: periodic work (snapshots)
        if (!read.IsCompleted)
        {
            _waiting?.Invoke(); // nothing more has arrived yet: let the consumer flush (its errors are its own)
            pending = read.AsTask();
        }
#pragma warning restore CA2012

        ReadResult result;
        try
        {
            // A read blocked on a pipe does not end when the token fires: stop waiting for it instead.
            result = pending is null ? read.Result : await WaitAsync(pending, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _abandoned = pending is { IsCompleted: false }; // the pending read still owns the reader
            Done = true;
            return false;
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            return Fail(e, unterminated);
        }

        _buffer = result.Buffer;
        _position = _buffer.Start;
        _completed = result.IsCompleted || result.IsCanceled;
        return true;
    }

    /// <summary>How often periodic work (<see cref="LogScannerOptions.Filled"/>) is called while a live stream is silent.</summary>
    private static readonly TimeSpan s_silentTick = TimeSpan.FromMilliseconds(250);

    /// <summary>Waits for a read; while nothing arrives, the periodic work still runs (a snapshot of a silent stream).</summary>
    private async Task<ReadResult> WaitAsync(Task<ReadResult> pending, CancellationToken cancellationToken)
    {
        if (_filled is null)
        {
            return await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        while (true)
        {
            try
            {
                return await pending.WaitAsync(s_silentTick, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                _filled();
            }
        }
    }

    /// <summary>
    /// Reading failed (damaged compressed input, an I/O error): what was read before counts, including the
    /// line in progress (<paramref name="unterminated"/>), taken as a last line without a newline — for damaged
    /// compressed input it is the end of what decoded.
    /// </summary>
    private bool Fail(Exception e, ReadOnlySequence<byte> unterminated)
    {
        Error = e;
        if (unterminated.IsEmpty)
        {
            Stop();
            return false;
        }

        _buffer = unterminated;
        _position = unterminated.Start;
        _completed = true;
        return true;
    }

    private bool Accept(ReadOnlySequence<byte> seq, out ReadOnlySpan<byte> line)
    {
        if (seq.Length > _maxLine)
        {
            _totals.Lines++;
            _totals.OverlongLines++;
            line = default;
            return false;
        }

        _totals.Lines++;
        _current = seq;
        if (!seq.IsSingleSegment)
        {
            seq.CopyTo(_straddle);
        }

        line = Current;
        return true;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        ArrayPool<byte>.Shared.Return(_straddle);

        if (LastEntry is not null)
        {
            ArrayPool<byte>.Shared.Return(LastEntry);
            LastEntry = null;
        }

        if (_reader is not null && !_abandoned)
        {
            _reader.Complete();
        }
    }
}

/// <summary>One input of a time-ordered merge as <see cref="LogScanner.Earliest"/> sees it.</summary>
internal interface IMergeHead
{
    /// <summary>True when the input holds a line (or record) taken but not yet passed on.</summary>
    bool HasHead { get; }

    /// <summary>The merge key of that line: its time in UTC ticks, or the key of the line before when it has none.</summary>
    long Key { get; }
}
