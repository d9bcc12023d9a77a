using MailGuard.Parsing.Internals;

namespace MailGuard.Parsing.Tests;

public class LineCandidatesTests
{
    private static int Reference(ReadOnlySpan<byte> data)
    {
        int best = int.MaxValue;
        foreach (byte[] needle in new[] { "IN="u8.ToArray(), "repeated"u8.ToArray(), "blob data]"u8.ToArray(), new byte[] { 0 } })
        {
            int at = data.IndexOf(needle);
            if (at >= 0)
            {
                best = Math.Min(best, at);
            }
        }

        return best == int.MaxValue ? -1 : best;
    }

    [Fact]
    public void IndexOf_RandomTextWithPlantedWords_EqualsTheFirstOfFourSearches()
    {
        // Near misses ("IN", "N=", "rep", "repeat", "blob data") and real words at every offset and length,
        // including the last bytes of the block, where the vector loop hands over to the scalar tail.
        var rng = new Random(11);
        string[] words = ["IN=", "IN", "N=", "ID=", "repeated", "repeat", "rep", "blob data]", "blob data", "blo", "\0", "r", "b", "I"];
        for (int round = 0; round < 3000; round++)
        {
            int length = rng.Next(0, 120);
            byte[] data = new byte[length];
            for (int i = 0; i < length; i++)
            {
                data[i] = (byte)"abcdeINOPrbl=o t\n"[rng.Next(17)];
            }

            for (int k = rng.Next(0, 4); k > 0 && length > 0; k--)
            {
                byte[] w = System.Text.Encoding.ASCII.GetBytes(words[rng.Next(words.Length)]);
                int at = rng.Next(length);
                w.AsSpan(0, Math.Min(w.Length, length - at)).CopyTo(data.AsSpan(at));
            }

            Assert.Equal(Reference(data), LineCandidates.IndexOf(data));
        }
    }

    [Theory]
    [InlineData("Nov 23 02:14:07 vps kernel: IPTABLES TCP-OUT 25:IN= OUT=eth0", 48)]
    [InlineData("Nov 23 02:14:08 vps kernel: last message repeated 3 times", 41)]
    [InlineData("Nov 23 02:14:08 vps kernel: [123B blob data]", 34)]
    [InlineData("Nov 23 02:14:08 vps sshd[811]: Accepted publickey for root from 192.0.2.1 port 50022 ssh2", -1)]
    public void IndexOf_LogLines(string line, int expected)
    {
        Assert.Equal(expected, LineCandidates.IndexOf(System.Text.Encoding.ASCII.GetBytes(line)));
    }

    [Fact]
    public void MayBeEntry_PerLine_AndTheBlockLoopsSearch_AreTheRuleInWords()
    {
        // The rule in words: a line may be an entry when it holds IN=, "repeated", "blob data]" or a NUL byte, or starts
        // specially (empty, a separator, journal JSON, after blanks). The line loop asks it per line (MayBeEntry); the block
        // loop (LogScanner.Scan) searches the whole block for candidates, then asks each line's start. Both must say the same.
        var rng = new Random(12);
        string[] words = ["IN=", "IN", "repeated", "blob data]", "\0", "{", "-", " ", "\t", "\u001e", "data:", "Nov 23 02:14:07 vps kernel: "];
        for (int round = 0; round < 5000; round++)
        {
            var line = new System.Text.StringBuilder();
            for (int k = rng.Next(0, 5); k > 0; k--)
            {
                line.Append(rng.Next(3) == 0 ? "abc IN " : words[rng.Next(words.Length)]);
            }

            string text = line.ToString();
            byte[] data = System.Text.Encoding.ASCII.GetBytes(text);
            string trimmed = text.TrimStart(' ', '\t', '\u001e');
            bool inWords = text.Contains("IN=", StringComparison.Ordinal) || text.Contains("repeated", StringComparison.Ordinal)
                || text.Contains("blob data]", StringComparison.Ordinal) || text.Contains('\0', StringComparison.Ordinal)
                || trimmed.Length == 0 || trimmed[0] is '{' or '-' || trimmed.StartsWith("data:", StringComparison.Ordinal);
            bool perLine = LogLineParser.MayBeEntry(data);
            int hits = LineCandidates.IndexOf(data);
            bool perBlock = hits >= 0 || LogLineParser.HasSpecialStart(data);
            Assert.True(inWords == perLine && perLine == perBlock, $"'{text}' (seed 12, round {round}): in words {inWords}, per line {perLine}, per block {perBlock}");
        }
    }
}
