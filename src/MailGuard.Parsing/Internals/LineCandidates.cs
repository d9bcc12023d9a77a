using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MailGuard.Parsing.Internals;

/// <summary>
/// Finds, in one vectorised pass, the next place in a block where a line becomes worth parsing when
/// <see cref="LogLineParserOptions.SkipOtherLines"/> is on: <c>IN=</c> (netfilter text), <c>repeated</c>
/// (a repeat notice), <c>blob data]</c> (a journal blob) or a NUL byte. Each 32- or 16-byte step compares the
/// block at three offsets against the first three bytes of each word (a short form of the Teddy
/// algorithm), so the four searches cost about one; candidates are then checked in full.
/// </summary>
internal static class LineCandidates
{
    /// <summary>The offset of the first candidate in <paramref name="data"/>, or -1.</summary>
    public static int IndexOf(ReadOnlySpan<byte> data)
    {
        int i = 0;
        ref byte start = ref MemoryMarshal.GetReference(data);
        if (Vector256.IsHardwareAccelerated)
        {
            // AVX2 (a JIT on a recent x64; the Native AOT build targets older CPUs and takes the 16-byte loop).
            for (; i <= data.Length - Vector256<byte>.Count - 2; i += Vector256<byte>.Count)
            {
                if (First(data, i, Mask256(ref Unsafe.Add(ref start, i)), out int at))
                {
                    return at;
                }
            }
        }

        if (Vector128.IsHardwareAccelerated)
        {
            for (; i <= data.Length - Vector128<byte>.Count - 2; i += Vector128<byte>.Count)
            {
                if (First(data, i, Mask(ref Unsafe.Add(ref start, i)), out int at))
                {
                    return at;
                }
            }
        }

        for (; i < data.Length; i++)
        {
            if (IsCandidate(data, i))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The first of the positions marked in <paramref name="bits"/> (from <paramref name="offset"/>) that holds a whole word.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool First(ReadOnlySpan<byte> data, int offset, uint bits, out int at)
    {
        while (bits != 0)
        {
            at = offset + BitOperations.TrailingZeroCount(bits);
            if (IsCandidate(data, at))
            {
                return true;
            }

            bits &= bits - 1;
        }

        at = -1;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Mask(ref byte at)
    {
        Vector128<byte> b0 = Vector128.LoadUnsafe(ref at);
        Vector128<byte> b1 = Vector128.LoadUnsafe(ref Unsafe.Add(ref at, 1));
        Vector128<byte> b2 = Vector128.LoadUnsafe(ref Unsafe.Add(ref at, 2));
        Vector128<byte> hits =
            (Vector128.Equals(b0, Vector128.Create((byte)'I')) & Vector128.Equals(b1, Vector128.Create((byte)'N')) & Vector128.Equals(b2, Vector128.Create((byte)'=')))
            | (Vector128.Equals(b0, Vector128.Create((byte)'r')) & Vector128.Equals(b1, Vector128.Create((byte)'e')) & Vector128.Equals(b2, Vector128.Create((byte)'p')))
            | (Vector128.Equals(b0, Vector128.Create((byte)'b')) & Vector128.Equals(b1, Vector128.Create((byte)'l')) & Vector128.Equals(b2, Vector128.Create((byte)'o')))
            | Vector128.Equals(b0, Vector128<byte>.Zero);
        return hits.ExtractMostSignificantBits();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Mask256(ref byte at)
    {
        Vector256<byte> b0 = Vector256.LoadUnsafe(ref at);
        Vector256<byte> b1 = Vector256.LoadUnsafe(ref Unsafe.Add(ref at, 1));
        Vector256<byte> b2 = Vector256.LoadUnsafe(ref Unsafe.Add(ref at, 2));
        Vector256<byte> hits =
            (Vector256.Equals(b0, Vector256.Create((byte)'I')) & Vector256.Equals(b1, Vector256.Create((byte)'N')) & Vector256.Equals(b2, Vector256.Create((byte)'=')))
            | (Vector256.Equals(b0, Vector256.Create((byte)'r')) & Vector256.Equals(b1, Vector256.Create((byte)'e')) & Vector256.Equals(b2, Vector256.Create((byte)'p')))
            | (Vector256.Equals(b0, Vector256.Create((byte)'b')) & Vector256.Equals(b1, Vector256.Create((byte)'l')) & Vector256.Equals(b2, Vector256.Create((byte)'o')))
            | Vector256.Equals(b0, Vector256<byte>.Zero);
        return hits.ExtractMostSignificantBits();
    }

    private static bool IsCandidate(ReadOnlySpan<byte> data, int at) => data[at] switch
    {
        0 => true,
        (byte)'I' => data[at..].StartsWith("IN="u8),
        (byte)'r' => data[at..].StartsWith("repeated"u8),
        (byte)'b' => data[at..].StartsWith("blob data]"u8),
        _ => false,
    };
}
