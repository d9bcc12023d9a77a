using System.Buffers;
using System.Globalization;
using System.Text;

namespace MailGuard.Cli;

/// <summary>
/// The one place where text that may come from a log — interface names, prefixes, user names, the verdict's
/// sentences and commands, file names, exception messages — is made safe to show: nothing in it can move the
/// cursor, set a window title, clear the screen, reorder what follows or start a line of its own. Control
/// characters (C0 including tab and newline, DEL, C1), the bidi controls (U+061C, U+200E, U+200F,
/// U+202A–U+202E, U+2066–U+2069), U+2028/U+2029 and lone surrogates are shown as <c>\t</c>, <c>\n</c>,
/// <c>\r</c>, <c>\xNN</c> (below U+0080) or <c>\uNNNN</c>; invalid UTF-8 bytes as <c>\xNN</c>. A backslash is
/// left as it is, so escaping twice changes nothing. <see cref="TerminalWriter"/> applies it to everything
/// written to the terminal and to text reports; JSON is written exactly (its writer escapes by itself).
/// </summary>
internal static class TerminalText
{
    private static readonly SearchValues<char> s_unsafe = SearchValues.Create(UnsafeChars());

    private static string UnsafeChars()
    {
        var sb = new StringBuilder();
        for (char c = '\0'; c < ' '; c++)
        {
            sb.Append(c);
        }

        for (char c = '\u007F'; c <= '\u009F'; c++)
        {
            sb.Append(c);
        }

        sb.Append("\u061C\u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\u2028\u2029");
        for (char c = '\uD800'; c <= '\uDFFF'; c++)
        {
            sb.Append(c); // a valid pair is let through; see Escape
        }

        return sb.ToString();
    }

    /// <summary>True when <paramref name="text"/> holds nothing to escape.</summary>
    public static bool IsSafe(ReadOnlySpan<char> text)
    {
        int i;
        while ((i = text.IndexOfAny(s_unsafe)) >= 0)
        {
            if (PairAt(text, i) == 0)
            {
                return false;
            }

            text = text[(i + 2)..];
        }

        return true;
    }

    /// <summary>The text with every unsafe character escaped.</summary>
    public static string Escape(string text)
    {
        if (IsSafe(text))
        {
            return text;
        }

        using var w = new StringWriter(CultureInfo.InvariantCulture);
        Escape(text, w);
        return w.ToString();
    }

    /// <summary>Writes the text with every unsafe character escaped.</summary>
    public static void Escape(ReadOnlySpan<char> text, TextWriter to)
    {
        int i;
        while ((i = text.IndexOfAny(s_unsafe)) >= 0)
        {
            to.Write(text[..i]);
            int pair = PairAt(text, i);
            if (pair > 0)
            {
                to.Write(text.Slice(i, 2));
                text = text[(i + 2)..];
                continue;
            }

            Escape(text[i], to);
            text = text[(i + 1)..];
        }

        to.Write(text);
    }

    /// <summary>UTF-8 bytes (a log's raw text) as safe text: invalid bytes as <c>\xNN</c>, unsafe characters escaped.</summary>
    public static string Escape(ReadOnlySpan<byte> utf8)
    {
        using var w = new StringWriter(CultureInfo.InvariantCulture);
        Span<char> chars = stackalloc char[2];
        while (!utf8.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(utf8, out Rune rune, out int used) != OperationStatus.Done)
            {
                for (int k = 0; k < used; k++)
                {
                    w.Write(string.Create(CultureInfo.InvariantCulture, $"\\x{utf8[k]:x2}"));
                }
            }
            else
            {
                Escape(chars[..rune.EncodeToUtf16(chars)], w);
            }

            utf8 = utf8[used..];
        }

        return w.ToString();
    }

    /// <summary>The escaped text in at most <paramref name="width"/> characters: cut with "…" when longer (never inside a surrogate pair).</summary>
    public static string Fit(string text, int width)
    {
        string safe = Escape(text);
        if (safe.Length <= width)
        {
            return safe;
        }

        int cut = width - 1;
        return safe[..(char.IsHighSurrogate(safe[cut - 1]) ? cut - 1 : cut)] + "…";
    }

    /// <summary>A message on one line: line breaks (and the spaces around them) become one space; the rest escaped.</summary>
    public static string OneLine(string text) =>
        Escape(string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));

    /// <summary>
    /// A CSV cell: escaped like terminal text, then neutralised as OWASP advises against formula injection (a cell
    /// starting with '=', '+', '-', '@', tab or CR gets a leading apostrophe), then quoted as RFC 4180 says when it
    /// holds a comma or a double quote.
    /// </summary>
    public static string CsvCell(string text)
    {
        string cell = Escape(text);
        if (text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            cell = "'" + cell;
        }

        return cell.AsSpan().IndexOfAny(",\"") >= 0 ? "\"" + cell.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : cell;
    }

    /// <summary>2 when a valid surrogate pair starts at <paramref name="i"/>, else 0.</summary>
    private static int PairAt(ReadOnlySpan<char> text, int i) =>
        char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 0;

    private static void Escape(char c, TextWriter to) => to.Write(c switch
    {
        '\t' => @"\t",
        '\n' => @"\n",
        '\r' => @"\r",
        < '\u0080' => string.Create(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
    });
}
