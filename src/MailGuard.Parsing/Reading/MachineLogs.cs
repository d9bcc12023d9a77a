using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace MailGuard.Parsing;

/// <summary>
/// Where this machine keeps the kernel's log: <c>/var/log/kern.log</c> (Debian, Ubuntu with rsyslog) or
/// <c>/var/log/messages</c> (the RHEL family) with their rotated files, or the journal only (Debian 12 and later
/// without rsyslog). Used to read the machine's own log when no file is named, and to say what exists when a named
/// file does not.
/// </summary>
public sealed partial class MachineLogs
{
    private static readonly string[] s_bases = ["kern.log", "messages"];

    private MachineLogs(string root, string? baseName, IReadOnlyList<string> files, bool journal, string? journalctl)
    {
        Root = root;
        BaseName = baseName;
        Files = files;
        HasJournal = journal;
        Journalctl = journalctl;
    }

    /// <summary>The directory the system's files were looked for under (<c>/</c> on a live system).</summary>
    public string Root { get; }

    /// <summary><c>kern.log</c> or <c>messages</c>: the file set found, or null.</summary>
    public string? BaseName { get; }

    /// <summary>The log file and its rotated copies (<c>.1</c>, <c>.2.gz</c>, <c>-20261130</c>…), the current one first; empty when none.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>Whether the journal has files (<c>/var/log/journal</c> or <c>/run/log/journal</c>).</summary>
    public bool HasJournal { get; }

    /// <summary>The path of <c>journalctl</c>, when it is installed.</summary>
    public string? Journalctl { get; }

    /// <summary>Looks at a system's log locations.</summary>
    /// <param name="root">The root of the system (<c>/</c>; a directory holding <c>var/log</c> in tests).</param>
    /// <returns>What was found.</returns>
    public static MachineLogs Find(string root = "/")
    {
        ArgumentNullException.ThrowIfNull(root);
        string log = Path.Combine(root, "var", "log");
        foreach (string name in s_bases)
        {
            string current = Path.Combine(log, name);
            if (File.Exists(current))
            {
                return new MachineLogs(root, name, [current, .. Rotated(log, name)], Journal(root), FindJournalctl(root));
            }
        }

        return new MachineLogs(root, null, [], Journal(root), FindJournalctl(root));
    }

    /// <summary>
    /// Starts <c>journalctl _TRANSPORT=kernel -o json</c> (every boot the journal keeps, the kernel's own records only) and
    /// returns its output; disposing the stream stops journalctl.
    /// </summary>
    /// <returns>The stream of journal JSON records.</returns>
    /// <exception cref="InvalidOperationException">journalctl is not installed.</exception>
    public Stream OpenJournal()
    {
        string journalctl = Journalctl ?? throw new InvalidOperationException("journalctl is not installed.");
        var psi = new ProcessStartInfo(journalctl)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "_TRANSPORT=kernel", "-o", "json", "--no-pager", "-q" })
        {
            psi.ArgumentList.Add(arg);
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException("journalctl did not start.");
        process.ErrorDataReceived += static (_, _) => { }; // "No journal files were found." is not a failure here
        process.BeginErrorReadLine();
        return new ProcessOutput(process);
    }

    /// <summary>What a named, missing kernel log could be read as instead: one line, with the commands.</summary>
    /// <returns>For example "this system logs to the journal only: journalctl -k -o json | mgscan, or install rsyslog".</returns>
    public string Instead()
    {
        if (Files.Count > 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"this system's kernel log is {Files[0]}{(Files.Count > 1 ? $" (and {Files.Count - 1} rotated files)" : "")}: mgscan {Files[0]}*");
        }

        if (HasJournal || Journalctl is not null)
        {
            return "this system logs to the journal only: journalctl -k -o json | mgscan (or mgscan without a file), or install rsyslog for /var/log/kern.log";
        }

        return "this system has no kernel log file and no journal: pipe one in (dmesg | mgscan), or install rsyslog";
    }

    /// <summary>The rotated copies of <paramref name="name"/> in <paramref name="dir"/>, the newest first.</summary>
    internal static IEnumerable<string> Rotated(string dir, string name)
    {
        var rotated = new List<(string Path, long Order)>();
        foreach (string file in Directory.EnumerateFiles(dir, name + "*"))
        {
            string rest = Path.GetFileName(file)[name.Length..];
            Match m = RotatedSuffix().Match(rest);
            if (rest.Length > 0 && m.Success)
            {
                // .1 .2.gz (logrotate's numbers: older as they grow) or -20261130[.gz] (dateext: older as they shrink)
                long order = m.Groups["n"].Success ? long.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture) : -long.Parse(m.Groups["d"].Value, CultureInfo.InvariantCulture);
                rotated.Add((file, order));
            }
        }

        rotated.Sort(static (a, b) => a.Order.CompareTo(b.Order));
        return rotated.Select(r => r.Path);
    }

    [GeneratedRegex(@"^(\.(?<n>\d{1,4})|-(?<d>\d{8}))(\.(gz|xz|zst|bz2))?$")]
    private static partial Regex RotatedSuffix();

    private static bool Journal(string root)
    {
        foreach (string dir in new[] { Path.Combine(root, "var", "log", "journal"), Path.Combine(root, "run", "log", "journal") })
        {
            if (Directory.Exists(dir) && Directory.EnumerateFiles(dir, "*.journal", SearchOption.AllDirectories).Any())
            {
                return true;
            }
        }

        return false;
    }

    private static string? FindJournalctl(string root)
    {
        foreach (string dir in new[] { "usr/bin", "bin" })
        {
            string path = Path.Combine(root, dir, "journalctl");
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    /// <summary>A process's standard output; disposing it ends the process.</summary>
    private sealed class ProcessOutput(Process process) : ReadOnlyStream
    {
        private readonly Stream _out = process.StandardOutput.BaseStream;

        public override int Read(byte[] buffer, int offset, int count) => _out.Read(buffer, offset, count);

        public override int Read(Span<byte> buffer) => _out.Read(buffer);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _out.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _out.ReadAsync(buffer, offset, count, cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                try
                {
                    if (!process.HasExited)
                    {
                        process.Kill();
                    }
                }
                catch (InvalidOperationException)
                {
                    // it ended meanwhile
                }

                _out.Dispose();
                process.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
