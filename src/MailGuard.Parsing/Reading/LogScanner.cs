using System.Buffers;
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

    /// <summary>
    /// Among <see cref="OtherPrefix"/>: outgoing TCP connections to <see cref="LogLineParserOptions.MailPorts"/> (mail traffic
    /// logged under a prefix the filter does not select: <see cref="LogRecord.OutgoingMail"/>).
    /// </summary>
    public long OtherPrefixMail { get; internal set; }

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

    /// <summary>Selected entries left out by the port or time bounds (<see cref="LineKind.Excluded"/>), counting repeats.</summary>
    public long Excluded { get; internal set; }

    /// <summary>Netfilter lines (and their repeats) already read from another input of the same scan (<see cref="LineKind.Duplicate"/>).</summary>
    public long Duplicates { get; internal set; }

    /// <summary>Records with netfilter text that the log says a process wrote, not the kernel (<see cref="LineKind.Forged"/>); not counted as entries.</summary>
    public long Forged { get; internal set; }

    /// <summary>Repeat notices (<c>message repeated N times</c>, <c>last message repeated N times</c>) that claimed more copies than their interval allows (<see cref="LogScannerOptions.MaxRepeatRate"/>); each was counted at that bound.</summary>
    public long CappedRepeatNotices { get; internal set; }

    /// <summary>The copies the <see cref="CappedRepeatNotices"/> claimed beyond the bound: not counted.</summary>
    public long CappedRepeatCopies { get; internal set; }

    /// <summary>The wrappers the lines were written in (the first line of each input, and every line parsed), in <see cref="LogFormat"/> order.</summary>
    public IReadOnlyList<LogFormat> Formats
    {
        get
        {
            var formats = new List<LogFormat>();
            for (int i = 0; i < 64; i++)
            {
                if ((FormatMask & (1UL << i)) != 0)
                {
                    formats.Add((LogFormat)i);
                }
            }

            return formats;
        }
    }

    /// <summary>Bit i set: a line in <see cref="LogFormat"/> i was read.</summary>
    internal ulong FormatMask { get; set; }

    /// <summary>
    /// Netfilter lines of every kind: entries (selected, excluded, duplicated), other prefixes, malformed, look-alikes,
    /// forged. Zero means the input held no LOG line at all: the rules are missing, or the log is elsewhere.
    /// </summary>
    public long NetfilterLines => Entries + Excluded + Duplicates + OtherPrefix + Malformed + LookAlike + Forged;

    /// <summary>Makes these totals equal to <paramref name="other"/> (a lead-in's counts taken back).</summary>
    internal void Set(ScanTotals other)
    {
        Bytes = Lines = Entries = OtherPrefix = OtherPrefixMail = Malformed = LookAlike = Blobs = OverlongLines = BinaryLines = 0;
        Excluded = Duplicates = Forged = CappedRepeatNotices = CappedRepeatCopies = 0;
        FormatMask = 0;
        Add(other);
    }

    /// <summary>Adds another set of totals to this one.</summary>
    /// <param name="other">The totals to add.</param>
    public void Add(ScanTotals other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Bytes += other.Bytes;
        Lines += other.Lines;
        Entries += other.Entries;
        OtherPrefix += other.OtherPrefix;
        OtherPrefixMail += other.OtherPrefixMail;
        Malformed += other.Malformed;
        LookAlike += other.LookAlike;
        Blobs += other.Blobs;
        OverlongLines += other.OverlongLines;
        BinaryLines += other.BinaryLines;
        Excluded += other.Excluded;
        Duplicates += other.Duplicates;
        Forged += other.Forged;
        FormatMask |= other.FormatMask;
        CappedRepeatNotices += other.CappedRepeatNotices;
        CappedRepeatCopies += other.CappedRepeatCopies;
    }
}

/// <summary>Settings of a <see cref="LogScanner"/>.</summary>
public sealed record LogScannerOptions
{
    /// <summary>The parser settings (prefix filter, year inference, time zone).</summary>
    public LogLineParserOptions Parser { get; init; } = new();

    /// <summary>Longer lines are skipped and counted in <see cref="ScanTotals.OverlongLines"/>; memory never grows past it. Default 64 KiB.</summary>
    public int MaxLineLength { get; init; } = 64 * 1024;

    /// <summary>
    /// When several inputs are merged, how far apart in time two copies of one line may be read and still
    /// be told apart as duplicates (lines of one log may be slightly out of order). Memory for the
    /// de-duplication holds the netfilter lines of this span of time. Default 10 s.
    /// </summary>
    public TimeSpan DuplicateWindow { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Called when every line that has arrived so far was passed on and the scanner waits for more (a live
    /// stream such as <c>journalctl -f</c>): the place to flush output. Never called for input that is
    /// already there, so it costs nothing on files.
    /// </summary>
    public Action? Waiting { get; init; }

    /// <summary>
    /// The most copies a second that a repeat notice may stand for: <c>message repeated N times</c> after an
    /// entry counts at most this many times the whole seconds since that entry, plus one second's worth
    /// (a log line can claim any N, and a forged one would swamp every figure). Notices cut down are counted
    /// in <see cref="ScanTotals.CappedRepeatNotices"/>. Default 10,000.
    /// </summary>
    public int MaxRepeatRate { get; init; } = 10_000;

    /// <summary>
    /// Called after each read of input was passed on (every 64 KiB or less), and every 250 ms while a live stream is
    /// silent, never at the same time as the scan itself: the place for periodic work such as a snapshot of the
    /// statistics. Null: none.
    /// </summary>
    public Action? Filled { get; init; }
}

/// <summary>
/// Streams a log (file, standard input, a pipe that never ends) through <see cref="System.IO.Pipelines"/>,
/// splits whole lines without allocating (a line that straddles buffer segments is copied to one pooled
/// buffer), parses each and hands it to an <see cref="ILogSink"/>. Compressed input (gzip, xz, zstd, bzip2)
/// is detected by its magic bytes and decompressed on the fly (<see cref="OpenMaybeGzip"/>). Memory stays flat however large the input.
/// </summary>
/// <remarks>One scanner per input stream at a time; not thread-safe.</remarks>
public sealed class LogScanner
{
    private readonly LogLineParser _parser;
    private readonly LogScannerOptions _options;
    private LineSource? _spanSource;
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

        if (options.MaxRepeatRate < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "MaxRepeatRate must be at least 1.");
        }

        _options = options;
        _parser = new LogLineParser(options.Parser);
        _maxLine = options.MaxLineLength;
    }

    /// <summary>What was read so far, over every call.</summary>
    public ScanTotals Totals { get; } = new();

    /// <summary>
    /// Returns a stream of the text of <paramref name="stream"/>: decompressed when it starts with the magic
    /// bytes of gzip, xz, Zstandard or bzip2 (<see cref="DetectCompression"/>), else the bytes as they are.
    /// </summary>
    /// <param name="stream">The raw input; the returned stream owns it.</param>
    /// <returns>The stream to read lines from.</returns>
    /// <remarks>
    /// <para>Nothing is read here: the format is told on the first read of the returned stream, which honours
    /// its cancellation token even on a pipe whose reads cannot be cancelled, and which returns whatever a
    /// pipe has delivered without waiting to fill a large buffer (a live <c>journalctl -f |</c> does not stall).</para>
    /// <para>Compressed input is decoded on another thread, up to 1 MiB ahead of the reader. Every byte that
    /// decodes is delivered; damage (input that ends early, corrupt data, a CRC or length mismatch, trailing
    /// garbage) then raises a <see cref="CompressedDataException"/> where the data ends, saying what and where,
    /// on files and pipes alike. Concatenated gzip members (<c>cat a.gz b.gz</c>), xz streams, zstd frames and
    /// bzip2 streams are read to the end; zero bytes after the last gzip member are accepted, as gzip does.</para>
    /// <para>A regular file opened for synchronous I/O is read synchronously even by the asynchronous scan
    /// (no thread-pool hop per read).</para>
    /// </remarks>
    public static Stream OpenMaybeGzip(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (stream is FileStream { CanSeek: true, IsAsync: false } file)
        {
            stream = new SyncFileReads(file); // a regular file: read it on this thread, not one thread-pool hop per read
        }

        return new SniffingStream(stream);
    }

    /// <summary>The compression of input that starts with <paramref name="start"/>, from its magic bytes.</summary>
    /// <param name="start">The first bytes of the input: 10 are enough for every format (bzip2 needs them all; the others 2 to 6).</param>
    /// <returns>The format, or <see cref="CompressionFormat.None"/> for text and for a start too short to tell.</returns>
    public static CompressionFormat DetectCompression(ReadOnlySpan<byte> start) => Compression.Detect(start, atEnd: true, out _);

    /// <summary>Reads <paramref name="stream"/> to its end (or until <paramref name="cancellationToken"/> fires) and passes every line to <paramref name="sink"/>.</summary>
    /// <typeparam name="TSink">The consumer; a struct for devirtualised calls.</typeparam>
    /// <param name="stream">Plain text (use <see cref="OpenMaybeGzip"/> for input that may be compressed).</param>
    /// <param name="sink">The consumer; passed by reference through the whole scan.</param>
    /// <param name="cancellationToken">Stops the scan; lines read before stay counted.</param>
    /// <returns>The sink after the scan (a struct sink's final state).</returns>
    /// <exception cref="CompressedDataException">The compressed input is damaged (thrown after the last line that decoded).</exception>
    /// <exception cref="IOException">Reading failed.</exception>
    public async Task<TSink> ScanAsync<TSink>(Stream stream, TSink sink, CancellationToken cancellationToken = default)
        where TSink : ILogSink
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var source = new LineSource(stream, _parser, _maxLine, Totals, _options.Waiting, _options.Filled);
        while (true)
        {
            Pump(source, 0, long.MaxValue, ref sink, null);
            if (!await source.FillAsync(cancellationToken).ConfigureAwait(false))
            {
                if (source.Error is { } error)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
                }

                return sink;
            }
        }
    }

    /// <summary>
    /// Reads several inputs as one log, in time order whatever order they are given in (a merge by the
    /// time of each line, so rotated sets and overlapping logs interleave correctly), and passes every
    /// line to <paramref name="sink"/>. A netfilter line that another input already gave (the same time
    /// and text: Debian's <c>kern.log</c> and <c>syslog</c>) is passed as <see cref="LineKind.Duplicate"/>
    /// and counted once; repeats within one input stay separate entries. Memory stays bounded: only the
    /// lines of the last <see cref="LogScannerOptions.DuplicateWindow"/> are remembered.
    /// </summary>
    /// <typeparam name="TSink">The consumer; a struct for devirtualised calls.</typeparam>
    /// <param name="inputs">The inputs; one that fails to read gets <see cref="LogInput.Error"/> and the others go on.</param>
    /// <param name="sink">The consumer.</param>
    /// <param name="cancellationToken">Stops the scan; lines read before stay counted.</param>
    /// <returns>The sink after the scan.</returns>
    public async Task<TSink> ScanAsync<TSink>(IReadOnlyList<LogInput> inputs, TSink sink, CancellationToken cancellationToken = default)
        where TSink : ILogSink
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var sources = new LineSource[inputs.Count];
        try
        {
            for (int i = 0; i < sources.Length; i++)
            {
                LogInput input = inputs[i];
                LogLineParser parser = input.ReferenceTime is { } reference
                    ? new LogLineParser(_options.Parser with { Envelope = _options.Parser.Envelope with { ReferenceTime = reference } })
                    : new LogLineParser(_options.Parser);
                sources[i] = new LineSource(input.Stream, parser, _maxLine, Totals, _options.Waiting, _options.Filled);
            }

            var window = sources.Length > 1 ? new DuplicateWindow(_options.DuplicateWindow.Ticks) : null;
            int current = -1;
            while (true)
            {
                // Every source needs a line in hand (its head) to take part in the merge.
                for (int i = 0; i < sources.Length; i++)
                {
                    LineSource s = sources[i];
                    while (!s.Done && !s.HasHead && !Peek(s))
                    {
                        await FillOrFail(s, inputs[i], cancellationToken).ConfigureAwait(false);
                    }
                }

                current = Earliest(sources, current, out long others);
                if (current < 0)
                {
                    return sink;
                }

                LineSource src = sources[current];
                Pump(src, current, others, ref sink, window);
                if (!src.HasHead && !src.Done)
                {
                    await FillOrFail(src, inputs[current], cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            for (int i = 0; i < sources.Length; i++)
            {
                // A failure ends its input like its end does (the line it cut is still read): pass it on here.
                inputs[i].Error ??= sources[i]?.Error;
                sources[i]?.Dispose();
            }
        }
    }

    /// <summary>Scans bytes already in memory (every line, the last one even without a newline); consecutive calls continue one log (a <c>last message repeated</c> notice may follow the previous call's entry).</summary>
    /// <typeparam name="TSink">The consumer.</typeparam>
    /// <param name="data">The log text.</param>
    /// <param name="sink">The consumer.</param>
    public void Scan<TSink>(ReadOnlySpan<byte> data, ref TSink sink)
        where TSink : ILogSink
    {
        LineSource source = _spanSource ??= new LineSource(_parser, _maxLine, Totals); // kept: consecutive calls continue one log
        bool skip = _parser.SkipsOtherLines;
        LogRecord other = default; // handed to the sink for every skipped line
        other.RulePort = -1;
        var hits = new NeedleHits(data);
        int pos = 0;
        if (!source.FormatNoted && data.Length > 0)
        {
            int firstEnd = data.IndexOf((byte)'\n');
            NoteFormat(source, data[..(firstEnd < 0 ? Math.Min(data.Length, _maxLine) : Math.Min(firstEnd, _maxLine))]);
        }

        while (pos < data.Length)
        {
            ReadOnlySpan<byte> rest = data[pos..];
            int candidate = skip ? hits.Next(pos) : pos;
            if (candidate - pos >= PlainRun && !LogLineParser.HasSpecialStart(rest))
            {
                // Whole lines before a distant candidate (at most one line limit of them, so none is over-long)
                // are counted in one pass, not split one by one, up to a line that may start specially.
                int limit = Math.Min(Math.Min(candidate, data.Length) - pos, _maxLine);
                int runEnd = rest[..limit].LastIndexOf((byte)'\n') + 1;
                if (runEnd > 0)
                {
                    int lines = PlainLines.Count(rest[..runEnd], out int runLength);
                    Totals.Bytes += runLength;
                    Totals.Lines += lines;
                    source.LastEntryLength = -1;
                    for (int i = 0; i < lines; i++)
                    {
                        sink.OnLine(LineKind.Other, ref other);
                    }

                    pos += runLength;
                    continue;
                }
            }

            int nl = rest.IndexOf((byte)'\n');
            int length = nl < 0 ? rest.Length : nl;
            ReadOnlySpan<byte> line = rest[..length];
            Totals.Bytes += nl < 0 ? rest.Length : nl + 1;
            Totals.Lines++;
            if (length > _maxLine)
            {
                Totals.OverlongLines++;
            }
            else if (skip && hits.NoneIn(pos, pos + length) && !LogLineParser.HasSpecialStart(line))
            {
                // No IN=, repeat notice, blob or NUL in the line (known from one search over the whole block)
                // and no separator or JSON start: not an entry.
                source.LastEntryLength = -1;
                sink.OnLine(LineKind.Other, ref other);
            }
            else
            {
                // A line that may be an entry: parsed without looking for IN= again.
                LineKind kind = Classify(source, line, out LogRecord record, skipOther: false);
                Deliver(source, 0, line, kind, ref record, ref sink, null);
            }

            pos += length + 1;
        }
    }

    /// <summary>
    /// The least distance to the next candidate for which the lines before it are counted in one pass
    /// (<see cref="PlainLines"/>): that pass compares more per byte than a newline search, so it only pays
    /// over several lines. AOT, 2 cores, loggen logs: 1 % entries (512 MiB) 0.188 → 0.173 s; 30 % entries (about
    /// three lines between candidates: 1.06 → 1.13 s when every run was counted so) unchanged, 1.09 / 1.10 s.
    /// </summary>
    private const int PlainRun = 1024;

    /// <summary>
    /// Where the next text that makes a line worth parsing (<c>IN=</c>, a repeat notice, a journal blob, a
    /// NUL byte) is in a block: found by one vectorised search (<see cref="LineCandidates"/>) that goes on
    /// from its last hit, so the lines between hits are passed over without a search of their own.
    /// </summary>
    private ref struct NeedleHits(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _next = -1; // the next candidate at or after the last line asked about; int.MaxValue: none left

        /// <summary>True when no candidate starts in [<paramref name="start"/>, <paramref name="end"/>) (lines are asked about in order).</summary>
        public bool NoneIn(int start, int end) => Next(start) >= end;

        /// <summary>The first candidate at or after <paramref name="start"/>, or <see cref="int.MaxValue"/>.</summary>
        public int Next(int start)
        {
            if (_next < start)
            {
                int at = LineCandidates.IndexOf(_data[start..]);
                _next = at < 0 ? int.MaxValue : start + at;
            }

            return _next;
        }
    }

    /// <summary>Runs one buffer through the line splitter as if it were the whole rest of the input (tests use it to build any segment layout).</summary>
    internal void ScanSequence<TSink>(ReadOnlySequence<byte> buffer, ref TSink sink)
        where TSink : ILogSink
    {
        using var source = new LineSource(buffer, _parser, _maxLine, Totals);
        Pump(source, 0, long.MaxValue, ref sink, null);
    }

    private static async ValueTask FillOrFail(LineSource source, LogInput input, CancellationToken cancellationToken)
    {
        if (!await source.FillAsync(cancellationToken).ConfigureAwait(false))
        {
            input.Error ??= source.Error;
        }
    }

    /// <summary>Takes the next line of <paramref name="source"/> as its head and works out its time (the merge key).</summary>
    private static bool Peek(LineSource source)
    {
        if (!source.TryTake(out ReadOnlySpan<byte> line))
        {
            return false;
        }

        Classify(source, line, out LogRecord record);
        source.Key = KeyOf(source, ref record);
        source.HasHead = true;
        return true;
    }

    /// <summary>
    /// The input whose head comes first, or -1 when none has one; <paramref name="others"/>: the earliest head of the others.
    /// On a tie the input read last (<paramref name="current"/>) goes on, as it does within a buffer (<see cref="Pump"/> passes
    /// a line not later than the others' heads), else the first: so the order, and every figure that depends on it (attempts
    /// of a flow whose lines are out of order across inputs), does not depend on where a read or a block happened to end.
    /// </summary>
    internal static int Earliest<TSource>(TSource[] sources, int current, out long others)
        where TSource : IMergeHead
    {
        int best = -1;
        long bestKey = long.MaxValue;
        others = long.MaxValue;
        for (int i = 0; i < sources.Length; i++)
        {
            TSource s = sources[i];
            if (!s.HasHead)
            {
                continue;
            }

            if (best < 0 || s.Key < bestKey || (s.Key == bestKey && i == current))
            {
                others = Math.Min(others, bestKey);
                best = i;
                bestKey = s.Key;
            }
            else
            {
                others = Math.Min(others, s.Key);
            }
        }

        return best;
    }

    /// <summary>
    /// Passes the lines of <paramref name="source"/> to the sink while their time is not after
    /// <paramref name="others"/> (the earliest head of the other inputs). Stops when the buffer is used up
    /// (then the caller reads more) or when a later line comes (it stays the source's head).
    /// </summary>
    private void Pump<TSink>(LineSource source, int index, long others, ref TSink sink, DuplicateWindow? window)
        where TSink : ILogSink
    {
        LineKind kind;
        LogRecord record;
        if (source.HasHead)
        {
            source.HasHead = false;
            ReadOnlySpan<byte> head = source.Current;
            kind = Classify(source, head, out record); // parsed once for its key; the record did not survive
            Deliver(source, index, head, kind, ref record, ref sink, window);
        }

        bool skip = source.Parser.SkipsOtherLines;
        LogRecord other = default;
        other.RulePort = -1;
        while (source.TryTake(out ReadOnlySpan<byte> line))
        {
            if (!source.FormatNoted)
            {
                NoteFormat(source, line);
            }

            if (skip && PassOther(source, line, ref other, ref sink))
            {
                continue;
            }

            kind = Classify(source, line, out record);
            if (others != long.MaxValue)
            {
                long key = KeyOf(source, ref record);
                source.Key = key;
                if (key > others)
                {
                    source.HasHead = true; // another input is earlier: this line waits
                    return;
                }
            }

            Deliver(source, index, line, kind, ref record, ref sink, window);
        }
    }

    /// <summary>The wrapper of an input's first line, parsed whatever it is: a log without any LOG line still says what it is.</summary>
    private void NoteFormat(LineSource source, ReadOnlySpan<byte> line)
    {
        source.FormatNoted = true;
        if (line.IndexOf((byte)0) < 0)
        {
            source.Parser.Parse(line, out LogRecord record, skipOther: false);
            Totals.FormatMask |= 1UL << (int)record.Envelope.Format;
        }
    }

    /// <summary>With <see cref="LogLineParserOptions.SkipOtherLines"/>: a line that cannot be an entry (<see cref="LogLineParser.MayBeEntry"/>) goes to the sink as Other, without zeroing a record for it (what Deliver does for an Other line).</summary>
    private static bool PassOther<TSink>(LineSource source, ReadOnlySpan<byte> line, ref LogRecord other, ref TSink sink)
        where TSink : ILogSink
    {
        if (LogLineParser.MayBeEntry(line))
        {
            return false;
        }

        source.LastEntryLength = -1;
        sink.OnLine(LineKind.Other, ref other);
        return true;
    }

    private static long KeyOf(LineSource source, ref LogRecord record) =>
        record.Envelope.Time is { } t ? t.UtcTicks : source.Key; // lines without a time stay with their neighbours

    private static LineKind Classify(LineSource source, ReadOnlySpan<byte> line, out LogRecord record) => Classify(source, line, out record, source.Parser.SkipsOtherLines);

    private static LineKind Classify(LineSource source, ReadOnlySpan<byte> line, out LogRecord record, bool skipOther)
    {
        if (line.IndexOf((byte)0) >= 0)
        {
            record = default;
            record.RulePort = -1;
            return LineKind.Binary;
        }

        return source.Parser.Parse(line, out record, skipOther);
    }

    private void Deliver<TSink>(LineSource source, int index, ReadOnlySpan<byte> line, LineKind kind, ref LogRecord record, ref TSink sink, DuplicateWindow? window, bool repeat = false)
        where TSink : ILogSink
    {
        if (kind is not (LineKind.Binary or LineKind.Other))
        {
            Totals.FormatMask |= 1UL << (int)record.Envelope.Format; // an Other line may have been passed over unparsed
        }

        switch (kind)
        {
            case LineKind.Binary:
                Totals.BinaryLines++;
                break;
            case LineKind.RepeatedPrevious:
                if (source.LastEntryLength >= 0 && record.Envelope.RepeatCount > 0)
                {
                    Repeat(source, index, ref record, ref sink, window);
                    return;
                }

                break;
            case LineKind.Blob:
                Totals.Blobs++;
                break;
            case LineKind.LookAlike:
                Totals.LookAlike++;
                break;
            case LineKind.Forged:
                Totals.Forged++;
                break;
        }

        // What a following "last message repeated" repeats is decided by the line itself, not by whether another input had
        // it first: a worker parsing one input's block (StreamBlocks.MergeAsync) cannot know that.
        bool entryLine = kind is LineKind.Entry or LineKind.Excluded;
        if (kind is LineKind.Entry or LineKind.OtherPrefix or LineKind.Malformed or LineKind.Excluded)
        {
            if (record.Envelope.RepeatCount > 0 && !repeat)
            {
                BoundRepeats(source, ref record); // a notice after the line is bounded in Repeat
            }

            if (window is not null)
            {
                kind = window.Admit(index, ref record, kind, Totals);
            }

            switch (kind)
            {
                case LineKind.Entry:
                    Totals.Entries += record.Copies;
                    break;
                case LineKind.OtherPrefix:
                    Totals.OtherPrefix++;
                    if (record.OutgoingMail)
                    {
                        Totals.OtherPrefixMail++;
                    }

                    break;
                case LineKind.Malformed:
                    Totals.Malformed++;
                    break;
                case LineKind.Excluded:
                    Totals.Excluded += record.Copies;
                    break;
            }
        }

        if (entryLine)
        {
            if (!repeat)
            {
                source.Remember(line, record.Envelope.Time);
            }
        }
        else if (kind != LineKind.Separator)
        {
            source.LastEntryLength = -1;
        }

        sink.OnLine(kind, ref record);
    }

    /// <summary><c>last message repeated N times</c> after an entry: the entry again, standing for N copies.</summary>
    private void Repeat<TSink>(LineSource source, int index, ref LogRecord notice, ref TSink sink, DuplicateWindow? window)
        where TSink : ILogSink
    {
        int copies = notice.Envelope.RepeatCount;
        DateTimeOffset? time = notice.Envelope.Time;
        ReadOnlySpan<byte> previous = source.LastEntry.AsSpan(0, source.LastEntryLength);
        LineKind kind = source.Parser.Parse(previous, out LogRecord record);
        record.Envelope.RepeatCount = copies - 1;
        if (time is not null)
        {
            record.Envelope.Time = time;
        }

        long bound = RepeatBound(source, time);
        if (copies > bound)
        {
            Totals.CappedRepeatNotices++;
            Totals.CappedRepeatCopies += copies - bound;
            record.Envelope.RepeatCount = (int)bound - 1;
        }

        Deliver(source, index, previous, kind, ref record, ref sink, window, repeat: true);
    }

    /// <summary><c>message repeated N times: [ … ]</c>: the line stands for 1 + N entries, at most <see cref="RepeatBound"/>.</summary>
    private void BoundRepeats(LineSource source, ref LogRecord record)
    {
        long copies = record.Copies;
        long bound = RepeatBound(source, record.Envelope.Time);
        if (copies > bound)
        {
            Totals.CappedRepeatNotices++;
            Totals.CappedRepeatCopies += copies - bound;
            record.Envelope.RepeatCount = (int)bound - 1;
        }
    }

    /// <summary>
    /// How many entries one repeat notice may stand for: <see cref="LogScannerOptions.MaxRepeatRate"/> for every
    /// whole second since the input's last entry, plus one second's worth (all a notice without times can claim).
    /// </summary>
    private long RepeatBound(LineSource source, DateTimeOffset? notice)
    {
        long seconds = 1;
        if (notice is { } t && source.LastEntryTicks != long.MinValue && t.UtcTicks > source.LastEntryTicks)
        {
            seconds = Math.Min(((t.UtcTicks - source.LastEntryTicks) / TimeSpan.TicksPerSecond) + 1, int.MaxValue / _options.MaxRepeatRate);
        }

        return Math.Max(1, seconds * _options.MaxRepeatRate);
    }
}
