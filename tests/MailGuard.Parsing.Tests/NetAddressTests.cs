using System.Net;
using System.Text;

namespace MailGuard.Parsing.Tests;

public class NetAddressTests
{
    [Theory]
    [InlineData("192.0.2.1", "192.0.2.1")]
    [InlineData("0.0.0.0", "0.0.0.0")]
    [InlineData("255.255.255.255", "255.255.255.255")]
    [InlineData("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1")]
    [InlineData("fe80:0000:0000:0000:b6fb:e4ff:fe10:0b51", "fe80::b6fb:e4ff:fe10:b51")]
    [InlineData("ff02:0000:0000:0000:0000:0000:0000:0001", "ff02::1")]
    [InlineData("0000:0000:0000:0000:0000:0000:0000:0000", "::")]
    [InlineData("2001:db8::", "2001:db8::")]
    [InlineData("::1", "::1")]
    [InlineData("::ffff:192.0.2.1", "::ffff:192.0.2.1")]
    [InlineData("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1")]
    [InlineData("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1")]
    public void TryParse_KernelAndTextForms_FormatCanonically(string text, string canonical)
    {
        Assert.True(NetAddress.TryParse(Encoding.ASCII.GetBytes(text), out NetAddress a));
        Assert.Equal(canonical, a.ToString());
        Assert.Equal(IPAddress.Parse(text), a.ToIPAddress());
        Assert.Equal(a, NetAddress.FromIPAddress(IPAddress.Parse(text)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("192.0.2")]
    [InlineData("192.0.2.256")]
    [InlineData("192.0.2.1.5")]
    [InlineData("1.2.3.4 ")]
    [InlineData(":::")]
    [InlineData("2001:db8::1::2")]
    [InlineData("2001:0db8:0000:0000:0000:0000:0000:000g")]
    [InlineData("1:2:3:4:5:6:7:8:9")]
    [InlineData("12345::")]
    public void TryParse_Invalid_ReturnsFalse(string text)
    {
        Assert.False(NetAddress.TryParse(Encoding.ASCII.GetBytes(text), out NetAddress a));
        Assert.True(a.IsNone);
    }

    [Fact]
    public void Format_RandomAddresses_EqualsIPAddressText()
    {
        const int seed = 20261123;
        var rng = new Random(seed);
        byte[] bytes = new byte[16];
        for (int i = 0; i < 5000; i++)
        {
            rng.NextBytes(bytes);
            // Make zero runs common so the :: rules are exercised.
            for (int g = 0; g < 8; g++)
            {
                if (rng.Next(3) == 0)
                {
                    bytes[2 * g] = 0;
                    bytes[(2 * g) + 1] = 0;
                }
            }

            var ip = new IPAddress(i % 2 == 0 ? bytes : bytes[..4]);
            var a = NetAddress.FromIPAddress(ip);
            Assert.True(a.ToString() == ip.ToString(), $"seed {seed}, case {i}: {a} vs {ip}");
            Assert.True(NetAddress.TryParse(Encoding.ASCII.GetBytes(ip.ToString()), out NetAddress back), $"seed {seed}, case {i}");
            Assert.Equal(a, back);
        }
    }

    [Fact]
    public void Equality_And_Order_AreByFamilyThenValue()
    {
        Assert.True(NetAddress.TryParse("192.0.2.1"u8, out NetAddress v4));
        Assert.True(NetAddress.TryParse("::c000:201"u8, out NetAddress v6));
        Assert.NotEqual(v4, v6);
        Assert.True(v4 < v6);
        Assert.Equal(0xC0000201u, v4.IPv4Value);
        Assert.Equal(NetAddress.FromIPv4(0xC0000201), v4);
        Assert.Equal(v4.GetHashCode(), NetAddress.FromIPv4(0xC0000201).GetHashCode());
    }
}
