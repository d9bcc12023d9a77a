using System.Buffers;
using System.IO.Compression;
using System.IO.Pipelines;
using MailGuard.Parsing.Internals;

namespace MailGuard.Parsing;

/// <summary>Receives every line a <see cref="LogScanner"/> reads, already parsed.</summary>
/// <remarks>Implement it on a struct to have the calls devirtualised; the record's spans are valid only during the call.</remarks>
public interface ILogSink
{
    /// <summary>Called once per line, in input order.</summary>
    /// <param name="kind">What the line is.</param>
    /// <param name="record">The parsed line.</param>
    void OnLine(LineKind kind, ref LogRecord record);
}

/// <summary>Counts of what a <see cref="LogScanner"/> read.</summary>
public sealed class ScanTotals
{
    /// <summary>Bytes read (after decompression).</summary>
    public long Bytes { get; internal set; }

    /// <summary>Lines read, including over-long ones.</summary>
    public long Lines { get; internal set; }

    /// <summary>Selected entries, counting rsyslog repeats (<see cref="LogRecord.Copies"/>).</summary>
    public long Entries { get; internal set; }

    /// <summary>Netfilter entries with a prefix the filter does not select.</summary>
    public long OtherPrefix { get; internal set; }

    /// <summary>Selected netfilter lines that stop early or hold unexpected text.</summary>
    public long Malformed { get; internal set; }

    /// <summary>ebtables / ulogd look-alike lines.</summary>
    public long LookAlike { get; internal set; }

    /// <summary>Kernel lines journalctl hid as <c>[NNNB blob data]</c>.</summary>
    public long Blobs { get; internal set; }

    /// <summary>Lines longer than <see cref="LogScannerOptions.MaxLineLength"/>, skipped.</summary>
    public long OverlongLines { get; internal set; }

    /// <summary>Lines holding a NUL byte (a binary file, or a log file pre-allocated and cut by a crash), not parsed.</summary>
    public long BinaryLines { get; internal set; }

    /// <summary>Adds another set of totals to this one.</summary>
    /// <param name="other">The totals to add.</param>
    public void Add(ScanTotals other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Bytes += other.Bytes;
        Lines += other.Lines;
        Entries += other.Entries;
        OtherPrefix += other.OtherPrefix;
        Malformed += other.Malformed;
        LookAlike += other.LookAlike;
        Blobs += other.Blobs;
        OverlongLines += other.OverlongLines;
        BinaryLines += other.BinaryLines;
    }
}

/// <summary>Settings of a <see cref="LogScanner"/>.</summary>
public sealed class LogScannerOptions
{
    /// <summary>The parser settings (prefix filter, year inference, time zone).</summary>
    public LogLineParserOptions Parser { get; init; } = new();

    /// <summary>Longer lines are skipped and counted in <see cref="ScanTotals.OverlongLines"/>; memory never grows past it. Default 64 KiB.</summary>
    public int MaxLineLength { get; init; } = 64 * 1024;
}

/// <summary>
/// Streams a log (file, standard input, a pipe that never ends) through <see cref="System.IO.Pipelines"/>,
/// splits whole lines without allocating (a line that straddles buffer segments is copied to one pooled
/// buffer), parses each and hands it to an <see cref="ILogSink"/>. gzip input is detected by its magic
/// bytes and decompressed on the fly. Memory stays flat however large the input.
/// </summary>
/// <remarks>One scanner per input stream at a time; not thread-safe.</remarks>
public sealed class LogScanner
{
    private readonly LogLineParser _parser;
    private readonly int _maxLine;

    /// <summary>Creates a scanner.</summary>
    /// <param name="options">Settings; defaults when null.</param>
    public LogScanner(LogScannerOptions? options = null)
    {
        options ??= new LogScannerOptions();
        if (options.MaxLineLength < 256)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "MaxLineLength must be at least 256 bytes.");
        }

        _parser = new LogLineParser(options.Parser);
        _maxLine = options.MaxLineLength;
    }

    /// <summary>What was read so far, over every call.</summary>
    public ScanTotals Totals { get; } = new();

    /// <summary>Returns a stream that decompresses <paramref name="stream"/> when it starts with the gzip magic bytes.</summary>
    /// <param name="stream">The raw input.</param>
    /// <returns>The stream to read lines from.</returns>
    /// <remarks>
    /// For a seekable stream the gzip trailer (the length of the data, modulo 2^32) is read first and checked
    /// at the end, so a truncated <c>.gz</c> raises <see cref="InvalidDataException"/> instead of ending quietly
    /// (.NET's GZipStream does not report a missing end). Not possible on a pipe.
    /// </remarks>
    public static Stream OpenMaybeGzip(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        uint? trailerLength = null;
        if (stream.CanSeek && stream.Length >= 18)
        {
            long start = stream.Position;
            Span<byte> tail = stackalloc byte[4];
            stream.Seek(-4, SeekOrigin.End);
            stream.ReadExactly(tail);
            stream.Position = start;
            trailerLength = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(tail);
        }

        var buffered = new BufferedStream(stream, 64 * 1024);
        Span<byte> magic = stackalloc byte[2];
        int n = 0;
        while (n < 2)
        {
            int r = buffered.Read(magic[n..]);
            if (r == 0)
            {
                break;
            }

            n += r;
        }

        // BufferedStream cannot un-read: restart with what was read in front.
        Stream rest = new PrefixedStream(magic[..n].ToArray(), buffered);
        if (n == 2 && magic[0] == 0x1F && magic[1] == 0x8B)
        {
            var gz = new GZipStream(rest, CompressionMode.Decompress, leaveOpen: false);
            return trailerLength is { } expected ? new LengthCheckedStream(gz, expected) : gz;
        }

        return rest;
    }

    /// <summary>Reads <paramref name="stream"/> to its end (or until <paramref name="cancellationToken"/> fires) and passes every line to <paramref name="sink"/>.</summary>
    /// <typeparam name="TSink">The consumer; a struct for devirtualised calls.</typeparam>
    /// <param name="stream">Plain text (use <see cref="OpenMaybeGzip"/> for files that may be compressed).</param>
    /// <param name="sink">The consumer; passed by reference through the whole scan.</param>
    /// <param name="cancellationToken">Stops the scan; lines read before stay counted.</param>
    /// <returns>The sink after the scan (a struct sink's final state).</returns>
    /// <exception cref="InvalidDataException">The gzip data is corrupt or truncated.</exception>
    public async Task<TSink> ScanAsync<TSink>(Stream stream, TSink sink, CancellationToken cancellationToken = default)
        where TSink : ILogSink
    {
        ArgumentNullException.ThrowIfNull(stream);
        PipeReader reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true));
        byte[] straddle = ArrayPool<byte>.Shared.Rent(_maxLine);
        var state = new State();
        try
        {
            while (true)
            {
                ReadResult result;
                try
                {
                    result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                ReadOnlySequence<byte> buffer = result.Buffer;
                SequencePosition consumed = Process(buffer, result.IsCompleted, ref sink, straddle, ref state);
                reader.AdvanceTo(consumed, buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(straddle);
            await reader.CompleteAsync().ConfigureAwait(false);
        }

        return sink;
    }

    /// <summary>Scans bytes already in memory (every line, the last one even without a newline).</summary>
    /// <typeparam name="TSink">The consumer.</typeparam>
    /// <param name="data">The log text.</param>
    /// <param name="sink">The consumer.</param>
    public void Scan<TSink>(ReadOnlySpan<byte> data, ref TSink sink)
        where TSink : ILogSink
    {
        while (data.Length > 0)
        {
            int nl = data.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = nl < 0 ? data : data[..nl];
            Totals.Bytes += nl < 0 ? data.Length : nl + 1;
            if (line.Length > _maxLine)
            {
                Totals.Lines++;
                Totals.OverlongLines++;
            }
            else
            {
                HandleLine(line, ref sink);
            }

            data = nl < 0 ? default : data[(nl + 1)..];
        }
    }

    /// <summary>Runs one buffer through the line splitter as if it were the whole rest of the input (tests use it to build any segment layout).</summary>
    internal void ScanSequence<TSink>(ReadOnlySequence<byte> buffer, ref TSink sink)
        where TSink : ILogSink
    {
        byte[] straddle = ArrayPool<byte>.Shared.Rent(_maxLine);
        var state = new State();
        Process(buffer, completed: true, ref sink, straddle, ref state);
        ArrayPool<byte>.Shared.Return(straddle);
    }

    private struct State
    {
        public bool SkippingOverlong;
    }

    private SequencePosition Process<TSink>(ReadOnlySequence<byte> buffer, bool completed, ref TSink sink, byte[] straddle, ref State state)
        where TSink : ILogSink
    {
        var reader = new SequenceReader<byte>(buffer);
        while (reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n', advancePastDelimiter: true))
        {
            Totals.Bytes += line.Length + 1;
            if (state.SkippingOverlong)
            {
                state.SkippingOverlong = false; // the tail of a line already counted
                continue;
            }

            Dispatch(line, ref sink, straddle);
        }

        ReadOnlySequence<byte> rest = reader.UnreadSequence;
        if (rest.Length > _maxLine)
        {
            // No newline within the limit: count the line once, drop what we have, skip to its end.
            Totals.Bytes += rest.Length;
            if (!state.SkippingOverlong)
            {
                Totals.Lines++;
                Totals.OverlongLines++;
                state.SkippingOverlong = true;
            }

            return buffer.End;
        }

        if (completed && rest.Length > 0)
        {
            Totals.Bytes += rest.Length;
            if (!state.SkippingOverlong)
            {
                Dispatch(rest, ref sink, straddle); // the last line, without a newline
            }

            return buffer.End;
        }

        return reader.Position;
    }

    private void Dispatch<TSink>(ReadOnlySequence<byte> line, ref TSink sink, byte[] straddle)
        where TSink : ILogSink
    {
        if (line.Length > _maxLine)
        {
            Totals.Lines++;
            Totals.OverlongLines++;
            return;
        }

        if (line.IsSingleSegment)
        {
            HandleLine(line.FirstSpan, ref sink);
            return;
        }

        line.CopyTo(straddle);
        HandleLine(straddle.AsSpan(0, (int)line.Length), ref sink);
    }

    private void HandleLine<TSink>(ReadOnlySpan<byte> line, ref TSink sink)
        where TSink : ILogSink
    {
        Totals.Lines++;
        LineKind kind;
        LogRecord record;
        if (line.IndexOf((byte)0) >= 0)
        {
            Totals.BinaryLines++;
            record = default;
            record.RulePort = -1;
            kind = LineKind.Other;
        }
        else
        {
            kind = _parser.Parse(line, out record);
            switch (kind)
            {
                case LineKind.Entry:
                    Totals.Entries += record.Copies;
                    break;
                case LineKind.OtherPrefix:
                    Totals.OtherPrefix++;
                    break;
                case LineKind.Malformed:
                    Totals.Malformed++;
                    break;
                case LineKind.LookAlike:
                    Totals.LookAlike++;
                    break;
                case LineKind.Blob:
                    Totals.Blobs++;
                    break;
            }
        }

        sink.OnLine(kind, ref record);
    }
}
