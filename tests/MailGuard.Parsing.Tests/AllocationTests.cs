using System.Text;

namespace MailGuard.Parsing.Tests;

/// <summary>Per-line code must not allocate: measured with GC.GetAllocatedBytesForCurrentThread over many lines of every form.</summary>
public class AllocationTests
{
    private static List<byte[]> AllForms()
    {
        var lines = new List<byte[]>();
        foreach (var row in ReferenceLines.Bodies)
        {
            lines.Add(Encoding.UTF8.GetBytes(row.Data.Item2));
        }

        foreach (var row in WrapperLines.All)
        {
            lines.Add(Encoding.UTF8.GetBytes(row.Data.Item2));
        }

        foreach (string file in Directory.GetFiles(Repo.Samples))
        {
            if (!file.EndsWith(".md", StringComparison.Ordinal) && !file.EndsWith("expected.json", StringComparison.Ordinal))
            {
                lines.AddRange(Repo.Lines(file));
            }
        }

        return lines;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LogLineParser_ParsingEveryFormManyTimes_AllocatesNothing(bool leanEntries)
    {
        List<byte[]> lines = AllForms();
        Assert.True(lines.Count > 1000, $"only {lines.Count} lines");
        var parser = new LogLineParser(new LogLineParserOptions { Filter = PrefixFilter.All, LeanEntries = leanEntries });

        long sink = Run(parser, lines, 2); // warm up: JIT, scratch buffer growth
        long before = GC.GetAllocatedBytesForCurrentThread();
        sink += Run(parser, lines, 20);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(sink > 0);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void NetfilterParser_ParsingEveryBodyManyTimes_AllocatesNothing()
    {
        var bodies = new List<byte[]>();
        foreach (var row in ReferenceLines.Bodies)
        {
            bodies.Add(Encoding.UTF8.GetBytes(row.Data.Item2));
        }

        long sink = 0;
        for (int pass = 0; pass < 2; pass++)
        {
            foreach (byte[] b in bodies)
            {
                sink += (int)NetfilterParser.Parse(b, out NetfilterEntry e) + e.Dpt;
            }
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int pass = 0; pass < 2000; pass++)
        {
            foreach (byte[] b in bodies)
            {
                sink += (int)NetfilterParser.Parse(b, out NetfilterEntry e) + e.Dpt + (int)e.Uid;
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(sink > 0);
    }

    private static long Run(LogLineParser parser, List<byte[]> lines, int passes)
    {
        long sink = 0;
        for (int pass = 0; pass < passes; pass++)
        {
            foreach (byte[] line in lines)
            {
                LineKind kind = parser.Parse(line, out LogRecord r);
                sink += (int)kind + r.Entry.Dpt + r.Message.Length + (r.Envelope.Time?.Second ?? 0);
            }
        }

        return sink;
    }
}
