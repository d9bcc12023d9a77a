using System.IO.Pipelines;
using System.Runtime.ExceptionServices;

namespace MailGuard.Parsing.Internals;

/// <summary>
/// Decompresses on another core while the scan parses: a task reads the source (a decoder) into a pipe of
/// at most 1 MiB, and the scan reads the pipe. A failure of the source (damaged input) reaches the reader
/// as the same exception, but only after every byte the source delivered before it was read: the pipe is
/// completed normally and the exception thrown in place of its end, so what is read does not depend on
/// how far ahead the task was. Disposing the reader stops the task.
/// </summary>
internal static class Readahead
{
    private const int Chunk = 64 * 1024;

    public static Stream Start(Stream source)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1 << 20, resumeWriterThreshold: 1 << 19, useSynchronizationContext: false));
        var reader = new ReaderStream(pipe.Reader.AsStream());
        _ = Task.Run(() => Fill(source, pipe.Writer, reader));
        return reader;
    }

    private static async Task Fill(Stream source, PipeWriter writer, ReaderStream reader)
    {
        try
        {
            while (true)
            {
                Memory<byte> memory = writer.GetMemory(Chunk);
                int read = source.Read(memory.Span); // CPU-bound decompression: no point awaiting
                if (read == 0)
                {
                    break;
                }

                writer.Advance(read);
                FlushResult flushed = await writer.FlushAsync().ConfigureAwait(false);
                if (flushed.IsCompleted)
                {
                    break; // the reader is gone
                }
            }
        }
#pragma warning disable CA1031 // every failure goes to the reader, which rethrows it at the end of the data
        catch (Exception e)
#pragma warning restore CA1031
        {
            reader.Error = ExceptionDispatchInfo.Capture(e); // published by the completion below
        }
        finally
        {
            await writer.CompleteAsync().ConfigureAwait(false);
            await source.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The pipe's reading end; throws the source's failure where the data ends.</summary>
    private sealed class ReaderStream(Stream pipe) : ReadOnlyWrapperStream(pipe)
    {
        public ExceptionDispatchInfo? Error { get; set; }

        public override int Read(Span<byte> buffer) => AtEnd(Inner.Read(buffer), buffer.Length);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            AtEnd(await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false), buffer.Length);

        private int AtEnd(int n, int asked)
        {
            if (n == 0 && asked > 0)
            {
                Error?.Throw();
            }

            return n;
        }
    }
}
