using System.Diagnostics;
using MailGuard.Analysis;
using MailGuard.Parsing;
using Spectre.Console;

namespace MailGuard.Cli;

/// <summary>
/// The live view: while a stream is read (standard input, <c>--follow</c>) and standard output is a terminal, a screen in
/// the terminal's alternate buffer, redrawn from the scan's snapshots (<see cref="MailScanOptions.OnSnapshot"/>, once a
/// second, also while the stream is silent) by Spectre.Console's live display, never per line. The snapshot's verdict is
/// worked out here, on the view's thread, not on the scanning one. On the end of the input, Ctrl+C or SIGTERM the scan
/// stops, the alternate buffer is left and the cursor shown again, and the caller prints the final report as without it.
/// </summary>
internal static class LiveView
{
    /// <summary>How often the view looks for a new snapshot or a new terminal size.</summary>
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// True when the live view is shown: the table report (not --list, json, csv), standard output a terminal, and the
    /// input a stream: --follow, or standard input that is a pipe (not a terminal, not a regular file).
    /// </summary>
    public static bool Wanted(ScanSettings settings) =>
        settings.Live && settings.Format == "table" && !settings.List && settings.Interval is null && !Console.IsOutputRedirected
        && (settings.Follow || (settings.Machine is null && settings.Inputs is ["-"] && StandardInputIsAStream()));

    /// <summary>What the header says is read.</summary>
    public static string Source(ScanSettings settings) => settings.Follow ? string.Join(", ", settings.Inputs) + " (followed)" : "standard input";

    private static bool StandardInputIsAStream()
    {
        if (!Console.IsInputRedirected || OperatingSystem.IsWindows())
        {
            return false; // a terminal: mgscan reads this machine's log, or what is typed
        }

        try
        {
            using var stdin = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0, isAsync: false);
            return !stdin.CanSeek; // mgscan < file: read at once, nothing to watch
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return false;
        }
    }

    /// <summary>
    /// Runs <paramref name="scan"/> (given the snapshot callback to set) under the live view and returns its report once
    /// the terminal is back as it was.
    /// </summary>
    public static async Task<MailScanReport> RunAsync(Stream stdout, string source, VerdictOptions verdictOptions, Func<Action<MailScanReport>, Task<MailScanReport>> scan)
    {
        // Spectre writes a frame into this buffer; one write(2) a frame (a frame of a 200 × 60 terminal is ~30 KB).
        var writer = new StreamWriter(stdout, Report.Utf8, 1 << 16) { AutoFlush = false };
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.Detect, // NO_COLOR, TERM and COLORTERM decide
            Interactive = InteractionSupport.No,
            Out = new TerminalOutput(writer),
        });
        long started = Stopwatch.GetTimestamp();
        MailScanReport? latest = null;
        LiveFrame Frame(MailScanReport? r, SpamVerdict? v) => new(r, v, source, Stopwatch.GetElapsedTime(started), DateTimeOffset.Now);

        console.WriteAnsi("\e[?1049h\e[H"); // the alternate buffer: the shell's screen and scrollback stay as they were
        try
        {
            var screen = new LiveScreen(Frame(null, null));
            return await console.Live(screen)
                .AutoClear(true)
                .Overflow(VerticalOverflow.Crop)
                .Cropping(VerticalOverflowCropping.Bottom)
                .StartAsync(async ctx =>
                {
                    Draw(ctx, writer);
                    Task<MailScanReport> scanning = scan(r => Volatile.Write(ref latest, r));
                    (int, int) size = (console.Profile.Width, console.Profile.Height);
                    while (!scanning.IsCompleted)
                    {
                        await Task.WhenAny(scanning, Task.Delay(s_poll)).ConfigureAwait(false);
                        MailScanReport? snapshot = Interlocked.Exchange(ref latest, null);
                        (int, int) now = (console.Profile.Width, console.Profile.Height);
                        if (snapshot is not null)
                        {
                            screen.Frame = Frame(snapshot, snapshot.Verdict(verdictOptions));
                        }
                        else if (now == size)
                        {
                            continue;
                        }

                        size = now;
                        Draw(ctx, writer);
                    }

                    return await scanning.ConfigureAwait(false);
                }).ConfigureAwait(false);
        }
        finally
        {
            console.WriteAnsi("\e[?1049l"); // the shell's screen again, with the cursor where it was
            console.Cursor.Show();
            writer.Flush();
        }
    }

    /// <summary>Draws the frame Spectre has written into the buffer at once, as one synchronized update (DEC mode 2026; ignored where unknown).</summary>
    private static void Draw(LiveDisplayContext ctx, StreamWriter writer)
    {
        writer.Write("\e[?2026h");
        ctx.Refresh();
        writer.Write("\e[?2026l");
        writer.Flush();
    }
}
