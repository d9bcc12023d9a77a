using System.Text;
using MailGuard.Parsing.Internals;

namespace MailGuard.Parsing.Tests;

public class Utf8NumberTests
{
    [Fact]
    public void ParseShortUInt32_EqualsTheDigitLoop_ForEveryNumberBelowTenMillion()
    {
        Span<byte> buffer = stackalloc byte[16];
        int tested = 0;
        for (uint v = 0; v < 10_000_000; v++)
        {
            int digits = Format(v, buffer);
            buffer[digits] = (byte)(v % 3 == 0 ? ' ' : v % 3 == 1 ? '.' : ')');
            buffer[(digits + 1)..].Fill((byte)'7'); // digits after the end must not leak in
            int n = Utf8Number.ParseShortUInt32(buffer, out uint value);
            if (n != digits || value != v)
            {
                Assert.Fail($"{v}: {n} digits, {value}");
            }

            tested++;
        }

        Assert.Equal(10_000_000, tested);
    }

    [Fact]
    public void ParseShortUInt32_GivesUpOrAgreesWithTheDigitLoop_OnAnyBytes()
    {
        var random = new Random(7);
        byte[] alphabet = "0123456789 /:=x\u0000\u00ff"u8.ToArray();
        var buffer = new byte[12];
        int agreed = 0;
        for (int round = 0; round < 1_000_000; round++)
        {
            int length = random.Next(0, buffer.Length + 1);
            for (int i = 0; i < length; i++)
            {
                buffer[i] = alphabet[random.Next(alphabet.Length)];
            }

            ReadOnlySpan<byte> s = buffer.AsSpan(0, length);
            int n = Utf8Number.ParseShortUInt32(s, out uint value);
            if (n == 0)
            {
                continue;
            }

            int m = Utf8Number.ParseUInt32(s, out uint expected);
            Assert.True(n == m && value == expected, Encoding.Latin1.GetString(s));
            agreed++;
        }

        // It must actually take the short numbers, and give up on the rest (fewer than 8 bytes, 8+ digits, no digit).
        Assert.True(agreed > 100_000, $"{agreed}");
        Assert.Equal(0, Utf8Number.ParseShortUInt32("1234567"u8, out _));
        Assert.Equal(0, Utf8Number.ParseShortUInt32("12345678 "u8, out _));
        Assert.Equal(0, Utf8Number.ParseShortUInt32(" 1234567 "u8, out _));
        Assert.Equal(7, Utf8Number.ParseShortUInt32("9999999 "u8, out uint max));
        Assert.Equal(9_999_999u, max);
    }

    private static int Format(uint v, Span<byte> into)
    {
        Assert.True(v.TryFormat(into, out int written, default, System.Globalization.CultureInfo.InvariantCulture));
        return written;
    }
}
