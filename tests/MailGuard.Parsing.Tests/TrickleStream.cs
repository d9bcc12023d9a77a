namespace MailGuard.Parsing.Tests;

/// <summary>A stream that returns at most <c>chunk</c> bytes per read, like a slow pipe.</summary>
internal sealed class TrickleStream(byte[] data, int chunk) : MemoryStream(data)
{
    public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(chunk, buffer.Length)]);

    public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(chunk, count));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        base.ReadAsync(buffer[..Math.Min(chunk, buffer.Length)], cancellationToken);
}
