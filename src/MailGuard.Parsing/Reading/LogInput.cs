namespace MailGuard.Parsing;

/// <summary>One input of a merged scan (<see cref="LogScanner.ScanAsync{TSink}(IReadOnlyList{LogInput}, TSink, CancellationToken)"/>).</summary>
/// <param name="name">A name for messages (the file name, <c>-</c> for standard input).</param>
/// <param name="stream">The text to read (see <see cref="LogScanner.OpenMaybeGzip"/>); the caller disposes it.</param>
/// <param name="referenceTime">The instant the log was written up to, for year-less timestamps (a file's modification time); null: the scanner's setting.</param>
public sealed class LogInput(string name, Stream stream, DateTimeOffset? referenceTime = null)
{
    /// <summary>A name for messages.</summary>
    public string Name { get; } = name ?? throw new ArgumentNullException(nameof(name));

    /// <summary>The text to read.</summary>
    public Stream Stream { get; } = stream ?? throw new ArgumentNullException(nameof(stream));

    /// <summary>The instant the log was written up to, for year-less timestamps; null: the scanner's setting.</summary>
    public DateTimeOffset? ReferenceTime { get; } = referenceTime;

    /// <summary>Why reading stopped early (corrupt or truncated gzip, an I/O error), or null; what was read before still counts.</summary>
    public Exception? Error { get; internal set; }
}
