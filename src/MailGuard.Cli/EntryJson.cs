using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using MailGuard.Parsing;

namespace MailGuard.Cli;

/// <summary>
/// <c>--format ndjson</c>: one JSON object per selected entry, one per line, as the entries are read, with the field names
/// of the Elastic Common Schema (docs/entries-ndjson.md, the schema in docs/entries-ndjson.schema.json), for log
/// shippers (Vector, Fluent Bit, Filebeat) to take unchanged.
/// </summary>
internal sealed class EntryJson : IDisposable
{
    private readonly BufferedStream _out;
    private readonly ArrayBufferWriter<byte> _line = new(1024);
    private readonly Utf8JsonWriter _json;
    private readonly IReadOnlyDictionary<uint, string> _names;

    public EntryJson(Stream output, IReadOnlyDictionary<uint, string> names)
    {
        _out = new BufferedStream(output, 1 << 16);
        // Log text stays readable (no \uXXXX for every non-ASCII letter); control characters are escaped all the same.
        _json = new Utf8JsonWriter(_line, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        _names = names;
    }

    /// <summary>Writes one entry as one line.</summary>
    public void Write(MailEntry e)
    {
        Utf8JsonWriter j = _json;
        _line.ResetWrittenCount();
        j.Reset(_line);
        j.WriteStartObject();
        if (e.Time is { } time)
        {
            j.WriteString("@timestamp", time);
        }

        j.WriteStartObject("event");
        j.WriteString("kind", "event");
        j.WriteStartArray("category");
        j.WriteStringValue("network");
        j.WriteEndArray();
        j.WriteStartArray("type");
        j.WriteStringValue("connection");
        j.WriteEndArray();
        j.WriteString("module", "mailguard");
        j.WriteString("dataset", "mailguard.entry");
        j.WriteEndObject();

        if (e.Host.Length > 0)
        {
            j.WriteStartObject("host");
            j.WriteString("name", e.Host);
            j.WriteEndObject();
        }

        Endpoint(j, "source", e.Src, e.Spt);
        Endpoint(j, "destination", e.Dst, e.Dpt);
        j.WriteStartObject("network");
        if (Transport(e.Proto) is { } transport)
        {
            j.WriteString("transport", transport);
        }

        j.WriteString("type", e.Src.IsIPv6 ? "ipv6" : "ipv4");
        j.WriteEndObject();

        if (e.Uid is { } uid)
        {
            j.WriteStartObject("user");
            j.WriteString("id", uid.ToString(CultureInfo.InvariantCulture));
            if (_names.TryGetValue(uid, out string? name))
            {
                j.WriteString("name", name);
            }

            j.WriteEndObject();
        }

        if (e.Gid is { } gid)
        {
            j.WriteStartObject("group");
            j.WriteString("id", gid.ToString(CultureInfo.InvariantCulture));
            j.WriteEndObject();
        }

        if (e.In.Length > 0 || e.Out.Length > 0)
        {
            j.WriteStartObject("observer");
            Interface(j, "ingress", e.In);
            Interface(j, "egress", e.Out);
            j.WriteEndObject();
        }

        j.WriteStartObject("rule");
        j.WriteString("name", e.Prefix);
        j.WriteEndObject();

        j.WriteStartObject("mailguard");
        if (e.RulePort >= 0)
        {
            j.WriteNumber("rule_port", e.RulePort);
        }

        j.WriteNumber("copies", e.Copies);
        if (e.Uptime is { } uptime)
        {
            j.WriteNumber("uptime_seconds", Math.Round(uptime.TotalSeconds, 6));
        }

        j.WriteEndObject();
        j.WriteEndObject();
        j.Flush();
        _out.Write(_line.WrittenSpan);
        _out.WriteByte((byte)'\n');
    }

    /// <summary>Hands what was written to the output (a live stream: each entry as it comes).</summary>
    public void Flush() => _out.Flush();

    /// <summary>Releases the writer; what is still buffered is the caller's to <see cref="Flush"/> (where a closed pipe is handled).</summary>
    public void Dispose() => _json.Dispose();

    private static void Endpoint(Utf8JsonWriter j, string name, NetAddress ip, ushort port)
    {
        j.WriteStartObject(name);
        j.WriteString("ip", ip.ToString());
        if (port > 0)
        {
            j.WriteNumber("port", port);
        }

        j.WriteEndObject();
    }

    private static void Interface(Utf8JsonWriter j, string direction, string name)
    {
        if (name.Length == 0)
        {
            return;
        }

        j.WriteStartObject(direction);
        j.WriteStartObject("interface");
        j.WriteString("name", name);
        j.WriteEndObject();
        j.WriteEndObject();
    }

    /// <summary>ECS network.transport: the IANA protocol name, lower case.</summary>
    private static string? Transport(NetfilterProtocol proto) => proto switch
    {
        NetfilterProtocol.None => null,
        NetfilterProtocol.Tcp => "tcp",
        NetfilterProtocol.Udp => "udp",
        NetfilterProtocol.Icmp => "icmp",
        NetfilterProtocol.IcmpV6 => "ipv6-icmp",
        NetfilterProtocol.Esp => "esp",
        NetfilterProtocol.Ah => "ah",
        NetfilterProtocol.UdpLite => "udplite",
        _ => ((byte)proto).ToString(CultureInfo.InvariantCulture),
    };
}
