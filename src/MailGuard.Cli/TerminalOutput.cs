using System.Runtime.InteropServices;
using System.Text;
using Spectre.Console;

namespace MailGuard.Cli;

/// <summary>
/// The live view's output for Spectre: standard output, whose size is asked of the terminal at each drawing
/// (<c>ioctl(TIOCGWINSZ)</c>). Console.WindowWidth/WindowHeight are not used: .NET keeps the first size it reads and
/// forgets it on SIGWINCH only when standard input is a terminal, so with <c>journalctl -k -f | mgscan</c> a resized
/// terminal kept getting screens of the old size (seen in tmux: 120 × 40 drawn into 80 × 24).
/// </summary>
internal sealed partial class TerminalOutput(TextWriter writer) : IAnsiConsoleOutput
{
    public TextWriter Writer => writer;

    public bool IsTerminal => true;

    public int Width => Size().Columns;

    public int Height => Size().Rows;

    public void SetEncoding(Encoding encoding)
    {
        // mgscan writes UTF-8 (Report.Utf8) whatever Spectre would choose
    }

    /// <summary>The size of the terminal on standard output; Console's when it cannot be asked (80 × 24 when that fails too).</summary>
    public static (int Columns, int Rows) Size()
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                if (Ioctl(1, TIOCGWINSZ, out WinSize size) == 0 && size.Columns > 0 && size.Rows > 0)
                {
                    return (size.Columns, size.Rows);
                }
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // no libc to ask
            }
        }

        try
        {
            return (Console.WindowWidth is > 0 and var w ? w : 80, Console.WindowHeight is > 0 and var h ? h : 24);
        }
        catch (Exception e) when (e is IOException or PlatformNotSupportedException)
        {
            return (80, 24);
        }
    }

    /// <summary>Linux's request for the window size (x86-64, arm64 and the other asm-generic architectures).</summary>
    private const nuint TIOCGWINSZ = 0x5413;

    [StructLayout(LayoutKind.Sequential)]
    private struct WinSize
    {
        public ushort Rows;
        public ushort Columns;
        public ushort XPixels;
        public ushort YPixels;
    }

    [LibraryImport("libc", EntryPoint = "ioctl")]
    private static partial int Ioctl(int fd, nuint request, out WinSize size);
}
