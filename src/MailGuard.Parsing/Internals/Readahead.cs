using System.IO.Pipelines;

namespace MailGuard.Parsing.Internals;

/// <summary>
/// Decompresses on another core while the scan parses: a task reads the source (a gzip stream) into a
/// pipe of at most 1 MiB, and the scan reads the pipe. A failure of the source (corrupt or truncated
/// gzip) reaches the reader as the same exception; disposing the reader stops the task.
/// </summary>
internal static class Readahead
{
    private const int Chunk = 64 * 1024;

    public static Stream Start(Stream source)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1 << 20, resumeWriterThreshold: 1 << 19, useSynchronizationContext: false));
        _ = Task.Run(() => Fill(source, pipe.Writer));
        return pipe.Reader.AsStream();
    }

    private static async Task Fill(Stream source, PipeWriter writer)
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

            await writer.CompleteAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // every failure goes to the reader, which rethrows it
        catch (Exception e)
#pragma warning restore CA1031
        {
            await writer.CompleteAsync(e).ConfigureAwait(false);
        }
        finally
        {
            await source.DisposeAsync().ConfigureAwait(false);
        }
    }
}
