using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MailGuard.Parsing.Internals;

/// <summary>
/// Counts, in one vectorised pass, the lines of a run that <see cref="LineCandidates"/> found no candidate in,
/// so they are passed over without being split one by one. A line whose first byte might make it special to
/// the envelope parser (<see cref="LogLineParser.HasSpecialStart"/>: a space, tab, record separator,
/// <c>{</c>, <c>-</c>, <c>d</c>, or an empty line) ends the run, and the caller looks at it line by line.
/// </summary>
internal static class PlainLines
{
    /// <summary>
    /// Counts the whole lines at the start of <paramref name="run"/> (which ends with a newline) up to, not
    /// including, the first line after the first whose first byte may be special; <paramref name="length"/> is
    /// their length in bytes with their newlines. The first line's start is the caller's to check.
    /// </summary>
    public static int Count(ReadOnlySpan<byte> run, out int length)
    {
        int lines = 0;
        int i = 0;
        ref byte start = ref MemoryMarshal.GetReference(run);
        if (Vector128.IsHardwareAccelerated)
        {
            // The byte after each newline is looked at too, so the last vector ends one byte before the run.
            for (; i <= run.Length - Vector128<byte>.Count - 1; i += Vector128<byte>.Count)
            {
                Vector128<byte> b0 = Vector128.LoadUnsafe(ref Unsafe.Add(ref start, i));
                Vector128<byte> b1 = Vector128.LoadUnsafe(ref Unsafe.Add(ref start, i + 1));
                Vector128<byte> newline = Vector128.Equals(b0, Vector128.Create((byte)'\n'));
                uint special = (newline & SpecialFirst(b1)).ExtractMostSignificantBits();
                uint newlines = newline.ExtractMostSignificantBits();
                if (special != 0)
                {
                    // Count the lines up to and including the newline before the special start.
                    int at = BitOperations.TrailingZeroCount(special);
                    lines += BitOperations.PopCount(newlines & (uint)((2UL << at) - 1));
                    length = i + at + 1;
                    return lines;
                }

                lines += BitOperations.PopCount(newlines);
            }
        }

        for (; i < run.Length; i++)
        {
            if (run[i] == (byte)'\n')
            {
                lines++;
                if (i + 1 < run.Length && MaySpecial(run[i + 1]))
                {
                    length = i + 1;
                    return lines;
                }
            }
        }

        length = run.Length;
        return lines;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> SpecialFirst(Vector128<byte> b) =>
        Vector128.Equals(b, Vector128.Create((byte)' ')) | Vector128.Equals(b, Vector128.Create((byte)'\t')) |
        Vector128.Equals(b, Vector128.Create((byte)0x1E)) | Vector128.Equals(b, Vector128.Create((byte)'{')) |
        Vector128.Equals(b, Vector128.Create((byte)'-')) | Vector128.Equals(b, Vector128.Create((byte)'d')) |
        Vector128.Equals(b, Vector128.Create((byte)'\n'));

    private static bool MaySpecial(byte b) => b is (byte)' ' or (byte)'\t' or 0x1E or (byte)'{' or (byte)'-' or (byte)'d' or (byte)'\n';
}
