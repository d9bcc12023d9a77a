using System.Text;

namespace MailGuard.Parsing.Tests;

public class PrefixFilterTests
{
    [Theory]
    [InlineData("IPTABLES TCP-OUT 25:", true, 25)]
    [InlineData("IPTABLES TCP-OUT 25: ", true, 25)]
    [InlineData("IPTABLES TCP-OUT 587:", true, 587)]
    [InlineData("IPTABLES TCP-OUT 65535:", true, 65535)]
    [InlineData("IPTABLES TCP-OUT 65536:", false, -1)]
    [InlineData("IPTABLES TCP-OUT :", false, -1)]
    [InlineData("IPTABLES TCP-OUT 25", false, -1)]
    [InlineData("IPTABLES TCP-OUT 25:x", false, -1)]
    [InlineData("IPTABLES TCP-IN 25:", false, -1)]
    [InlineData("iptables tcp-out 25:", false, -1)]
    [InlineData("", false, -1)]
    public void TcpOut_MatchesTheProductPrefixAndGivesThePort(string prefix, bool matches, int port)
    {
        Assert.Equal(matches, PrefixFilter.TcpOut.Matches(Encoding.UTF8.GetBytes(prefix), out int got));
        Assert.Equal(port, got);
    }

    [Theory]
    [InlineData("[UFW *]", "[UFW BLOCK] ", true, -1)]
    [InlineData("[UFW *]", "[UFW AUDIT INVALID] ", true, -1)]
    [InlineData("[UFW *]", "[UFW] ", false, -1)]
    [InlineData("IPTABLES *-OUT #:", "IPTABLES UDP-OUT 53:", true, 53)]
    [InlineData("FW-?", "FW-A", true, -1)]
    [InlineData("FW-?", "FW-AB", false, -1)]
    [InlineData("#5", "255", true, 25)]
    [InlineData("*", "", true, -1)]
    public void Pattern_MatchesWholePrefix(string pattern, string prefix, bool matches, int port)
    {
        Assert.Equal(matches, PrefixFilter.Pattern(pattern).Matches(Encoding.UTF8.GetBytes(prefix), out int got));
        Assert.Equal(port, got);
    }

    [Theory]
    [InlineData("DROP: ", "DROP:", true)]
    [InlineData("DROP:", "DROP: ", true)]
    [InlineData("DROP", "DROP:", false)]
    [InlineData("", "", true)]
    [InlineData("", "X", false)]
    public void Exact_IgnoresTrailingSpacesOnly(string filter, string prefix, bool matches)
    {
        Assert.Equal(matches, PrefixFilter.Exact(filter).Matches(Encoding.UTF8.GetBytes(prefix), out _));
    }

    [Fact]
    public void All_MatchesAnything()
    {
        Assert.True(PrefixFilter.All.Matches("whatever \xff"u8, out int port));
        Assert.Equal(-1, port);
        Assert.Equal(PrefixFilterKind.All, PrefixFilter.All.Kind);
    }

    [Fact]
    public void Pattern_Empty_Throws()
    {
        Assert.Throws<ArgumentException>(() => PrefixFilter.Pattern(""));
    }
}
