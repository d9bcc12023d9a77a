using System.Buffers;

namespace MailGuard.Parsing;

/// <summary>
/// Reads a stream that cannot be cut in advance (standard input, a pipe, decompressed text) in blocks cut at line ends and
/// hands each block to <see cref="LogScanner.Scan"/>: the vectorised pass over the lines that cannot be entries, as for a
/// file's chunks (<see cref="ParallelScan"/>), instead of the line-by-line split a live view needs.
/// </summary>
/// <remarks>
/// One thread, one scanner, in order: the figures are those of a line-by-line read, exactly. Scanning blocks of a stream on
/// several cores was built and measured (1 GiB generated log spanning 56 minutes, 2 cores): a block's lead-in of at most
/// 4 MiB does not cover the 2-minute retry window there (38 MiB of log), so retransmissions across block edges were
/// counted as new attempts (+722 of 1,883,628, differing from run to run). Exactness first: see the README's Speed section.
/// </remarks>
internal static class StreamBlocks
{
    /// <summary>The size of a block (a line longer than that is counted once, as over-long, and skipped).</summary>
    internal const int BlockSize = 4 << 20;

    /// <summary>Scans <paramref name="stream"/> to its end, a read error or cancellation.</summary>
    /// <typeparam name="TSink">The consumer.</typeparam>
    /// <param name="stream">Plain text (decompressed already).</param>
    /// <param name="scanner">The scanner; its <see cref="LogScanner.Totals"/> count what was read.</param>
    /// <param name="sink">The consumer.</param>
    /// <param name="cancellationToken">Stops reading, also a read blocked on a silent pipe; what was read is scanned and counted.</param>
    /// <returns>The sink after the scan, and why reading stopped before the end (an I/O error, damaged compressed data) or null.</returns>
    public static async Task<(TSink Sink, Exception? Error)> ScanAsync<TSink>(Stream stream, LogScanner scanner, TSink sink, CancellationToken cancellationToken)
        where TSink : ILogSink
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BlockSize);
        bool abandoned = false;
        Exception? error = null;
        ScanTotals totals = scanner.Totals;
        try
        {
            int length = 0; // bytes in the buffer: the unfinished line of the last block, then what was read since
            bool skipping = false; // inside a line longer than a block
            bool end = false;
            while (!end)
            {
                while (length < BlockSize)
                {
                    int read;
                    Task<int>? pending = null;
                    try
                    {
#pragma warning disable CA2012 // consumed exactly once: .Result when already complete, else AsTask()
                        ValueTask<int> reading = stream.ReadAsync(buffer.AsMemory(length, BlockSize - length), cancellationToken);
                        if (!reading.IsCompleted)
                        {
                            pending = reading.AsTask();
                        }

                        // A read blocked on a pipe does not end when the token fires: stop waiting for it instead.
                        read = pending is null ? reading.Result : await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
#pragma warning restore CA2012
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        abandoned = pending is { IsCompleted: false }; // that read may still write into the buffer: it is not reused
                        read = 0;
                    }
                    catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
                    {
                        error = e; // what was read before still counts, the cut line too, as the line-by-line read gives it
                        read = 0;
                    }

                    if (read == 0)
                    {
                        end = true;
                        break;
                    }

                    if (skipping)
                    {
                        int first = buffer.AsSpan(length, read).IndexOf((byte)'\n');
                        totals.Bytes += first < 0 ? read : first + 1;
                        if (first < 0)
                        {
                            continue; // more of the over-long line: dropped
                        }

                        buffer.AsSpan(length + first + 1, read - first - 1).CopyTo(buffer.AsSpan(length));
                        read -= first + 1;
                        skipping = false;
                    }

                    length += read;
                }

                int whole = end ? length : buffer.AsSpan(0, length).LastIndexOf((byte)'\n') + 1;
                if (whole == 0 && !end)
                {
                    // No line end in a whole block: the line is counted once and skipped to its end.
                    totals.Bytes += length;
                    totals.Lines++;
                    totals.OverlongLines++;
                    skipping = true;
                    length = 0;
                    continue;
                }

                scanner.Scan(buffer.AsSpan(0, whole), ref sink);
                buffer.AsSpan(whole, length - whole).CopyTo(buffer);
                length -= whole;
            }
        }
        finally
        {
            if (!abandoned)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        return (sink, error);
    }
}
