using System.Buffers;

namespace MailGuard.Parsing.AppLogs;

/// <summary>
/// Reads one application log line by line on the caller's thread, for the join to pull from as the kernel's time
/// advances. A line longer than the buffer is passed over (counted in <see cref="Lines"/>, not parsed).
/// </summary>
internal sealed class AppLogReader : IDisposable
{
    private const int BufferSize = 256 * 1024;

    private readonly Stream _stream;
    private readonly Stream _raw;
    private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
    private int _start;
    private int _end;
    private bool _eof;
    private bool _skipping; // inside a line longer than the buffer

    /// <param name="name">The input's name.</param>
    /// <param name="raw">The input as opened; disposed with the reader.</param>
    /// <param name="parser">The parser (its envelope options carry the file's reference time for year-less stamps).</param>
    /// <param name="order">The input's place among all inputs.</param>
    public AppLogReader(string name, Stream raw, AppLineParser parser, int order)
    {
        Name = name;
        _raw = raw;
        _stream = LogScanner.OpenMaybeGzip(raw);
        Parser = parser;
        Order = order;
    }

    public string Name { get; }

    public AppLineParser Parser { get; }

    /// <summary>The input's place among all inputs given.</summary>
    public int Order { get; }

    /// <summary>Whose log it is: the first program recognised in it.</summary>
    public AppProgram Program { get; set; }

    public long Lines { get; set; }

    public long Used { get; set; }

    public long Connections { get; set; }

    public long First { get; set; } = long.MinValue;

    public long Last { get; set; } = long.MinValue;

    public Exception? Error { get; private set; }

    /// <summary>The line <see cref="TryPeek"/> gives was parsed: its time is <see cref="PeekTicks"/>.</summary>
    public bool HasPeek { get; set; }

    public long PeekTicks { get; set; }

    /// <summary>True once every line was taken.</summary>
    public bool Done => _eof && _start == _end;

    /// <summary>The next line (without its newline), left in place until <see cref="Take"/>; false at the end.</summary>
    public bool TryPeek(out ReadOnlySpan<byte> line)
    {
        while (true)
        {
            if (_buffer is null)
            {
                line = default;
                return false;
            }

            int nl = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (nl >= 0 && !_skipping)
            {
                line = _buffer.AsSpan(_start, nl);
                return true;
            }

            if (nl >= 0)
            {
                _start += nl + 1; // the end of an overlong line
                _skipping = false;
                Lines++;
                continue;
            }

            if (_eof)
            {
                if (_start < _end && !_skipping)
                {
                    line = _buffer.AsSpan(_start, _end - _start); // a last line without a newline
                    return true;
                }

                if (_skipping)
                {
                    _skipping = false;
                    Lines++;
                }

                _start = _end;
                line = default;
                return false;
            }

            Fill();
        }
    }

    /// <summary>Passes the line <see cref="TryPeek"/> gave.</summary>
    public void Take()
    {
        int nl = _buffer!.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
        _start = nl < 0 ? _end : _start + nl + 1;
        Lines++;
    }

    private void Fill()
    {
        byte[] buffer = _buffer!;
        if (_start > 0)
        {
            buffer.AsSpan(_start, _end - _start).CopyTo(buffer);
            _end -= _start;
            _start = 0;
        }

        if (_end == buffer.Length)
        {
            _skipping = true; // no newline in a whole buffer: pass the line over
            _start = _end = 0;
        }

        try
        {
            int n = _stream.Read(buffer.AsSpan(_end));
            if (n == 0)
            {
                _eof = true;
            }

            _end += n;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            Error = e;
            _eof = true;
        }
    }

    public void Dispose()
    {
        if (_buffer is { } b)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(b);
        }

        _stream.Dispose();
        _raw.Dispose();
    }
}
