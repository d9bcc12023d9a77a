using System.Text;

namespace MailGuard.Cli;

/// <summary>
/// The writer of everything mgscan shows as text (the table, the verdict, CSV, --list, messages on stderr):
/// whatever is written passes through <see cref="TerminalText"/>, and only the line ends that
/// <c>WriteLine</c> adds reach the terminal as they are. Text from a log cannot escape it, however it was
/// composed, so a new report line needs no care of its own; a renderer escapes earlier only where it
/// measures widths.
/// </summary>
internal sealed class TerminalWriter(TextWriter inner) : TextWriter(inner.FormatProvider)
{
    public override Encoding Encoding => inner.Encoding;

    public override void Write(char value) => Write(new ReadOnlySpan<char>(in value));

    public override void Write(char[] buffer, int index, int count) => Write(buffer.AsSpan(index, count));

    public override void Write(ReadOnlySpan<char> buffer) => TerminalText.Escape(buffer, inner);

    public override void Write(string? value) => Write(value.AsSpan());

    public override void WriteLine() => inner.WriteLine();

    public override void WriteLine(string? value)
    {
        Write(value.AsSpan());
        inner.WriteLine();
    }

    public override void WriteLine(ReadOnlySpan<char> buffer)
    {
        Write(buffer);
        inner.WriteLine();
    }

    public override void WriteLine(char[] buffer, int index, int count) => WriteLine(buffer.AsSpan(index, count));

    public override void Flush() => inner.Flush();

    public override Task FlushAsync() => inner.FlushAsync();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
}

/// <summary>
/// Standard output, telling a failed write (a full disk, EIO, a closed descriptor) from a closed pipe: the
/// first becomes an <see cref="OutputException"/> (one line, exit 2), the second stays an
/// <see cref="IOException"/> that ends mgscan quietly (<c>mgscan … | head</c>).
/// </summary>
internal sealed class OutputStream(Stream inner) : Stream
{
    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        try
        {
            inner.Write(buffer);
        }
        catch (Exception e) when (OutputException.Of(e) is { } failed)
        {
            throw failed;
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (OutputException.Of(e) is { } failed)
        {
            throw failed;
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
        try
        {
            inner.Flush();
        }
        catch (Exception e) when (OutputException.Of(e) is { } failed)
        {
            throw failed;
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        Flush();
        return Task.CompletedTask;
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>Standard output could not be written (not a closed pipe): the message is the system's (No space left on device).</summary>
#pragma warning disable CA1032 // only ever made from the exception it reports
internal sealed class OutputException : Exception
#pragma warning restore CA1032
{
    private OutputException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>The output error <paramref name="e"/> is, or null for a closed pipe and anything else.</summary>
    public static OutputException? Of(Exception e) => e switch
    {
        IOException io when !Scan.IsBrokenPipe(io) => new OutputException(io.Message, io),
        UnauthorizedAccessException { InnerException: IOException io } => new OutputException(io.Message, e), // EBADF: a closed descriptor
        UnauthorizedAccessException => new OutputException(e.Message, e),
        _ => null,
    };
}
