using MailGuard.Parsing.Internals;

namespace MailGuard.Parsing.Tests;

public class PlainLinesTests
{
    [Fact]
    public void Count_EqualsLineByLineCounting_OnRandomRuns()
    {
        var random = new Random(11);
        byte[] firsts = " \t\u001e{-d\nNx1:"u8.ToArray();
        int stoppedEarly = 0;
        for (int round = 0; round < 20_000; round++)
        {
            // A run of whole lines; some lines start with a byte that may make them special.
            var run = new List<byte>();
            int lines = random.Next(1, 12);
            for (int l = 0; l < lines; l++)
            {
                int length = random.Next(0, 40);
                for (int i = 0; i < length; i++)
                {
                    run.Add(i == 0 && random.Next(6) == 0 ? firsts[random.Next(firsts.Length)] : (byte)random.Next('a', 'z' + 1));
                }

                run.Add((byte)'\n');
            }

            byte[] data = [.. run];
            int count = PlainLines.Count(data, out int consumed);
            (int expectedCount, int expectedLength) = Model(data);
            Assert.True(count == expectedCount && consumed == expectedLength, $"round {round}: {count}/{consumed} vs {expectedCount}/{expectedLength}");
            if (expectedLength < data.Length)
            {
                stoppedEarly++;
            }
        }

        Assert.True(stoppedEarly > 5000, $"{stoppedEarly}");
    }

    // Line by line: count lines until one after the first starts with a byte that may be special.
    private static (int Count, int Length) Model(byte[] data)
    {
        int count = 0;
        int pos = 0;
        while (pos < data.Length)
        {
            if (count > 0 && data[pos] is (byte)' ' or (byte)'\t' or 0x1E or (byte)'{' or (byte)'-' or (byte)'d' or (byte)'\n')
            {
                break;
            }

            pos += Array.IndexOf(data, (byte)'\n', pos) - pos + 1;
            count++;
        }

        return (count, pos);
    }
}
