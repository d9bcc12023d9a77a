using System.CommandLine;
using MailGuard.Parsing;

namespace MailGuard.Cli;

/// <summary>Entry point of <c>mgscan</c>.</summary>
public static class Program
{
    /// <summary>Exit codes, as grep and ripgrep use them.</summary>
    internal static class ExitCode
    {
        /// <summary>Entries were found.</summary>
        public const int Found = 0;

        /// <summary>The input held no selected entry.</summary>
        public const int NoneFound = 1;

        /// <summary>An input could not be read or the command line is wrong.</summary>
        public const int Error = 2;
    }

    /// <summary>Runs mgscan.</summary>
    /// <param name="args">The command line.</param>
    /// <returns>The exit code.</returns>
    public static int Main(string[] args)
    {
        var files = new Argument<string[]>("files")
        {
            Arity = ArgumentArity.ZeroOrMore,
            Description = "Log files to read (kern.log, messages, journalctl or dmesg output). None or '-' reads standard input.",
        };
        var prefix = new Option<string?>("--prefix")
        {
            Description = "Select entries whose log prefix matches this pattern instead of 'IPTABLES TCP-OUT #:' ('*' any text, '?' one character, '#' the port number).",
        };
        var all = new Option<bool>("--all")
        {
            Description = "Select every netfilter entry, whatever its prefix.",
        };
        var root = new RootCommand("mgscan: find who sends the outgoing mail traffic that your iptables/nftables LOG rules recorded.")
        {
            files,
            prefix,
            all,
        };
        root.SetAction(result =>
        {
            PrefixFilter filter = result.GetValue(all) ? PrefixFilter.All
                : result.GetValue(prefix) is { Length: > 0 } p ? PrefixFilter.Pattern(p)
                : PrefixFilter.TcpOut;
            string[] inputs = result.GetValue(files) is { Length: > 0 } f ? f : ["-"];
            return EntryLister.Run(inputs, filter, Console.OpenStandardOutput(), Console.Error);
        });
        return root.Parse(args).Invoke();
    }
}
