using System.Buffers;

namespace MailGuard.Analysis.Internals;

/// <summary>
/// Text from a log or a passwd file put into a command line of the advice: it must reach the command as one
/// argument, exactly, and never run. Every name the advice interpolates goes through <see cref="Quote"/>.
/// </summary>
internal static class ShellWord
{
    // What a POSIX shell, bash and zsh take literally in an unquoted word (as Python's shlex.quote; '=' only
    // inside a word: zsh expands a leading one to a command's path).
    private static readonly SearchValues<char> s_plain = SearchValues.Create("%+,-./0123456789:=@ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz");

    /// <summary>True when <paramref name="word"/> needs no quotes.</summary>
    public static bool IsPlain(string word) => word.Length > 0 && word[0] != '=' && !word.AsSpan().ContainsAnyExcept(s_plain);

    /// <summary>The word as is when plain, else in single quotes (a quote inside as <c>'\''</c>): one argument, nothing expanded or run.</summary>
    public static string Quote(string word) => IsPlain(word) ? word : "'" + word.Replace("'", @"'\''", StringComparison.Ordinal) + "'";

    /// <summary>
    /// An interface name as a system chooses it: 1 to 15 bytes of ASCII letters, digits, '_', '.', '-' and '@',
    /// not starting with '-', not "." or "..". The kernel accepts more (root may name a device "x;id>P;#"), but
    /// real systems do not: a name outside this shape in a log more likely comes from a forged line.
    /// </summary>
    public static bool IsUsualInterfaceName(string name)
    {
        if (name.Length is 0 or > 15 || name[0] == '-' || name is "." or "..")
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' or '@'))
            {
                return false;
            }
        }

        return true;
    }
}
