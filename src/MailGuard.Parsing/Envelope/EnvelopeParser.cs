using System.Text.Json;
using MailGuard.Parsing.Internals;

namespace MailGuard.Parsing;

/// <summary>
/// Splits a raw log line into time, host, tag and message for every wrapper real systems put around
/// kernel text: rsyslog (traditional, RFC 3339, RFC 5424), syslog-ng, busybox, journalctl (short modes,
/// cat, json, export), dmesg (raw, <c>-r</c>, <c>-T</c>, <c>-x</c>, iso) and <c>/dev/kmsg</c>. The format is
/// detected on each line, so mixed input works. Allocation-free per line.
/// </summary>
/// <remarks>
/// Not thread-safe: one parser per thread. It keeps a scratch buffer for JSON messages with escapes;
/// <see cref="LogEnvelope"/> spans are valid until the next <see cref="Parse"/> call.
/// </remarks>
public sealed class EnvelopeParser
{
    private readonly DateTime _reference;
    private readonly TimeSpan _offset;
    private readonly TimeZoneInfo? _zone;

    // The last "Mmm dd hh:mm:ss " stamp and what it gave: lines of one second share it (thousands a
    // second in a spam run), and the year inference and date arithmetic are then done once.
    private readonly byte[] _lastStamp = new byte[Rfc3164StampLength];
    private bool _lastStampValid;
    private DateTimeOffset? _lastStampTime;
    private TimestampFlags _lastStampFlags;
    private const int Rfc3164StampLength = 16;
    private byte[] _scratch = new byte[1024];
    private readonly byte[] _command = new byte[96]; // an escaped _COMM, decoded

    /// <summary>Creates a parser.</summary>
    /// <param name="options">Year inference and time zone settings; defaults when null.</param>
    public EnvelopeParser(EnvelopeOptions? options = null)
    {
        options ??= new EnvelopeOptions();
        _offset = options.AssumedOffset;
        if (_offset.Ticks % TimeSpan.TicksPerMinute != 0 || _offset > TimeSpan.FromHours(14) || _offset < TimeSpan.FromHours(-14))
        {
            ThrowHelper.ArgumentOutOfRange(nameof(options), "AssumedOffset must be whole minutes within ±14 hours.");
        }

        _zone = options.TimeZone;
        _reference = _zone is null ? options.ReferenceTime.ToOffset(_offset).DateTime : TimeZoneInfo.ConvertTime(options.ReferenceTime, _zone).DateTime;
    }

    /// <summary>Parses one line (without or with its line terminator).</summary>
    /// <param name="line">The raw bytes of the line.</param>
    /// <param name="envelope">The parts of the line.</param>
    public void Parse(ReadOnlySpan<byte> line, out LogEnvelope envelope)
    {
        envelope = default;
        int len = line.Length;
        while (len > 0 && (line[len - 1] == (byte)'\n' || line[len - 1] == (byte)'\r'))
        {
            len--;
        }

        line = line[..len];
        if (line.IndexOfAnyExcept((byte)' ', (byte)'\t') < 0)
        {
            envelope.Kind = EnvelopeKind.Empty;
            envelope.IsKernel = false;
            return;
        }

        ParseHeader(line, ref envelope, allowPri: true);
    }

    private void ParseHeader(ReadOnlySpan<byte> line, ref LogEnvelope env, bool allowPri)
    {
        byte b = line[0];
        if (b == (byte)'<' && allowPri && TryParsePri(line, out int afterPri))
        {
            ReadOnlySpan<byte> rest = line[afterPri..];
            if (rest.Length > 2 && rest[0] == (byte)'1' && rest[1] == (byte)' ' && (IsDigit(rest[2]) || rest[2] == (byte)'-'))
            {
                ParseRfc5424(rest[2..], ref env);
                return;
            }

            if (rest.Length == 0)
            {
                SetBare(line, ref env);
                return;
            }

            ParseHeader(rest, ref env, allowPri: false);
            return;
        }

        if (b == (byte)'{')
        {
            ParseJson(line, ref env);
            return;
        }

        if (b == 0x1E && line.Length > 1 && line[1] == (byte)'{')
        {
            ParseJson(line[1..], ref env);
            return;
        }

        if (b == (byte)'[')
        {
            ParseBracket(line, ref env);
            return;
        }

        if (IsDigit(b))
        {
            ParseDigitStart(line, ref env);
            return;
        }

        if (IsLetter(b))
        {
            ParseLetterStart(line, ref env);
            return;
        }

        if (b == (byte)'-' && line.StartsWith("-- "u8) && line.EndsWith(" --"u8))
        {
            env.Kind = EnvelopeKind.Separator;
            env.Format = LogFormat.Bare;
            return;
        }

        if (b == (byte)' ' || b == (byte)'\t')
        {
            ReadOnlySpan<byte> t = line.TrimStart(" \t"u8);
            if (t.StartsWith("MESSAGE="u8))
            {
                SetMessage(t[8..], ref env, LogFormat.JournalExport, kernelIfUntagged: true);
                return;
            }
        }

        SetBare(line, ref env);
    }

    private static void SetBare(ReadOnlySpan<byte> line, ref LogEnvelope env) =>
        SetMessage(line, ref env, LogFormat.Bare, kernelIfUntagged: true);

    private static bool TryParsePri(ReadOnlySpan<byte> line, out int after)
    {
        after = 0;
        int i = 1;
        while (i < line.Length && i <= 4 && IsDigit(line[i]))
        {
            i++;
        }

        if (i == 1 || i > 4 || i >= line.Length || line[i] != (byte)'>')
        {
            return false;
        }

        after = i + 1;
        return true;
    }

    // ---------------------------------------------------------------- leading letter

    private void ParseLetterStart(ReadOnlySpan<byte> line, ref LogEnvelope env)
    {
        // "Nov 23 02:14:07 " / "Nov  3 02:14:07.123456 " (RFC 3164, journalctl short/short-precise)
        if (_lastStampValid && line.Length > Rfc3164StampLength && line[..Rfc3164StampLength].SequenceEqual(_lastStamp))
        {
            env.Time = _lastStampTime;
            env.TimeFlags = _lastStampFlags;
            ParseHostTag(line[Rfc3164StampLength..], ref env, LogFormat.Rfc3164);
            return;
        }

        if (TryRfc3164(line, 0, out int month, out int day, out int hour, out int minute, out int second, out long fracTicks, out int end))
        {
            if (month > 0)
            {
                SetLocalTime(ref env, InferYear(month, day, hour, minute, second), month, day, hour, minute, second, fracTicks, TimestampFlags.YearInferred);
            }

            if (end == Rfc3164StampLength)
            {
                line[..Rfc3164StampLength].CopyTo(_lastStamp);
                _lastStampTime = env.Time;
                _lastStampFlags = env.TimeFlags;
                _lastStampValid = true;
            }

            ParseHostTag(line[end..], ref env, LogFormat.Rfc3164);
            return;
        }

        // "Thu 2022-01-13 00:17:01 UTC host kernel: " (journalctl short-full)
        if (line.Length > 24 && line[3] == (byte)' ' && IsDigit(line[4]) && TryIsoDateTime(line, 4, ' ', out int y, out month, out day, out hour, out minute, out second, out fracTicks, out int pos) && pos < line.Length && line[pos] == (byte)' ')
        {
            pos++;
            int zoneEnd = line[pos..].IndexOf((byte)' ');
            if (zoneEnd > 0)
            {
                ReadOnlySpan<byte> zone = line.Slice(pos, zoneEnd);
                if (zone.SequenceEqual("UTC"u8) || zone.SequenceEqual("GMT"u8) || zone.SequenceEqual("Z"u8))
                {
                    SetTime(ref env, y, month, day, hour, minute, second, fracTicks, TimeSpan.Zero, TimestampFlags.None);
                }
                else if (TryParseOffset(zone, out TimeSpan off, out int used) && used == zone.Length)
                {
                    SetTime(ref env, y, month, day, hour, minute, second, fracTicks, off, TimestampFlags.None);
                }
                else
                {
                    SetLocalTime(ref env, y, month, day, hour, minute, second, fracTicks, TimestampFlags.None);
                }

                ParseHostTag(line[(pos + zoneEnd + 1)..], ref env, LogFormat.JournalShortFull);
                return;
            }
        }

        // "kern  :warn  : [  123.456789] msg" (dmesg -x)
        if (TryDmesgDecoration(line, out int msgStart))
        {
            ReadOnlySpan<byte> rest = line[msgStart..];
            if (rest.Length > 0 && rest[0] == (byte)'[' && TryUptime(rest, out TimeSpan up, out int after))
            {
                env.Uptime = up;
                rest = rest[after..];
            }

            SetMessage(rest, ref env, LogFormat.DmesgDecorated, kernelIfUntagged: true);
            return;
        }

        if (line.StartsWith("MESSAGE="u8))
        {
            SetMessage(line[8..], ref env, LogFormat.JournalExport, kernelIfUntagged: true);
            return;
        }

        if (line.StartsWith("data: {"u8))
        {
            ParseJson(line[6..], ref env);
            return;
        }

        SetBare(line, ref env);
    }

    /// <summary>
    /// <c>Mmm dd hh:mm:ss[.frac] </c> with a space- or zero-padded day. A month name that is not English
    /// (journalctl prints the locale's) still parses, with <paramref name="month"/> 0.
    /// </summary>
    private static bool TryRfc3164(ReadOnlySpan<byte> s, int start, out int month, out int day, out int hour, out int minute, out int second, out long fracTicks, out int end)
    {
        month = day = hour = minute = second = 0;
        fracTicks = 0;
        end = 0;
        int i = start;
        int nameLen = 0;
        while (i + nameLen < s.Length && nameLen < 5 && IsLetter(s[i + nameLen]))
        {
            nameLen++;
        }

        if (nameLen < 3 || nameLen > 4 || i + nameLen >= s.Length || s[i + nameLen] != (byte)' ')
        {
            return false;
        }

        month = nameLen == 3 ? MonthFromName(s.Slice(i, 3)) : 0;
        i += nameLen + 1;
        if (i < s.Length && s[i] == (byte)' ')
        {
            i++;
        }

        int d0 = i;
        while (i < s.Length && i - d0 < 2 && IsDigit(s[i]))
        {
            day = (day * 10) + (s[i] - '0');
            i++;
        }

        if (i == d0 || day < 1 || day > 31 || i >= s.Length || s[i] != (byte)' ')
        {
            return false;
        }

        i++;
        if (!TryTime(s, i, out hour, out minute, out second, out fracTicks, out i, allowComma: false))
        {
            return false;
        }

        if (i >= s.Length || s[i] != (byte)' ')
        {
            return false;
        }

        end = i + 1;
        return true;
    }

    private static bool TryTime(ReadOnlySpan<byte> s, int i, out int hour, out int minute, out int second, out long fracTicks, out int end, bool allowComma)
    {
        hour = minute = second = 0;
        fracTicks = 0;
        end = i;
        if (s.Length < i + 8 || s[i + 2] != (byte)':' || s[i + 5] != (byte)':' ||
            !Utf8Number.TryFixedDigits(s[i..], 2, out hour) || !Utf8Number.TryFixedDigits(s[(i + 3)..], 2, out minute) ||
            !Utf8Number.TryFixedDigits(s[(i + 6)..], 2, out second) || hour > 23 || minute > 59 || second > 60)
        {
            return false;
        }

        second = Math.Min(second, 59); // a leap second is kept in its minute
        i += 8;
        if (i < s.Length && (s[i] == (byte)'.' || (allowComma && s[i] == (byte)',')))
        {
            int f0 = ++i;
            long ticks = 0;
            while (i < s.Length && IsDigit(s[i]))
            {
                if (i - f0 < 7)
                {
                    ticks = (ticks * 10) + (s[i] - '0');
                }

                i++;
            }

            if (i == f0)
            {
                return false;
            }

            for (int k = Math.Min(i - f0, 7); k < 7; k++)
            {
                ticks *= 10;
            }

            fracTicks = ticks;
        }

        end = i;
        return true;
    }

    private static int MonthFromName(ReadOnlySpan<byte> m)
    {
        int key = ((m[0] | 0x20) << 16) | ((m[1] | 0x20) << 8) | (m[2] | 0x20);
        return key switch
        {
            ('j' << 16) | ('a' << 8) | 'n' => 1,
            ('f' << 16) | ('e' << 8) | 'b' => 2,
            ('m' << 16) | ('a' << 8) | 'r' => 3,
            ('a' << 16) | ('p' << 8) | 'r' => 4,
            ('m' << 16) | ('a' << 8) | 'y' => 5,
            ('j' << 16) | ('u' << 8) | 'n' => 6,
            ('j' << 16) | ('u' << 8) | 'l' => 7,
            ('a' << 16) | ('u' << 8) | 'g' => 8,
            ('s' << 16) | ('e' << 8) | 'p' => 9,
            ('o' << 16) | ('c' << 8) | 't' => 10,
            ('n' << 16) | ('o' << 8) | 'v' => 11,
            ('d' << 16) | ('e' << 8) | 'c' => 12,
            _ => 0,
        };
    }

    private static bool TryDmesgDecoration(ReadOnlySpan<byte> s, out int msgStart)
    {
        // facility, padding, ':', level, padding, ':', ' '
        msgStart = 0;
        int i = 0;
        for (int field = 0; field < 2; field++)
        {
            int w = i;
            while (i < s.Length && IsLetter(s[i]))
            {
                i++;
            }

            if (i == w)
            {
                return false;
            }

            while (i < s.Length && s[i] == (byte)' ')
            {
                i++;
            }

            if (i >= s.Length || s[i] != (byte)':')
            {
                return false;
            }

            i++;
        }

        if (i >= s.Length || s[i] != (byte)' ')
        {
            return false;
        }

        msgStart = i + 1;
        return true;
    }

    // ---------------------------------------------------------------- leading digit

    private void ParseDigitStart(ReadOnlySpan<byte> line, ref LogEnvelope env)
    {
        // "2026-11-23T18:03:11.361404+00:00 host tag: " / dmesg iso "2026-11-23T22:33:00,459614+00:00 msg"
        if (line.Length > 19 && line[4] == (byte)'-' &&
            TryIsoDateTime(line, 0, 'T', out int y, out int month, out int day, out int hour, out int minute, out int second, out long frac, out int pos))
        {
            bool comma = line[19] == (byte)',';
            if (pos < line.Length && line[pos] == (byte)'Z')
            {
                SetTime(ref env, y, month, day, hour, minute, second, frac, TimeSpan.Zero, TimestampFlags.None);
                pos++;
            }
            else if (pos < line.Length && TryParseOffset(line[pos..], out TimeSpan off, out int used))
            {
                SetTime(ref env, y, month, day, hour, minute, second, frac, off, TimestampFlags.None);
                pos += used;
            }
            else
            {
                SetLocalTime(ref env, y, month, day, hour, minute, second, frac, TimestampFlags.None);
            }

            if (pos < line.Length && line[pos] == (byte)' ')
            {
                pos++;
                if (comma)
                {
                    SetMessage(line[pos..], ref env, LogFormat.DmesgIso, kernelIfUntagged: true);
                }
                else
                {
                    ParseHostTag(line[pos..], ref env, LogFormat.Rfc3339);
                }

                return;
            }

            env.Time = null;
            env.TimeFlags = TimestampFlags.None;
        }

        // "2015 Jan  8 03:37:09 host kernel: " (year first)
        if (line.Length > 9 && line[4] == (byte)' ' && Utf8Number.TryFixedDigits(line, 4, out int year) &&
            TryRfc3164(line, 5, out month, out day, out hour, out minute, out second, out frac, out int endYear))
        {
            if (month > 0)
            {
                SetLocalTime(ref env, year, month, day, hour, minute, second, frac, TimestampFlags.None);
            }

            ParseHostTag(line[endYear..], ref env, LogFormat.Rfc3164);
            return;
        }

        int n = Utf8Number.ParseUInt64(line, out ulong first);
        if (n > 0 && n < line.Length)
        {
            // "/dev/kmsg": "4,511,719221538,-;msg"
            if (line[n] == (byte)',')
            {
                int semi = line.IndexOf((byte)';');
                if (semi > n)
                {
                    ReadOnlySpan<byte> head = line[(n + 1)..semi];
                    int c1 = head.IndexOf((byte)',');
                    if (c1 > 0)
                    {
                        ReadOnlySpan<byte> afterSeq = head[(c1 + 1)..];
                        int m = Utf8Number.ParseUInt64(afterSeq, out ulong usec);
                        if (m > 0 && usec < (ulong)TimeSpan.MaxValue.Ticks / 10)
                        {
                            env.Uptime = TimeSpan.FromTicks((long)usec * 10);
                        }
                    }

                    SetMessage(line[(semi + 1)..], ref env, LogFormat.Kmsg, kernelIfUntagged: true);
                    return;
                }
            }

            // "1642033021.964974 host kernel: " (journalctl short-unix)
            if (line[n] == (byte)'.' && first < 253402300800UL)
            {
                int f0 = n + 1;
                int i = f0;
                long micro = 0;
                while (i < line.Length && IsDigit(line[i]))
                {
                    if (i - f0 < 6)
                    {
                        micro = (micro * 10) + (line[i] - '0');
                    }

                    i++;
                }

                for (int k = Math.Min(i - f0, 6); k < 6; k++)
                {
                    micro *= 10;
                }

                if (i > f0 && i < line.Length && line[i] == (byte)' ')
                {
                    env.Time = DateTimeOffset.UnixEpoch.AddTicks(((long)first * TimeSpan.TicksPerSecond) + (micro * 10));
                    ParseHostTag(line[(i + 1)..], ref env, LogFormat.JournalShortUnix);
                    return;
                }
            }
        }

        SetBare(line, ref env);
    }

    /// <summary><c>YYYY-MM-DD</c>, separator, <c>hh:mm:ss[.frac]</c>; <paramref name="end"/> is just after the time.</summary>
    private static bool TryIsoDateTime(ReadOnlySpan<byte> s, int i, char sep, out int year, out int month, out int day, out int hour, out int minute, out int second, out long fracTicks, out int end)
    {
        month = day = hour = minute = second = 0;
        fracTicks = 0;
        end = 0;
        year = 0;
        if (s.Length < i + 19 || s[i + 4] != (byte)'-' || s[i + 7] != (byte)'-' || s[i + 10] != (byte)sep ||
            !Utf8Number.TryFixedDigits(s[i..], 4, out year) || !Utf8Number.TryFixedDigits(s[(i + 5)..], 2, out month) ||
            !Utf8Number.TryFixedDigits(s[(i + 8)..], 2, out day) || month < 1 || month > 12 || day < 1 || day > 31 || year < 1)
        {
            return false;
        }

        return TryTime(s, i + 11, out hour, out minute, out second, out fracTicks, out end, allowComma: true);
    }

    /// <summary><c>+hh:mm</c>, <c>+hhmm</c>, <c>-hh:mm</c>, <c>-hhmm</c>.</summary>
    private static bool TryParseOffset(ReadOnlySpan<byte> s, out TimeSpan offset, out int used)
    {
        offset = default;
        used = 0;
        if (s.Length < 5 || (s[0] != (byte)'+' && s[0] != (byte)'-') || !Utf8Number.TryFixedDigits(s[1..], 2, out int h))
        {
            return false;
        }

        int m;
        if (s[3] == (byte)':')
        {
            if (s.Length < 6 || !Utf8Number.TryFixedDigits(s[4..], 2, out m))
            {
                return false;
            }

            used = 6;
        }
        else
        {
            if (!Utf8Number.TryFixedDigits(s[3..], 2, out m))
            {
                return false;
            }

            used = 5;
        }

        if (h > 14 || m > 59 || (h == 14 && m > 0)) // DateTimeOffset takes ±14:00 at most
        {
            return false;
        }

        offset = new TimeSpan(h, m, 0);
        if (s[0] == (byte)'-')
        {
            offset = -offset;
        }

        return true;
    }

    // ---------------------------------------------------------------- leading bracket

    private void ParseBracket(ReadOnlySpan<byte> line, ref LogEnvelope env)
    {
        int close = line.IndexOf((byte)']');
        if (close < 2)
        {
            SetBare(line, ref env);
            return;
        }

        if (TryUptime(line, out TimeSpan up, out int after))
        {
            env.Uptime = up;
            ReadOnlySpan<byte> rest = line[after..];

            // journalctl short-delta pads the stamp of its first line on the right: "[ 4502.079655                ] host kernel: msg"
            if (line[close - 1] == (byte)' ')
            {
                ParseHostTag(rest, ref env, LogFormat.JournalShortDelta);
                return;
            }

            // journalctl short-monotonic: "[1840802.579931] host kernel: msg"
            int sp = rest.IndexOf((byte)' ');
            if (sp > 0 && rest[(sp + 1)..].StartsWith("kernel: "u8))
            {
                ParseHostTag(rest, ref env, LogFormat.JournalShortMonotonic);
                return;
            }

            SetMessage(rest, ref env, LogFormat.Dmesg, kernelIfUntagged: true);
            return;
        }

        ReadOnlySpan<byte> inside = line[1..close];
        ReadOnlySpan<byte> msg = close + 1 < line.Length && line[close + 1] == (byte)' ' ? line[(close + 2)..] : line[(close + 1)..];

        // journalctl short-delta: "[ 4503.093835 <    1.014180 >] host kernel: msg" ("*>" where the boot changed)
        if (TryDeltaStamp(inside, out up))
        {
            env.Uptime = up;
            ParseHostTag(msg, ref env, LogFormat.JournalShortDelta);
            return;
        }

        // dmesg -T: "[Mon Nov 23 22:33:00 2026]"
        if (inside.Length == 24 && inside[3] == (byte)' ' && inside[19] == (byte)' ' &&
            TryRfc3164(inside, 4, out int month, out int day, out int hour, out int minute, out int second, out long frac, out int end) &&
            end == 20 && Utf8Number.TryFixedDigits(inside[20..], 4, out int year) && month > 0)
        {
            SetLocalTime(ref env, year, month, day, hour, minute, second, frac, TimestampFlags.None);
            SetMessage(msg, ref env, LogFormat.DmesgCtime, kernelIfUntagged: true);
            return;
        }

        // dmesg --time-format=delta "[<    0.000000>]" and reltime "[Nov23 22:33]": no usable absolute time.
        if ((inside.Length > 2 && inside[0] == (byte)'<' && inside[^1] == (byte)'>') ||
            (inside.Length >= 11 && IsLetter(inside[0]) && IsLetter(inside[1]) && IsLetter(inside[2]) && IsDigit(inside[3]) && inside[^3] == (byte)':'))
        {
            SetMessage(msg, ref env, LogFormat.Dmesg, kernelIfUntagged: true);
            return;
        }

        // "[UFW BLOCK] IN=…" from dmesg -t or journalctl -o cat: the bracket is the rule's prefix.
        SetBare(line, ref env);
    }

    /// <summary><c>[  123.456789]</c> plus an optional space; also skips a <c>[T1234]</c> caller id.</summary>
    private static bool TryUptime(ReadOnlySpan<byte> s, out TimeSpan uptime, out int after)
    {
        uptime = default;
        after = 0;
        int i = 1;
        while (i < s.Length && s[i] == (byte)' ')
        {
            i++;
        }

        int n = Utf8Number.ParseUInt64(s[i..], out ulong seconds);
        if (n == 0 || seconds >= 100_000_000_000UL) // over 3,000 years: not an uptime, and its ticks would overflow
        {
            return false;
        }

        i += n;
        if (i >= s.Length || s[i] != (byte)'.')
        {
            return false;
        }

        int f0 = ++i;
        long micro = 0;
        while (i < s.Length && IsDigit(s[i]))
        {
            if (i - f0 < 6)
            {
                micro = (micro * 10) + (s[i] - '0');
            }

            i++;
        }

        // journalctl short-delta pads the stamp on the right: "[1840802.579931                ]"
        int digitsEnd = i;
        while (i < s.Length && s[i] == (byte)' ')
        {
            i++;
        }

        if (digitsEnd == f0 || i >= s.Length || s[i] != (byte)']')
        {
            return false;
        }

        for (int k = Math.Min(digitsEnd - f0, 6); k < 6; k++)
        {
            micro *= 10;
        }

        i++;
        if (i < s.Length && s[i] == (byte)' ')
        {
            i++;
        }

        // CONFIG_PRINTK_CALLER: "[T1234] " or "[C0] "
        if (i + 3 < s.Length && s[i] == (byte)'[' && (s[i + 1] == (byte)'T' || s[i + 1] == (byte)'C') && IsDigit(s[i + 2]))
        {
            int j = i + 2;
            while (j < s.Length && IsDigit(s[j]))
            {
                j++;
            }

            if (j < s.Length && s[j] == (byte)']')
            {
                i = j + 1;
                if (i < s.Length && s[i] == (byte)' ')
                {
                    i++;
                }
            }
        }

        uptime = TimeSpan.FromTicks(((long)seconds * TimeSpan.TicksPerSecond) + (micro * 10));
        after = i;
        return true;
    }

    /// <summary>
    /// The inside of journalctl short-delta's stamp, <c> 4503.093835 &lt;    1.014180 &gt;</c> or <c>…*&gt;</c> (the boot changed:
    /// the delta is then wall-clock time): the time since boot before the <c>&lt;</c>.
    /// </summary>
    private static bool TryDeltaStamp(ReadOnlySpan<byte> inside, out TimeSpan uptime)
    {
        uptime = default;
        int lt = inside.IndexOf((byte)'<');
        return lt > 1 && inside[lt - 1] == (byte)' ' && inside.Length > lt + 3 && inside[^1] == (byte)'>' &&
            (inside[^2] == (byte)' ' || inside[^2] == (byte)'*') &&
            TrySeconds(inside[(lt + 1)..^2].TrimStart((byte)' '), out _) &&
            TrySeconds(inside[..lt].Trim((byte)' '), out uptime);
    }

    /// <summary>All of <paramref name="s"/> is <c>seconds.fraction</c> (to the microsecond; a kernel uptime, under 3,000 years).</summary>
    private static bool TrySeconds(ReadOnlySpan<byte> s, out TimeSpan time)
    {
        time = default;
        int n = Utf8Number.ParseUInt64(s, out ulong seconds);
        if (n == 0 || seconds >= 100_000_000_000UL || n + 1 >= s.Length || s[n] != (byte)'.' || s[(n + 1)..].IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0)
        {
            return false;
        }

        long micro = 0;
        for (int k = 0; k < 6; k++)
        {
            micro = (micro * 10) + (n + 1 + k < s.Length ? s[n + 1 + k] - '0' : 0);
        }

        time = TimeSpan.FromTicks(((long)seconds * TimeSpan.TicksPerSecond) + (micro * 10));
        return true;
    }

    // ---------------------------------------------------------------- RFC 5424

    private void ParseRfc5424(ReadOnlySpan<byte> s, ref LogEnvelope env)
    {
        // TIMESTAMP HOST APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]
        int pos = 0;
        if (s[0] == (byte)'-')
        {
            pos = 1;
        }
        else if (TryIsoDateTime(s, 0, 'T', out int y, out int month, out int day, out int hour, out int minute, out int second, out long frac, out pos))
        {
            if (pos < s.Length && s[pos] == (byte)'Z')
            {
                SetTime(ref env, y, month, day, hour, minute, second, frac, TimeSpan.Zero, TimestampFlags.None);
                pos++;
            }
            else if (TryParseOffset(s[pos..], out TimeSpan off, out int used))
            {
                SetTime(ref env, y, month, day, hour, minute, second, frac, off, TimestampFlags.None);
                pos += used;
            }
        }
        else
        {
            SetBare(s, ref env);
            return;
        }

        Span<Range> parts = stackalloc Range[4];
        for (int k = 0; k < 4; k++)
        {
            if (pos >= s.Length || s[pos] != (byte)' ')
            {
                SetBare(s, ref env);
                return;
            }

            pos++;
            int sp = s[pos..].IndexOf((byte)' ');
            int end = sp < 0 ? s.Length : pos + sp;
            parts[k] = new Range(pos, end);
            pos = end;
        }

        if (pos < s.Length)
        {
            pos++;
        }

        // STRUCTURED-DATA: "-" or one or more "[id k="v" …]" (a "]" inside a value is escaped as "\]")
        if (pos < s.Length && s[pos] == (byte)'[')
        {
            while (pos < s.Length && s[pos] == (byte)'[')
            {
                bool quoted = false;
                pos++;
                while (pos < s.Length)
                {
                    byte c = s[pos];
                    if (c == (byte)'\\' && quoted)
                    {
                        pos += 2;
                        continue;
                    }

                    if (c == (byte)'"')
                    {
                        quoted = !quoted;
                    }
                    else if (c == (byte)']' && !quoted)
                    {
                        pos++;
                        break;
                    }

                    pos++;
                }
            }
        }
        else if (pos < s.Length && s[pos] == (byte)'-')
        {
            pos++;
        }

        if (pos < s.Length && s[pos] == (byte)' ')
        {
            pos++;
        }

        ReadOnlySpan<byte> msg = pos <= s.Length ? s[pos..] : default;
        if (msg.StartsWith("\xEF\xBB\xBF"u8))
        {
            msg = msg[3..];
        }

        // imklog hands rsyslog the kernel text with a leading space before "[  stamp]".
        if (msg.Length > 1 && msg[0] == (byte)' ' && msg[1] == (byte)'[')
        {
            msg = msg[1..];
        }

        ReadOnlySpan<byte> host = s[parts[0]];
        ReadOnlySpan<byte> app = s[parts[1]];
        env.Host = host.SequenceEqual("-"u8) ? default : host;
        env.Tag = app.SequenceEqual("-"u8) ? default : app;
        env.Format = LogFormat.Rfc5424;
        bool kernel = env.Tag.IsEmpty || IsKernelTag(env.Tag);
        if (kernel && s[parts[2]] is { Length: > 0 } procId && !procId.SequenceEqual("-"u8))
        {
            env.Origin = LineOrigin.Process; // the kernel's records have no PROCID
            env.SenderPid = Id(procId);
        }

        SetKernelMessage(msg, ref env, kernel);
    }

    // ---------------------------------------------------------------- journal JSON

    private void ParseJson(ReadOnlySpan<byte> json, ref LogEnvelope env)
    {
        env.Format = LogFormat.JournalJson;
        int msgLen = -1;
        int msgStart = -1;
        bool inScratch = false;
        bool blob = false;
        ReadOnlySpan<byte> transport = default;
        if (json.TrimEnd(" \t\r"u8) is not [.., (byte)'}'])
        {
            // Cut (a full disk, a partial write), told without letting the reader throw, which would
            // allocate an exception per line.
            SetDamaged(ref env);
            return;
        }

        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                SetDamaged(ref env);
                return;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                ReadOnlySpan<byte> name = reader.ValueSpan;
                if (!reader.Read())
                {
                    break;
                }

                if (name.SequenceEqual("MESSAGE"u8))
                {
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        if (!reader.ValueIsEscaped)
                        {
                            msgStart = (int)reader.TokenStartIndex + 1;
                            msgLen = reader.ValueSpan.Length;
                        }
                        else
                        {
                            EnsureScratch(reader.ValueSpan.Length);
                            msgLen = reader.CopyString(_scratch); // throws on an escape that is not text
                            inScratch = true;
                        }
                    }
                    else if (reader.TokenType == JsonTokenType.StartArray)
                    {
                        // Non-UTF-8 messages are written as an array of byte values.
                        int count = 0;
                        while (reader.Read() && reader.TokenType == JsonTokenType.Number)
                        {
                            if (!reader.TryGetByte(out byte value))
                            {
                                blob = true;
                                break;
                            }

                            EnsureScratch(count + 1);
                            _scratch[count++] = value;
                        }

                        if (reader.TokenType != JsonTokenType.EndArray)
                        {
                            blob = true;
                            reader.Skip();
                        }

                        msgLen = count;
                        inScratch = true;
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else if (reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped)
                {
                    ReadOnlySpan<byte> value = reader.ValueSpan;
                    if (name.SequenceEqual("__REALTIME_TIMESTAMP"u8))
                    {
                        if (Utf8Number.ParseUInt64(value, out ulong usec) == value.Length && usec < 253402300800000000UL)
                        {
                            env.Time = DateTimeOffset.UnixEpoch.AddTicks((long)usec * 10);
                        }
                    }
                    else if (name.SequenceEqual("_SOURCE_MONOTONIC_TIMESTAMP"u8))
                    {
                        if (Utf8Number.ParseUInt64(value, out ulong usec) == value.Length && usec < (ulong)TimeSpan.MaxValue.Ticks / 10)
                        {
                            env.Uptime = TimeSpan.FromTicks((long)usec * 10);
                        }
                    }
                    else if (name.SequenceEqual("_HOSTNAME"u8))
                    {
                        env.Host = json.Slice((int)reader.TokenStartIndex + 1, value.Length);
                    }
                    else if (name.SequenceEqual("SYSLOG_IDENTIFIER"u8))
                    {
                        env.Tag = json.Slice((int)reader.TokenStartIndex + 1, value.Length);
                    }
                    else if (name.SequenceEqual("_TRANSPORT"u8))
                    {
                        transport = json.Slice((int)reader.TokenStartIndex + 1, value.Length);
                    }
                    else if (name.SequenceEqual("_UID"u8))
                    {
                        env.SenderUid = Id(value);
                    }
                    else if (name.SequenceEqual("_PID"u8))
                    {
                        env.SenderPid = Id(value);
                    }
                    else if (name.SequenceEqual("_COMM"u8))
                    {
                        env.SenderCommand = json.Slice((int)reader.TokenStartIndex + 1, value.Length);
                    }
                }
                else if (reader.TokenType == JsonTokenType.String && name.SequenceEqual("_COMM"u8))
                {
                    // Escaped (a process can name itself with any bytes): decoded into a buffer of its own, as the kernel
                    // keeps a command name to 15 bytes; a longer one is not what journald wrote, and is kept as written.
                    env.SenderCommand = reader.ValueSpan.Length <= _command.Length
                        ? _command.AsSpan(0, reader.CopyString(_command)) // throws on an escape that is not text
                        : json.Slice((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length);
                }
                else
                {
                    reader.Skip();
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Not valid JSON, or an escape that is not text (a lone surrogate): journald writes neither.
            SetDamaged(ref env);
            return;
        }

        // The transport is recorded by journald itself (trusted "_" fields): only the kernel's own records say "kernel".
        env.Origin = transport.IsEmpty ? LineOrigin.Unverified : transport.SequenceEqual("kernel"u8) ? LineOrigin.Kernel : LineOrigin.Process;
        if (msgLen < 0 || blob)
        {
            env.Kind = msgLen < 0 ? EnvelopeKind.Message : EnvelopeKind.Blob;
            env.Message = default;
            env.IsKernel = false;
            return;
        }

        ReadOnlySpan<byte> msg = inScratch ? _scratch.AsSpan(0, msgLen) : json.Slice(msgStart, msgLen);
        SetKernelMessage(msg, ref env, env.Tag.IsEmpty || IsKernelTag(env.Tag));
    }

    /// <summary>A journal JSON record that cannot be read: nothing of it is trusted.</summary>
    private static void SetDamaged(ref LogEnvelope env)
    {
        env = default;
        env.Format = LogFormat.JournalJson;
        env.Kind = EnvelopeKind.Damaged;
    }

    /// <summary>A journal ID field (<c>_UID</c>, <c>_PID</c>): a decimal number, else unknown.</summary>
    private static uint? Id(ReadOnlySpan<byte> value) =>
        value.Length is > 0 and <= 10 && Utf8Number.ParseUInt64(value, out ulong n) == value.Length && n <= uint.MaxValue ? (uint)n : null;

    private void EnsureScratch(int size)
    {
        if (_scratch.Length < size)
        {
            Array.Resize(ref _scratch, Math.Max(size, _scratch.Length * 2));
        }
    }

    // ---------------------------------------------------------------- host and tag

    /// <summary>After a syslog timestamp: <c>[host] [facility.level] [tag:] message</c>.</summary>
    private static void ParseHostTag(ReadOnlySpan<byte> s, ref LogEnvelope env, LogFormat format)
    {
        env.Format = format;
        int sp = s.IndexOf((byte)' ');
        ReadOnlySpan<byte> t1 = sp < 0 ? s : s[..sp];

        if (t1.SequenceEqual("kernel:"u8))
        {
            env.Tag = t1[..^1];
            SetKernelMessage(sp < 0 ? default : s[(sp + 1)..], ref env, true);
            return;
        }

        // No host: the message starts here ("DENY: IN=…", "[UFW BLOCK] IN=…", "IN=…").
        if (sp < 0 || t1.Length == 0 || t1[^1] == (byte)':' || t1[0] == (byte)'[' || t1.Contains((byte)'='))
        {
            SetKernelMessage(s, ref env, true);
            return;
        }

        env.Host = t1;
        ReadOnlySpan<byte> rest = s[(sp + 1)..];

        // busybox syslogd: "host kern.warn kernel: msg"
        int sp2 = rest.IndexOf((byte)' ');
        ReadOnlySpan<byte> t2 = sp2 < 0 ? rest : rest[..sp2];
        if (sp2 > 0 && IsFacilityLevel(t2))
        {
            rest = rest[(sp2 + 1)..];
            sp2 = rest.IndexOf((byte)' ');
            t2 = sp2 < 0 ? rest : rest[..sp2];
        }

        // The kernel's tag without its colon: rsyslog writing an RFC 5424 message it received (a central server) takes
        // %syslogtag% to be APP-NAME, or APP-NAME[PROCID] (tryEmulateTAG, runtime/msg.c): "host kernel IPTABLES …".
        if (sp2 > 0 && (t2.SequenceEqual("kernel"u8) || (t2.StartsWith("kernel["u8) && IsTagName(t2))))
        {
            env.Tag = t2;
            MarkKernelPid(t2[6..], ref env);
            SetKernelMessage(rest[(sp2 + 1)..], ref env, true);
            return;
        }

        // A daemon's tag without its colon, by the same template: "host postfix/qmgr[7066] …", a process, not the kernel. Only
        // with a [PID]: a bare word there may be a rule's prefix ("host IPTABLES TCP-OUT 25:IN=…", a line without a tag).
        if (sp2 > 0 && t2.IndexOf((byte)'[') is int bracket and > 0 && IsTagName(t2) && !t2.StartsWith("kernel["u8)
            && t2[(bracket + 1)..^1].IndexOfAnyExceptInRange((byte)'0', (byte)'9') < 0)
        {
            env.Tag = t2;
            SetKernelMessage(rest[(sp2 + 1)..], ref env, false);
            return;
        }

        if (t2.SequenceEqual("[kernel]"u8))
        {
            env.Tag = "kernel"u8;
            SetKernelMessage(sp2 < 0 ? default : rest[(sp2 + 1)..], ref env, true);
            return;
        }

        if (t2.Length > 1 && t2[^1] == (byte)':' && IsTagName(t2[..^1]))
        {
            ReadOnlySpan<byte> tag = t2[..^1];
            ReadOnlySpan<byte> msg = sp2 < 0 ? default : rest[(sp2 + 1)..];
            bool kernel = IsKernelTag(tag);

            // "host DROP: IN=…" (ulogd LOGEMU has no tag): a non-kernel "tag" right before IN= is the rule's prefix.
            if (!kernel && msg.StartsWith("IN="u8))
            {
                SetKernelMessage(rest, ref env, true);
                return;
            }

            env.Tag = tag;
            if (tag.StartsWith("kernel["u8))
            {
                MarkKernelPid(tag[6..], ref env);
            }

            SetKernelMessage(msg, ref env, kernel);
            return;
        }

        // No tag (ulogd LOGEMU "host [PREFIX] IN=…").
        SetKernelMessage(rest, ref env, true);
    }

    private static bool IsFacilityLevel(ReadOnlySpan<byte> t)
    {
        int dot = t.IndexOf((byte)'.');
        if (dot <= 0 || dot == t.Length - 1)
        {
            return false;
        }

        foreach (byte c in t)
        {
            if (c != (byte)'.' && !(c >= (byte)'a' && c <= (byte)'z') && !IsDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsTagName(ReadOnlySpan<byte> t)
    {
        // name or name[pid]
        int bracket = t.IndexOf((byte)'[');
        ReadOnlySpan<byte> name = bracket < 0 ? t : t[..bracket];
        if (name.Length == 0)
        {
            return false;
        }

        foreach (byte c in name)
        {
            if (!(IsLetter(c) || IsDigit(c) || c == (byte)'_' || c == (byte)'-' || c == (byte)'.' || c == (byte)'/' || c == (byte)'@'))
            {
                return false;
            }
        }

        return bracket < 0 || (t[^1] == (byte)']' && t.Length - bracket > 2);
    }

    /// <summary>
    /// After a kernel tag's name: <c>[PID]</c> means a process wrote the line (<c>logger -t kernel</c> through the
    /// journal: journalctl and rsyslog's imjournal print the sender's PID), as the kernel's own lines never carry one.
    /// </summary>
    private static void MarkKernelPid(ReadOnlySpan<byte> afterName, ref LogEnvelope env)
    {
        if (afterName.Length > 2 && afterName[0] == (byte)'[' && afterName[^1] == (byte)']')
        {
            env.Origin = LineOrigin.Process;
            env.SenderPid = Id(afterName[1..^1]);
        }
    }

    private static bool IsKernelTag(ReadOnlySpan<byte> tag) =>
        tag.SequenceEqual("kernel"u8) || tag.SequenceEqual("klogd"u8) || tag.StartsWith("kernel["u8);

    // ---------------------------------------------------------------- message body

    private static void SetMessage(ReadOnlySpan<byte> msg, ref LogEnvelope env, LogFormat format, bool kernelIfUntagged)
    {
        env.Format = format;
        SetKernelMessage(msg, ref env, kernelIfUntagged);
    }

    /// <summary>Strips the kernel stamp, unwraps rsyslog repeats, recognises journal blobs.</summary>
    private static void SetKernelMessage(ReadOnlySpan<byte> msg, ref LogEnvelope env, bool isKernel)
    {
        env.IsKernel = isKernel;
        env.Kind = EnvelopeKind.Message;

        if (msg.StartsWith("message repeated "u8))
        {
            int n = Utf8Number.ParseUInt32(msg[17..], out uint count);
            ReadOnlySpan<byte> after = msg[(17 + n)..];
            int close = msg.LastIndexOf((byte)']');
            if (n > 0 && after.StartsWith(" times: ["u8) && close > 17 + n + 9 && count <= int.MaxValue)
            {
                msg = msg[(17 + n + 9)..close];
                if (msg.Length > 0 && msg[0] == (byte)' ')
                {
                    msg = msg[1..];
                }

                env.RepeatCount = (int)count;
            }
        }
        else if (msg.StartsWith("last message repeated "u8))
        {
            int n = Utf8Number.ParseUInt32(msg[22..], out uint count);
            if (n > 0 && msg[(22 + n)..].StartsWith(" time"u8) && count <= int.MaxValue)
            {
                env.Kind = EnvelopeKind.RepeatedPrevious;
                env.RepeatCount = (int)count;
                env.Message = msg;
                return;
            }
        }

        if (msg.Length > 0 && msg[0] == (byte)'[')
        {
            if (TryUptime(msg, out TimeSpan up, out int after))
            {
                env.Uptime = up;
                msg = msg[after..];
            }
            else if (IsBlob(msg))
            {
                env.Kind = EnvelopeKind.Blob;
            }
        }

        env.Message = msg;
    }

    private static bool IsBlob(ReadOnlySpan<byte> msg)
    {
        // "[193B blob data]"
        int n = Utf8Number.ParseUInt32(msg[1..], out _);
        return n > 0 && msg[(1 + n)..].TrimEnd((byte)' ').SequenceEqual("B blob data]"u8);
    }

    // ---------------------------------------------------------------- time

    private int InferYear(int month, int day, int hour, int minute, int second)
    {
        int year = _reference.Year;
        if (month == 2 && day == 29)
        {
            while (!DateTime.IsLeapYear(year))
            {
                year--;
            }
        }

        if (day > DateTime.DaysInMonth(year, month))
        {
            return year; // invalid date; SetLocalTime rejects it
        }

        var candidate = new DateTime(year, month, day, hour, minute, second);
        if (candidate > _reference.AddDays(1))
        {
            year--;
            if (month == 2 && day == 29)
            {
                while (!DateTime.IsLeapYear(year))
                {
                    year--;
                }
            }
        }

        return year;
    }

    private void SetLocalTime(ref LogEnvelope env, int year, int month, int day, int hour, int minute, int second, long fracTicks, TimestampFlags flags) =>
        SetTime(ref env, year, month, day, hour, minute, second, fracTicks, _zone is null ? _offset : ZoneOffset(year, month, day, hour, minute, second), flags | TimestampFlags.OffsetAssumed);

    /// <summary>The offset <see cref="_zone"/> had at a local time (the first of a repeated hour; before the change for a skipped one).</summary>
    private TimeSpan ZoneOffset(int year, int month, int day, int hour, int minute, int second)
    {
        if (year < 1 || year > 9998 || month < 1 || month > 12 || day < 1 || day > DateTime.DaysInMonth(year, month))
        {
            return TimeSpan.Zero; // SetTime rejects the date
        }

        var local = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified);
        TimeZoneInfo zone = _zone!;
        if (zone.IsAmbiguousTime(local))
        {
            TimeSpan[] offsets = zone.GetAmbiguousTimeOffsets(local);
            return offsets[0] > offsets[^1] ? offsets[0] : offsets[^1]; // the first pass: the larger (daylight) offset
        }

        return zone.IsInvalidTime(local) ? zone.GetUtcOffset(local.AddHours(-1)) : zone.GetUtcOffset(local);
    }

    private static void SetTime(ref LogEnvelope env, int year, int month, int day, int hour, int minute, int second, long fracTicks, TimeSpan offset, TimestampFlags flags)
    {
        if (year < 1 || year > 9998 || month < 1 || month > 12 || day < 1 || day > DateTime.DaysInMonth(year, month))
        {
            return;
        }

        var dt = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified).AddTicks(fracTicks);
        env.Time = new DateTimeOffset(dt, offset);
        env.TimeFlags = flags;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private static bool IsLetter(byte b) => (uint)((b | 0x20) - 'a') <= 'z' - 'a';
}
