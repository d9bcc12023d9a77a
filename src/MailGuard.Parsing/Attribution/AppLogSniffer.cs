namespace MailGuard.Parsing.AppLogs;

/// <summary>What the start of an input shows it is.</summary>
internal enum InputContent : byte
{
    /// <summary>Kernel lines, or nothing recognised: read for netfilter entries (as every input was before the join).</summary>
    Kernel,

    /// <summary>Application lines and no netfilter line: read for the join only.</summary>
    Application,

    /// <summary>Both (a <c>/var/log/syslog</c>): read for entries and, a second time, for the join.</summary>
    Both,
}

/// <summary>Tells application logs from kernel logs by their first lines, as the wrappers are told apart.</summary>
internal static class AppLogSniffer
{
    /// <summary>How much of an input is looked at: its first 64 KiB (after decompression), at most 512 lines.</summary>
    public const int HeadBytes = 64 * 1024;

    private const int HeadLines = 512;

    /// <summary>What the file at <paramref name="path"/> holds; <see cref="InputContent.Kernel"/> when it cannot be read (the scan says why).</summary>
    public static InputContent Sniff(string path, MailScanOptions options, out AppProgram program)
    {
        program = 0;
        byte[] head = new byte[HeadBytes];
        int length;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
            using Stream stream = LogScanner.OpenMaybeGzip(file);
            length = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return InputContent.Kernel;
        }

        return Classify(head.AsSpan(0, length), options, out program);
    }

    public static InputContent Classify(ReadOnlySpan<byte> head, MailScanOptions options, out AppProgram program)
    {
        program = 0;
        var parser = new AppLineParser(new EnvelopeOptions { TimeZone = options.TimeZone, ReferenceTime = options.ReferenceTime ?? DateTimeOffset.UtcNow });
        int netfilter = 0;
        int lines = 0;
        while (head.Length > 0 && lines < HeadLines)
        {
            int nl = head.IndexOf((byte)'\n');
            if (nl < 0 && head.Length == HeadBytes)
            {
                break; // a cut line
            }

            ReadOnlySpan<byte> line = nl < 0 ? head : head[..nl];
            head = nl < 0 ? default : head[(nl + 1)..];
            lines++;
            if (line.IndexOf("IN="u8) >= 0 && line.IndexOf(" OUT="u8) >= 0)
            {
                netfilter++;
                continue;
            }

            parser.Parse(line, out AppLine app);
            if (program == 0 && app.Program != 0)
            {
                program = app.Program;
            }
        }

        return program == 0 ? InputContent.Kernel : netfilter > 0 ? InputContent.Both : InputContent.Application;
    }
}
