using System.Globalization;
using System.Text;
using MailGuard.Parsing;

namespace MailGuard.Cli;

/// <summary>
/// Prints one line per selected entry and a summary of what was read. (The aggregated report replaces
/// this listing in the next step; see the issues.)
/// </summary>
internal static class EntryLister
{
    private const int MaxLine = 64 * 1024;

    public static int Run(string[] inputs, PrefixFilter filter, Stream stdout, TextWriter stderr)
    {
        var counts = new Counts();
        var parser = new LogLineParser(new LogLineParserOptions { Filter = filter });
        using var output = new StreamWriter(stdout, new UTF8Encoding(false), 1 << 16);
        bool failed = false;
        try
        {
            foreach (string input in inputs)
            {
                Stream stream;
                try
                {
                    stream = input == "-" ? Console.OpenStandardInput() : File.OpenRead(input);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    stderr.WriteLine($"mgscan: {input}: {Describe(e)}");
                    failed = true;
                    continue;
                }

                using (stream)
                {
                    ReadLines(stream, parser, output, counts);
                }
            }

            output.Flush();
        }
        catch (IOException) when (!failed)
        {
            return Program.ExitCode.Found; // a closed pipe (mgscan … | head) ends quietly
        }

        stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"mgscan: {counts.Lines:N0} lines, {counts.Entries:N0} entries, {counts.OtherPrefix:N0} other netfilter entries, {counts.Malformed:N0} malformed, {counts.LookAlike:N0} ebtables/ulogd lines, {counts.Blob:N0} hidden journal blobs, {counts.TooLong:N0} over-long lines skipped"));
        return failed ? Program.ExitCode.Error : counts.Entries > 0 ? Program.ExitCode.Found : Program.ExitCode.NoneFound;
    }

    private static string Describe(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => "no such file",
        UnauthorizedAccessException => "permission denied (system logs are readable by root and the 'adm' group)",
        _ => e.Message,
    };

    private static void ReadLines(Stream stream, LogLineParser parser, StreamWriter output, Counts counts)
    {
        byte[] buffer = new byte[MaxLine];
        int filled = 0;
        bool skipping = false;
        while (true)
        {
            int n = stream.Read(buffer, filled, buffer.Length - filled);
            if (n == 0)
            {
                if (filled > 0 && !skipping)
                {
                    Handle(buffer.AsSpan(0, filled), parser, output, counts);
                }

                return;
            }

            filled += n;
            int start = 0;
            while (true)
            {
                int nl = buffer.AsSpan(start, filled - start).IndexOf((byte)'\n');
                if (nl < 0)
                {
                    break;
                }

                if (!skipping)
                {
                    Handle(buffer.AsSpan(start, nl), parser, output, counts);
                }

                skipping = false;
                start += nl + 1;
            }

            if (start == 0 && filled == buffer.Length)
            {
                // A line longer than the buffer: count it once and drop it up to its end.
                if (!skipping)
                {
                    counts.TooLong++;
                    counts.Lines++;
                }

                skipping = true;
                filled = 0;
                continue;
            }

            buffer.AsSpan(start, filled - start).CopyTo(buffer);
            filled -= start;
        }
    }

    private static void Handle(ReadOnlySpan<byte> line, LogLineParser parser, StreamWriter output, Counts counts)
    {
        counts.Lines++;
        switch (parser.Parse(line, out LogRecord r))
        {
            case LineKind.Entry:
                counts.Entries += r.Copies;
                for (int i = 0; i < r.Copies; i++)
                {
                    Print(output, r);
                }

                break;
            case LineKind.OtherPrefix:
                counts.OtherPrefix++;
                break;
            case LineKind.Malformed:
                counts.Malformed++;
                break;
            case LineKind.LookAlike:
                counts.LookAlike++;
                break;
            case LineKind.Blob:
                counts.Blob++;
                break;
        }
    }

    private static void Print(StreamWriter output, LogRecord r)
    {
        string time = r.Envelope.Time is { } t ? t.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)
            : r.Envelope.Uptime is { } u ? string.Create(CultureInfo.InvariantCulture, $"+{u.TotalSeconds:F6}s")
            : "-";
        string uid = r.Entry.Has(NetfilterFields.Uid) ? r.Entry.Uid.ToString(CultureInfo.InvariantCulture) : "-";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{time}  uid={uid,-6} {r.Entry.Src} -> {FormatDestination(r.Entry.Dst, r.Entry.Dpt)}  rule={(r.RulePort >= 0 ? r.RulePort.ToString(CultureInfo.InvariantCulture) : Encoding.UTF8.GetString(r.Prefix).Trim())}"));
    }

    private static string FormatDestination(NetAddress a, ushort port) =>
        a.IsIPv6 ? string.Create(CultureInfo.InvariantCulture, $"[{a}]:{port}") : string.Create(CultureInfo.InvariantCulture, $"{a}:{port}");

    private sealed class Counts
    {
        public long Lines;
        public long Entries;
        public long OtherPrefix;
        public long Malformed;
        public long LookAlike;
        public long Blob;
        public long TooLong;
    }
}
