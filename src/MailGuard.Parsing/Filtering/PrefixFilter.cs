using System.Text;
using MailGuard.Parsing.Internals;

namespace MailGuard.Parsing;

/// <summary>How a <see cref="PrefixFilter"/> compares log prefixes.</summary>
public enum PrefixFilterKind
{
    /// <summary>Every netfilter entry matches, whatever its prefix.</summary>
    All,

    /// <summary>The prefix must equal the given text (trailing spaces on either side are ignored).</summary>
    Exact,

    /// <summary>The prefix must match a pattern: <c>*</c> any run of bytes, <c>?</c> one byte, <c>#</c> a port number (1–5 digits, at most 65535).</summary>
    Pattern,
}

/// <summary>
/// Selects netfilter entries by their log prefix. The default, <see cref="TcpOut"/>, selects
/// <c>IPTABLES TCP-OUT &lt;port&gt;:</c> (with or without a space after the colon) and the per-service
/// <c>TCP-OUT &lt;port&gt; &lt;service&gt;:</c>, and exposes the rule's port.
/// </summary>
/// <remarks>Immutable and thread-safe; matching allocates nothing.</remarks>
public sealed class PrefixFilter
{
    private readonly byte[] _pattern;
    private readonly int _literalHead; // pattern bytes before the first wildcard: compared at once

    private readonly bool _services; // also per-service prefixes (ServicePrefix)

    private PrefixFilter(PrefixFilterKind kind, byte[] pattern, string text, bool services = false)
    {
        _services = services;
        Kind = kind;
        _pattern = pattern;
        Text = text;
        int head = pattern.AsSpan().IndexOfAny("*#?"u8);
        _literalHead = head < 0 ? pattern.Length : head;
    }

    /// <summary>
    /// The filter for the rules this product is built around: <c>IPTABLES TCP-OUT #:</c>, and the per-service rules'
    /// <c>TCP-OUT # SERVICE:</c> (<see cref="ServicePrefix"/>).
    /// </summary>
    public static PrefixFilter TcpOut { get; } = new(PrefixFilterKind.Pattern, "IPTABLES TCP-OUT #:"u8.ToArray(), "IPTABLES TCP-OUT #:", services: true);

    /// <summary>A filter that accepts every netfilter entry.</summary>
    public static PrefixFilter All { get; } = new(PrefixFilterKind.All, [], "*");

    /// <summary>How this filter compares.</summary>
    public PrefixFilterKind Kind { get; }

    /// <summary>The text the filter was made from.</summary>
    public string Text { get; }

    /// <summary>A filter that accepts one prefix exactly (trailing spaces ignored on both sides).</summary>
    /// <param name="prefix">The log prefix, e.g. <c>"[UFW BLOCK] "</c>.</param>
    /// <returns>The filter.</returns>
    public static PrefixFilter Exact(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        return new PrefixFilter(PrefixFilterKind.Exact, Encoding.UTF8.GetBytes(prefix.TrimEnd(' ')), prefix);
    }

    /// <summary>
    /// A filter by pattern: <c>*</c> matches any run of bytes (also none), <c>?</c> one byte, <c>#</c> a port
    /// number of 1–5 digits (at most 65535) that <see cref="Matches"/> returns as the rule port. Every other
    /// byte matches itself; the whole prefix must match; trailing spaces are ignored on both sides.
    /// </summary>
    /// <param name="pattern">For example <c>"IPTABLES *-OUT #:"</c> or <c>"[UFW *]"</c>.</param>
    /// <returns>The filter.</returns>
    public static PrefixFilter Pattern(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        if (pattern.Length == 0)
        {
            ThrowHelper.Argument(nameof(pattern), "The pattern is empty; use PrefixFilter.Exact(\"\") to select entries without a prefix.");
        }

        return new PrefixFilter(PrefixFilterKind.Pattern, Encoding.UTF8.GetBytes(pattern.TrimEnd(' ')), pattern);
    }

    /// <summary>Tests a prefix.</summary>
    /// <param name="prefix">The prefix bytes (see <see cref="NetfilterEntry.Prefix"/>).</param>
    /// <param name="rulePort">The number matched by <c>#</c> in a pattern, otherwise -1.</param>
    /// <returns>True when the prefix is selected.</returns>
    public bool Matches(ReadOnlySpan<byte> prefix, out int rulePort)
    {
        rulePort = -1;
        switch (Kind)
        {
            case PrefixFilterKind.All:
                return true;
            case PrefixFilterKind.Exact:
                return TrimEndSpaces(prefix).SequenceEqual(_pattern);
            default:
                ReadOnlySpan<byte> s = TrimEndSpaces(prefix);
                return (s.StartsWith(_pattern.AsSpan(0, _literalHead)) && Match(_pattern.AsSpan(_literalHead), s[_literalHead..], ref rulePort))
                    || (_services && ServicePrefix.TryParse(s, out rulePort, out _));
        }
    }

    /// <inheritdoc />
    public override string ToString() => Text;

    private static ReadOnlySpan<byte> TrimEndSpaces(ReadOnlySpan<byte> s)
    {
        int n = s.Length;
        while (n > 0 && s[n - 1] == (byte)' ')
        {
            n--;
        }

        return s[..n];
    }

    private static bool Match(ReadOnlySpan<byte> p, ReadOnlySpan<byte> s, ref int port)
    {
        // Prefixes are at most 127 bytes (nft); recursion is bounded by the pattern length.
        while (p.Length > 0)
        {
            byte c = p[0];
            if (c == (byte)'*')
            {
                ReadOnlySpan<byte> rest = p[1..];
                for (int i = 0; i <= s.Length; i++)
                {
                    int saved = port;
                    if (Match(rest, s[i..], ref port))
                    {
                        return true;
                    }

                    port = saved;
                }

                return false;
            }

            if (c == (byte)'#')
            {
                int digits = 0;
                while (digits < s.Length && digits < 5 && (uint)(s[digits] - '0') <= 9)
                {
                    digits++;
                }

                // Greedy first, then shorter runs (e.g. "#5" against "255").
                for (int n = digits; n >= 1; n--)
                {
                    int v = ParseDigits(s[..n]);
                    if (v > 65535)
                    {
                        continue;
                    }

                    int saved = port;
                    port = v;
                    if (Match(p[1..], s[n..], ref port))
                    {
                        return true;
                    }

                    port = saved;
                }

                return false;
            }

            if (s.Length == 0 || (c != (byte)'?' && c != s[0]))
            {
                return false;
            }

            p = p[1..];
            s = s[1..];
        }

        return s.Length == 0;
    }

    private static int ParseDigits(ReadOnlySpan<byte> s)
    {
        int v = 0;
        foreach (byte b in s)
        {
            v = (v * 10) + (b - '0');
        }

        return v;
    }
}
