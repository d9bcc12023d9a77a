using System.Globalization;

namespace MailGuard.Analysis;

/// <summary>
/// The systemd services running on this machine, per UID, read from <c>/proc</c> (each process's real UID and its
/// cgroup's <c>….service</c> unit): the candidates a verdict names when a shared UID (root, nobody) is the culprit
/// (<see cref="VerdictOptions.ServicesByUid"/>). Only meaningful when the log is this machine's own.
/// </summary>
public static class RunningServices
{
    /// <summary>Reads the running services.</summary>
    /// <param name="root">The root of the system (<c>/</c>; a directory holding <c>proc</c> in tests).</param>
    /// <returns>Per UID, the units of its processes, sorted; empty when <c>/proc</c> cannot be read.</returns>
    public static IReadOnlyDictionary<uint, IReadOnlyList<string>> ByUid(string root = "/")
    {
        ArgumentNullException.ThrowIfNull(root);
        var units = new Dictionary<uint, SortedSet<string>>();
        string proc = Path.Combine(root, "proc");
        IEnumerable<string> pids;
        try
        {
            pids = Directory.GetDirectories(proc);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new Dictionary<uint, IReadOnlyList<string>>();
        }

        foreach (string dir in pids)
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                continue;
            }

            try
            {
                if (Uid(File.ReadLines(Path.Combine(dir, "status"))) is { } uid && Unit(File.ReadLines(Path.Combine(dir, "cgroup"))) is { } unit)
                {
                    if (!units.TryGetValue(uid, out SortedSet<string>? set))
                    {
                        units[uid] = set = new SortedSet<string>(StringComparer.Ordinal);
                    }

                    set.Add(unit);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // the process ended meanwhile, or hides its files
            }
        }

        var result = new Dictionary<uint, IReadOnlyList<string>>(units.Count);
        foreach ((uint uid, SortedSet<string> set) in units)
        {
            result[uid] = [.. set];
        }

        return result;
    }

    /// <summary>The real UID of a <c>/proc/PID/status</c>: the first number of its <c>Uid:</c> line.</summary>
    private static uint? Uid(IEnumerable<string> status)
    {
        foreach (string line in status)
        {
            if (line.StartsWith("Uid:", StringComparison.Ordinal))
            {
                string[] fields = line[4..].Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
                return fields.Length > 0 && uint.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out uint uid) ? uid : null;
            }
        }

        return null;
    }

    /// <summary>The service unit of a <c>/proc/PID/cgroup</c> (<c>0::/system.slice/v2ray.service</c>, or the systemd hierarchy's line).</summary>
    private static string? Unit(IEnumerable<string> cgroup)
    {
        foreach (string line in cgroup)
        {
            int slice = line.IndexOf("/system.slice/", StringComparison.Ordinal);
            if (slice < 0)
            {
                continue;
            }

            string rest = line[(slice + "/system.slice/".Length)..];
            int end = rest.IndexOf('/', StringComparison.Ordinal);
            string unit = end < 0 ? rest : rest[..end];
            if (unit.EndsWith(".service", StringComparison.Ordinal))
            {
                return unit;
            }
        }

        return null;
    }
}
