using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MailGuard.Parsing.Internals;

/// <summary>
/// Finds, in one vectorised pass, the next place in a block where a line becomes worth parsing when
/// <see cref="LogLineParserOptions.SkipOtherLines"/> is on: <c>IN=</c> (netfilter text), <c>repeated</c>
/// (a repeat notice), <c>blob data]</c> (a journal blob) or a NUL byte. Each 16-byte step compares the
/// block at three offsets against the first three bytes of each word (a short form of the Teddy
/// algorithm), so the four searches cost about one; candidates are then checked in full.
/// </summary>
internal static class LineCandidates
{
    /// <summary>The offset of the first candidate in <paramref name="data"/>, or -1.</summary>
    public static int IndexOf(ReadOnlySpan<byte> data)
    {
        int i = 0;
        if (Vector128.IsHardwareAccelerated && data.Length >= Vector128<byte>.Count + 2)
        {
            ref byte start = ref MemoryMarshal.GetReference(data);
            int last = data.Length - Vector128<byte>.Count - 2;
            for (; i <= last; i += Vector128<byte>.Count)
            {
                uint bits = Mask(ref Unsafe.Add(ref start, i));
                while (bits != 0)
                {
                    int at = i + BitOperations.TrailingZeroCount(bits);
                    if (IsCandidate(data, at))
                    {
                        return at;
                    }

                    bits &= bits - 1;
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

    private static bool IsCandidate(ReadOnlySpan<byte> data, int at) => data[at] switch
    {
        0 => true,
        (byte)'I' => data[at..].StartsWith("IN="u8),
        (byte)'r' => data[at..].StartsWith("repeated"u8),
        (byte)'b' => data[at..].StartsWith("blob data]"u8),
        _ => false,
    };
}
