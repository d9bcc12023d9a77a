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

        /// <summary>An input could not be read (the others were), or the command line is wrong.</summary>
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
            Description = "Log files to read: kern.log, messages, syslog, their rotated .1 and .gz copies, journalctl or dmesg output. None or '-' reads standard input.",
        };
        var top = new Option<int>("--top")
        {
            Description = "Rows per table.",
            DefaultValueFactory = _ => 10,
        };
        var format = new Option<string>("--format")
        {
            Description = "Output: table (for the terminal), json (stable schema mailguard.report/1) or csv.",
            DefaultValueFactory = _ => "table",
        };
        format.AcceptOnlyFromAmong("table", "json", "csv");
        var prefix = new Option<string?>("--prefix")
        {
            Description = "Select entries whose log prefix matches this pattern instead of 'IPTABLES TCP-OUT #:' ('*' any text, '?' one character, '#' the rule's port).",
        };
        var all = new Option<bool>("--all")
        {
            Description = "Select every netfilter entry, whatever its prefix.",
        };
        var list = new Option<bool>("--list")
        {
            Description = "Print one line per selected entry instead of the report.",
        };
        var root = new RootCommand("mgscan: find who sends the outgoing mail traffic that your iptables/nftables LOG rules recorded.")
        {
            files,
            top,
            format,
            prefix,
            all,
            list,
        };
        root.SetAction(async (result, ct) =>
        {
            int rows = result.GetValue(top);
            if (rows < 1)
            {
                await Console.Error.WriteLineAsync("mgscan: --top must be at least 1").ConfigureAwait(false);
                return ExitCode.Error;
            }

            PrefixFilter filter = result.GetValue(all) ? PrefixFilter.All
                : result.GetValue(prefix) is { Length: > 0 } p ? PrefixFilter.Pattern(p)
                : PrefixFilter.TcpOut;
            string[] inputs = result.GetValue(files) is { Length: > 0 } f ? f : ["-"];
            using CancellationTokenSource signals = Scan.CancelOnSignals();
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, signals.Token);
            return await Scan.RunAsync(inputs, filter, result.GetValue(format)!, rows, result.GetValue(list), Console.Error, linked.Token).ConfigureAwait(false);
        });
        return root.Parse(args).Invoke();
    }
}
