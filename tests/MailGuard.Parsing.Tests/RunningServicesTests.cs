namespace MailGuard.Parsing.Tests;

/// <summary>The services running per UID, read from /proc (a fake one here): the candidates behind a shared UID.</summary>
public sealed class RunningServicesTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "mgscan-proc-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private void Process(int pid, string uidLine, params string[] cgroup)
    {
        string dir = Path.Combine(_root, "proc", pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "status"), "Name:\tx\nUmask:\t0022\n" + uidLine + "\nGid:\t0\t0\t0\t0\n");
        File.WriteAllLines(Path.Combine(dir, "cgroup"), cgroup);
    }

    [Fact]
    public void ByUid_ProcessesInServiceCgroups_AreGroupedByRealUid()
    {
        Process(10, "Uid:\t65534\t65534\t65534\t65534", "0::/system.slice/v2ray.service");
        Process(11, "Uid:\t65534\t65534\t65534\t65534", "12:pids:/system.slice/shadowsocks-libev.service", "1:name=systemd:/system.slice/shadowsocks-libev.service");
        Process(12, "Uid:\t65534\t0\t0\t0", "0::/system.slice/v2ray.service/sub"); // a sub-cgroup of the unit
        Process(13, "Uid:\t0\t0\t0\t0", "0::/system.slice/cron.service");
        Process(14, "Uid:\t1000\t1000\t1000\t1000", "0::/user.slice/user-1000.slice/session-1.scope"); // not a service
        Directory.CreateDirectory(Path.Combine(_root, "proc", "sys")); // not a process
        IReadOnlyDictionary<uint, IReadOnlyList<string>> services = RunningServices.ByUid(_root);
        Assert.Equal(["shadowsocks-libev.service", "v2ray.service"], services[65534]);
        Assert.Equal(["cron.service"], services[0]);
        Assert.False(services.ContainsKey(1000));
    }

    [Fact]
    public void ByUid_NoProc_IsEmpty() => Assert.Empty(RunningServices.ByUid(_root));
}
