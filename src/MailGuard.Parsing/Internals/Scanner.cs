using System.Runtime.CompilerServices;

namespace MailGuard.Parsing.Internals;

/// <summary>
/// A forward-only cursor over one message. Fields in the kernel's LOG text are separated by one space
/// and the last one may or may not be followed by the trailing space, so "end of field" is a space or
/// the end of the line.
/// </summary>
internal ref struct Scanner
{
    public readonly ReadOnlySpan<byte> S;
    public int Pos;
    public NetfilterError Error;
    public int ErrorPos;
    public bool IsUlogd;

    public Scanner(ReadOnlySpan<byte> s, int pos)
    {
        S = s;
        Pos = pos;
        Error = NetfilterError.None;
        ErrorPos = -1;
        IsUlogd = false;
    }

    public readonly bool AtEnd => Pos >= S.Length;

    public readonly ReadOnlySpan<byte> Rest => S[Pos..];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool Peek(ReadOnlySpan<byte> literal) => S[Pos..].StartsWith(literal);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Take(ReadOnlySpan<byte> literal)
    {
        if (S[Pos..].StartsWith(literal))
        {
            Pos += literal.Length;
            return true;
        }

        return false;
    }

    /// <summary>Takes a whole word: the literal followed by a space (consumed) or the end of the line.</summary>
    public bool TakeWord(ReadOnlySpan<byte> word)
    {
        ReadOnlySpan<byte> rest = S[Pos..];
        if (!rest.StartsWith(word))
        {
            return false;
        }

        if (rest.Length == word.Length)
        {
            Pos += word.Length;
            return true;
        }

        if (rest[word.Length] == ' ')
        {
            Pos += word.Length + 1;
            return true;
        }

        return false;
    }

    /// <summary>A space ends the field (consumed), or the end of the line does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool FieldEnd()
    {
        if (Pos >= S.Length)
        {
            return true;
        }

        if (S[Pos] == ' ')
        {
            Pos++;
            return true;
        }

        return false;
    }

    /// <summary>The bytes up to the next space (or the end), not consuming the space.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ByteRange Token()
    {
        int i = S[Pos..].IndexOf((byte)' ');
        int end = i < 0 ? S.Length : Pos + i;
        var r = new ByteRange(Pos, end - Pos);
        Pos = end;
        return r;
    }

    /// <summary>Only spaces remain.</summary>
    public readonly bool OnlySpacesLeft()
    {
        for (int i = Pos; i < S.Length; i++)
        {
            if (S[i] != ' ')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Records the first error and returns false, so callers can write <c>return Fail(...)</c>.</summary>
    public bool Fail(NetfilterError error)
    {
        if (Error == NetfilterError.None)
        {
            Error = error;
            ErrorPos = Pos;
        }

        return false;
    }

    /// <summary>A required key is absent: the line ended (or ends inside the key), or something else stands there.</summary>
    public bool Missing(ReadOnlySpan<byte> key)
    {
        ReadOnlySpan<byte> rest = S[Pos..];
        return Fail(rest.Length < key.Length && key.StartsWith(rest) ? NetfilterError.UnexpectedEnd : NetfilterError.UnexpectedToken);
    }

    /// <summary><c>KEY=</c> decimal, then end of field; the value must not exceed <paramref name="max"/>.</summary>
    public bool Decimal(ReadOnlySpan<byte> key, uint max, out uint value)
    {
        value = 0;
        if (!Take(key))
        {
            return Missing(key);
        }

        return DecimalValue(max, out value);
    }

    public bool DecimalValue(uint max, out uint value)
    {
        int n = Utf8Number.ParseUInt32(S[Pos..], out value);
        if (n == 0)
        {
            return Fail(AtEnd ? NetfilterError.UnexpectedEnd : NetfilterError.InvalidNumber);
        }

        Pos += n;
        if (value > max || !FieldEnd())
        {
            Pos -= n;
            value = 0;
            return Fail(NetfilterError.InvalidNumber);
        }

        return true;
    }

    /// <summary><c>KEY=</c> hex (the key includes any <c>0x</c>), then end of field.</summary>
    public bool Hex(ReadOnlySpan<byte> key, uint max, out uint value)
    {
        value = 0;
        if (!Take(key))
        {
            return Missing(key);
        }

        return HexValue(max, out value);
    }

    public bool HexValue(uint max, out uint value)
    {
        int n = Utf8Number.ParseHex32(S[Pos..], out value);
        if (n == 0)
        {
            return Fail(AtEnd ? NetfilterError.UnexpectedEnd : NetfilterError.InvalidNumber);
        }

        Pos += n;
        if (value > max || !FieldEnd())
        {
            Pos -= n;
            value = 0;
            return Fail(NetfilterError.InvalidNumber);
        }

        return true;
    }

    /// <summary>
    /// <c>KEY=</c> address, then end of field. An address that runs to the end of the line may have been cut
    /// (<c>192.0.2.12</c> → <c>192.0.2.1</c>), so it is trusted there only where the kernel ends lines with one.
    /// </summary>
    public bool Address(ReadOnlySpan<byte> key, out NetAddress address, bool mayEndLine = false)
    {
        address = default;
        if (!Take(key))
        {
            return Missing(key);
        }

        int start = Pos;
        ByteRange token = Token();
        if (token.Length == 0)
        {
            return Fail(AtEnd ? NetfilterError.UnexpectedEnd : NetfilterError.InvalidAddress);
        }

        if (!NetAddress.TryParse(token.Slice(S), out address))
        {
            bool cut = AtEnd;
            Pos = start;
            return Fail(cut ? NetfilterError.UnexpectedEnd : NetfilterError.InvalidAddress);
        }

        if (AtEnd && !mayEndLine)
        {
            Pos = start;
            address = default;
            return Fail(NetfilterError.UnexpectedEnd);
        }

        FieldEnd();
        return true;
    }
}
