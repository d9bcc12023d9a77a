namespace MailGuard.Parsing;

/// <summary>
/// A log file read as a stream that never ends, as <c>tail -F</c> reads it: what is there, then what is appended, across
/// logrotate's rename-and-create (the old file is read to its end first, then the new one from its start) and
/// <c>copytruncate</c> (the file shrinks under the reader: read again from its start). Ends only by cancellation.
/// </summary>
/// <remarks>
/// A new file at the path is told from the one being read by their first bytes (up to 256), not by inode (which .NET does
/// not expose): two logs that begin alike byte for byte would be taken for one. Between a rename and the creation of the
/// new file, the path is missing: the reader waits. Polls every <see cref="Poll"/> when nothing is new.
/// </remarks>
internal sealed class FollowStream : ReadOnlyStream
{
    private const int HeadLength = 256;

    private readonly string _path;
    private FileStream _current;
    private long _position;

    /// <summary>Opens <paramref name="path"/> (a missing file throws here, as for any input).</summary>
    public FollowStream(string path, TimeSpan poll)
    {
        _path = path;
        Poll = poll;
        _current = Open(path);
    }

    /// <summary>How often the file is looked at when nothing is new.</summary>
    public TimeSpan Poll { get; }

    /// <summary>How many times the file was found rotated (renamed and created anew) or truncated.</summary>
    public int Rotations { get; private set; }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = await _current.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (n > 0)
            {
                _position += n;
                return n;
            }

            if (_current.Length < _position)
            {
                // copytruncate: the file was copied away and emptied; what is in it now was written since.
                _current.Position = 0;
                _position = 0;
                Rotations++;
                continue;
            }

            if (TryOpenReplacement() is { } next)
            {
                // rename and create: the old file was read to its end just now; the new one from its start.
                await _current.DisposeAsync().ConfigureAwait(false);
                _current = next;
                _position = 0;
                Rotations++;
                continue;
            }

            await Task.Delay(Poll, cancellationToken).ConfigureAwait(false);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>The file now at the path, when it is another file than the one being read; null when it is the same or missing.</summary>
    private FileStream? TryOpenReplacement()
    {
        FileStream candidate;
        try
        {
            candidate = Open(_path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null; // between the rename and the create
        }

        Span<byte> mine = stackalloc byte[HeadLength];
        Span<byte> theirs = stackalloc byte[HeadLength];
        int a = RandomAccess.Read(_current.SafeFileHandle, mine, 0);
        int b = RandomAccess.Read(candidate.SafeFileHandle, theirs, 0);
        if (a == b && mine[..a].SequenceEqual(theirs[..b]))
        {
            candidate.Dispose();
            return null;
        }

        // Only when the old file, read to its end, stopped growing: a last line written to it after the rename is read first.
        if (_current.Length > _position)
        {
            candidate.Dispose();
            return null;
        }

        return candidate;
    }

    private static FileStream Open(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _current.Dispose();
        }

        base.Dispose(disposing);
    }
}
