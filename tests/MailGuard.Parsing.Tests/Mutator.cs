using System.Globalization;
using System.Text;

namespace MailGuard.Testing;

/// <summary>
/// Byte-level mutations of log text for the fuzz tests: flips, inserts, deletes, duplicated ranges, splices
/// of the tokens our parsers branch on, and truncation. Deterministic for a seed (printed on failure by the
/// tests), so a failing input can be made again.
/// </summary>
internal sealed class Mutator(int seed)
{
    private static readonly byte[][] s_tokens =
    [
        .. new[]
        {
            " ", "=", "\n", "\r", "\t", "\0", "{", "}", "[", "]", "\"", "\\", ":", ",", "<4>", "<4>1 ", "-", ".", "0x",
            "IN=", "OUT=", "SRC=", "DST=", "LEN=", "TOS=0x00 ", "PROTO=TCP ", "PROTO=UDP ", "SPT=", "DPT=", "UID=", "GID=", "MARK=0x",
            "MAC=", "PHYSIN=", "INCOMPLETE [", "OPT (", " SYN ", "URGP=0 ", "IPTABLES TCP-OUT 25:", "[UFW BLOCK] ",
            "kernel: ", "kernel[4242]: ", "vps kernel - - - ", "Nov 23 02:14:07 ", "2026-11-23T02:14:07.123456+00:00 ",
            "[  123.456789] ", "4,511,719221538,-;", "message repeated 2147483647 times: [ ", "last message repeated 4294967295 times",
            "[193B blob data]", "-- Boot 0123 --", "{\"MESSAGE\":\"", "\\ud800", "\\u0000", "\\\"", "\\n", "\",\"_TRANSPORT\":\"syslog\"",
            "\",\"_TRANSPORT\":\"kernel\"", "\",\"_UID\":\"99999999999\"", "\",\"MESSAGE\":[73,78,61,", "255,256]", "99999999999999999999",
            "2001:db8::1", "2001:0db8:0000:0000:0000:0000:0000:0001", "255.255.255.255", "256.1.1.1", "x;id>/tmp/PWNED;#",
            "\u001b]0;title\u0007", "\u202e", "\u00e9", "data: {",
        }.Select(Encoding.UTF8.GetBytes),
        [0xFF], [0xC3], [0xE2, 0x80], [0x1E],
    ];

    private readonly Random _random = new(seed);

    public int Next(int max) => _random.Next(max);

    /// <summary>One to <paramref name="maxSteps"/> mutations of <paramref name="input"/>.</summary>
    public byte[] Mutate(ReadOnlySpan<byte> input, int maxSteps = 4)
    {
        var data = new List<byte>(input.Length + 64);
        foreach (byte b in input)
        {
            data.Add(b);
        }

        int steps = 1 + _random.Next(maxSteps);
        for (int s = 0; s < steps; s++)
        {
            int at = data.Count == 0 ? 0 : _random.Next(data.Count + 1);
            switch (_random.Next(9))
            {
                case 0 when data.Count > 0: // flip a bit
                    data[Math.Min(at, data.Count - 1)] ^= (byte)(1 << _random.Next(8));
                    break;
                case 1 when data.Count > 0: // a random byte
                    data[Math.Min(at, data.Count - 1)] = (byte)_random.Next(256);
                    break;
                case 2: // insert a token
                    data.InsertRange(at, s_tokens[_random.Next(s_tokens.Length)]);
                    break;
                case 3 when data.Count > 0: // delete a range
                    data.RemoveRange(Math.Min(at, data.Count - 1), Math.Min(1 + _random.Next(16), data.Count - Math.Min(at, data.Count - 1)));
                    break;
                case 4 when data.Count > 1: // duplicate a range
                {
                    int from = _random.Next(data.Count - 1);
                    int length = Math.Min(1 + _random.Next(32), data.Count - from);
                    data.InsertRange(at, data.GetRange(from, length));
                    break;
                }

                case 5: // cut
                    data.RemoveRange(at, data.Count - at);
                    break;
                case 6: // a number at a digit
                {
                    int digit = data.FindIndex(Math.Min(at, data.Count), b => b is >= (byte)'0' and <= (byte)'9');
                    if (digit >= 0)
                    {
                        string n = _random.Next(4) switch
                        {
                            0 => "0",
                            1 => uint.MaxValue.ToString(CultureInfo.InvariantCulture),
                            2 => "4294967296",
                            _ => _random.Next().ToString(CultureInfo.InvariantCulture),
                        };
                        data.InsertRange(digit, Encoding.ASCII.GetBytes(n));
                    }

                    break;
                }

                case 7 when data.Count > 0: // swap two ranges' first bytes
                {
                    int j = _random.Next(data.Count);
                    int i = Math.Min(at, data.Count - 1);
                    (data[i], data[j]) = (data[j], data[i]);
                    break;
                }

                default: // a long run of one byte
                    data.InsertRange(at, Enumerable.Repeat((byte)" =A0\n"[_random.Next(5)], 1 + _random.Next(300)));
                    break;
            }
        }

        return [.. data];
    }
}
