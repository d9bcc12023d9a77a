namespace MailGuard.Parsing.Tests;

public class FirewallFrontEndsTests
{
    [Theory]
    [InlineData("[UFW BLOCK] ", "ufw")]
    [InlineData("[UFW AUDIT INVALID] ", "ufw")]
    [InlineData("filter_OUT_public_REJECT: ", "firewalld")]
    [InlineData("FINAL_REJECT: ", "firewalld")]
    [InlineData("Shorewall:fw2net:REJECT:", "Shorewall")]
    [InlineData("Firewall: *TCP_OUT Blocked* ", "CSF")]
    [InlineData("IPTABLES TCP-OUT 25:", "mgscan rules")]
    [InlineData("TCP-OUT 25 v2ray:", "mgscan rules")]
    [InlineData("SMTP-OUT: ", null)]
    [InlineData("", null)]
    public void Name_KnownPrefix_NamesItsFrontEnd(string prefix, string? frontEnd) =>
        Assert.Equal(frontEnd, FirewallFrontEnds.Name(prefix));
}
