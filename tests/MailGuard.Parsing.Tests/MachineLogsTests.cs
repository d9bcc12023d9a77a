namespace MailGuard.Parsing.Tests;

/// <summary>This machine's kernel log: kern.log or messages with their rotated files, or the journal only.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class MachineLogsTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "mgscan-root-" + Guid.NewGuid().ToString("N"));

    public MachineLogsTests() => Directory.CreateDirectory(Path.Combine(_root, "var", "log"));

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Touch(string relative)
    {
        string path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "");
        return path;
    }

    [Fact]
    public void Find_KernLogAndRotated_NewestFirst()
    {
        Touch("var/log/kern.log.2.gz");
        Touch("var/log/kern.log");
        Touch("var/log/kern.log.10.gz");
        Touch("var/log/kern.log.1");
        Touch("var/log/kern.log.bak"); // not logrotate's
        Touch("var/log/messages");
        MachineLogs m = MachineLogs.Find(_root);
        Assert.Equal("kern.log", m.BaseName);
        Assert.Equal(["kern.log", "kern.log.1", "kern.log.2.gz", "kern.log.10.gz"], m.Files.Select(Path.GetFileName));
        Assert.StartsWith("this system's kernel log is " + Path.Combine(_root, "var/log/kern.log") + " (and 3 rotated files)", m.Instead(), StringComparison.Ordinal);
    }

    [Fact]
    public void Find_RhelMessagesWithDateext_NewestFirst()
    {
        Touch("var/log/messages");
        Touch("var/log/messages-20261116.gz");
        Touch("var/log/messages-20261130");
        MachineLogs m = MachineLogs.Find(_root);
        Assert.Equal("messages", m.BaseName);
        Assert.Equal(["messages", "messages-20261130", "messages-20261116.gz"], m.Files.Select(Path.GetFileName));
    }

    [Fact]
    public void Find_JournalOnly_SaysSo()
    {
        Touch("var/log/journal/0123/system.journal");
        MachineLogs m = MachineLogs.Find(_root);
        Assert.Null(m.BaseName);
        Assert.Empty(m.Files);
        Assert.True(m.HasJournal);
        Assert.StartsWith("this system logs to the journal only: journalctl -k -o json | mgscan", m.Instead(), StringComparison.Ordinal);
    }

    [Fact]
    public void Find_Nothing_SaysThereIsNothing()
    {
        MachineLogs m = MachineLogs.Find(_root);
        Assert.False(m.HasJournal);
        Assert.Null(m.Journalctl);
        Assert.StartsWith("this system has no kernel log file and no journal", m.Instead(), StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => m.OpenJournal());
    }

    [Fact]
    public async Task OpenJournal_RunsJournalctlForTheKernelsRecords()
    {
        string journalctl = Touch("usr/bin/journalctl");
        File.WriteAllText(journalctl, "#!/bin/sh\necho \"{\\\"ARGS\\\":\\\"$*\\\"}\"\n");
        File.SetUnixFileMode(journalctl, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        MachineLogs m = MachineLogs.Find(_root);
        Assert.Equal(journalctl, m.Journalctl);
        await using Stream s = m.OpenJournal();
        using var reader = new StreamReader(s);
        Assert.Equal("{\"ARGS\":\"_TRANSPORT=kernel -o json --no-pager -q\"}", await reader.ReadLineAsync(TestContext.Current.CancellationToken));
    }
}
