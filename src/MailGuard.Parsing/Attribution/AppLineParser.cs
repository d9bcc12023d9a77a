using System.Text;
using MailGuard.Parsing.Internals;

namespace MailGuard.Parsing.AppLogs;

/// <summary>What an application log line records, as far as the join needs it.</summary>
internal enum AppLineKind : byte
{
    /// <summary>Nothing the join uses (or not an application line: see <see cref="AppLine.Program"/>).</summary>
    None,

    /// <summary>A Postfix <c>QID: to=&lt;…&gt;, relay=NAME[ADDR]:PORT, … delays=a/b/c/d …</c>, or <c>relay=none … (connect to NAME[ADDR]:PORT: …)</c>.</summary>
    PostfixDelivery,

    /// <summary>A Postfix <c>connect to NAME[ADDR]:PORT: …</c> without a queue ID (one host of several tried).</summary>
    PostfixConnectFailure,

    /// <summary>A Postfix <c>QID: uid=N from=&lt;…&gt;</c> (pickup: a local submission).</summary>
    PostfixPickup,

    /// <summary>A Postfix <c>QID: client=NAME[ADDR][, sasl_method=…, sasl_username=…]</c> (an SMTP server's submission).</summary>
    PostfixSmtpd,

    /// <summary>An Exim arrival <c>ID &lt;= … U=… | H=… [ADDR] … A=…</c>.</summary>
    EximArrival,

    /// <summary>An Exim delivery, deferral or failure with a remote host: <c>ID =&gt; | == | ** … H=NAME [ADDR]</c>.</summary>
    EximDelivery,

    /// <summary>A V2Ray / Xray access line: <c>[from ][tcp:]CLIENT:PORT accepted tcp:DST:PORT [TAG] [email: USER]</c>.</summary>
    V2RayAccess,

    /// <summary>A shadowsocks-libev <c>[SERVER_PORT] connect to DST:PORT</c>.</summary>
    ShadowsocksConnect,

    /// <summary>A PHP <c>mail() on [FILE:LINE]: To: …</c>.</summary>
    PhpMail,

    /// <summary>The message left the queue: Postfix <c>QID: removed</c>, Exim <c>ID Completed</c>.</summary>
    QueueRemoved,
}

/// <summary>One application line split into what the join uses. The spans point into the line (valid until the next parse).</summary>
internal ref struct AppLine
{
    public AppLineKind Kind;

    /// <summary>The program the line belongs to, 0 when it is none of ours (also for lines whose <see cref="Kind"/> is None).</summary>
    public AppProgram Program;

    /// <summary>UTC ticks, or <see cref="long.MinValue"/> without a time.</summary>
    public long Ticks;

    /// <summary>How long the stamp stands for: a whole second for a stamp to the second, else zero.</summary>
    public long Resolution;

    public ReadOnlySpan<byte> QueueId;
    public NetAddress Dst;

    /// <summary>Destination port; 0 when the line does not say (Exim without <c>+outgoing_port</c>).</summary>
    public ushort Port;
    public ReadOnlySpan<byte> User;
    public ReadOnlySpan<byte> Client;
    public ReadOnlySpan<byte> Via;
    public ReadOnlySpan<byte> Recipient;
    public ReadOnlySpan<byte> Script;

    /// <summary>How long before the line the connection may have started (ticks): Postfix's c + d, or a failure's timeout.</summary>
    public long Before;

    /// <summary>A Postfix delivery with <c>relay=none</c>: the connection failed, and Postfix logged the failure on a line of its own just before.</summary>
    public bool Failed;

    /// <summary>Postfix <c>conn_use=</c> over 1: the message went over a connection opened for an earlier one.</summary>
    public bool Reused;
}

/// <summary>
/// Reads the application lines the join uses, without allocating: Postfix through the syslog envelope (any wrapper the
/// kernel lines may have), Exim's mainlog, V2Ray/Xray access logs, shadowsocks-libev's verbose output (bare or through
/// syslog / the journal), PHP's mail.log. Stamps without a UTC offset are in <see cref="EnvelopeOptions.TimeZone"/>.
/// </summary>
internal sealed class AppLineParser(EnvelopeOptions envelope)
{
    private readonly EnvelopeParser _envelope = new(envelope);
    private readonly TimeZoneInfo _zone = envelope.TimeZone ?? TimeZoneInfo.Utc;
    private byte[] _phpZoneName = [];
    private TimeZoneInfo? _phpZone;

    public void Parse(ReadOnlySpan<byte> line, out AppLine app)
    {
        app = default;
        app.Ticks = long.MinValue;
        while (line.Length > 0 && (line[^1] == (byte)'\n' || line[^1] == (byte)'\r'))
        {
            line = line[..^1];
        }

        if (line.Length < 20)
        {
            return;
        }

        if (line[0] == (byte)'[')
        {
            ParsePhp(line, ref app);
            return;
        }

        if (Bare(line, ref app))
        {
            return;
        }

        _envelope.Parse(line, out LogEnvelope env);
        if (env.Kind != EnvelopeKind.Message || env.IsKernel)
        {
            return;
        }

        ReadOnlySpan<byte> tag = env.Tag;
        int bracket = tag.IndexOf((byte)'[');
        if (bracket >= 0)
        {
            tag = tag[..bracket];
        }

        if (tag.StartsWith("postfix"u8))
        {
            app.Program = AppProgram.Postfix;
            if (env.Time is { } t)
            {
                app.Ticks = t.UtcTicks;
                app.Resolution = t.Ticks % TimeSpan.TicksPerSecond == 0 ? TimeSpan.TicksPerSecond : 0;
            }

            int slash = tag.IndexOf((byte)'/');
            ParsePostfix(slash < 0 ? default : tag[(slash + 1)..], env.Message, ref app);
            return;
        }

        // A program whose own lines went through syslog or the journal: its message is the bare form, with its own stamp.
        ReadOnlySpan<byte> message = env.Message.TrimStart((byte)' ');
        if (message.Length >= 20 && Bare(message, ref app) && app.Ticks == long.MinValue && env.Time is { } at)
        {
            app.Ticks = at.UtcTicks;
        }
    }

    /// <summary>The forms that start with their own stamp: V2Ray (<c>YYYY/MM/DD</c>), Exim and shadowsocks (<c>YYYY-MM-DD HH:MM:SS</c>).</summary>
    private bool Bare(ReadOnlySpan<byte> line, ref AppLine app)
    {
        ReadOnlySpan<byte> s = line[0] == (byte)' ' ? line[1..] : line;
        if (s.Length < 20 || !IsDigit(s[0]) || s[10] != (byte)' ' || s[13] != (byte)':' || s[16] != (byte)':')
        {
            return false;
        }

        byte sep = s[4];
        if ((sep != (byte)'/' && sep != (byte)'-') || s[7] != sep)
        {
            return false;
        }

        if (!Utf8Number.TryFixedDigits(s, 4, out int y) || !Utf8Number.TryFixedDigits(s[5..], 2, out int mo) || !Utf8Number.TryFixedDigits(s[8..], 2, out int d)
            || !Utf8Number.TryFixedDigits(s[11..], 2, out int h) || !Utf8Number.TryFixedDigits(s[14..], 2, out int mi) || !Utf8Number.TryFixedDigits(s[17..], 2, out int sec))
        {
            return false;
        }

        int at = 19;
        long fraction = 0;
        long resolution = TimeSpan.TicksPerSecond;
        if (at < s.Length && s[at] == (byte)'.')
        {
            int digits = 0;
            at++;
            while (at < s.Length && IsDigit(s[at]))
            {
                if (digits < 7)
                {
                    fraction = (fraction * 10) + (s[at] - '0');
                    digits++;
                }

                at++;
            }

            for (; digits < 7; digits++)
            {
                fraction *= 10;
            }

            resolution = 0;
        }

        if (at >= s.Length || s[at] != (byte)' ')
        {
            return false;
        }

        ReadOnlySpan<byte> rest = s[(at + 1)..];
        if (sep == (byte)'/')
        {
            app.Program = AppProgram.V2Ray;
            ParseV2Ray(rest, ref app);
        }
        else if (rest.StartsWith("INFO: "u8) || rest.StartsWith("ERROR: "u8) || rest.StartsWith("WARN: "u8))
        {
            app.Program = AppProgram.Shadowsocks;
            ParseShadowsocks(rest, ref app);
        }
        else if (!ParseExim(rest, ref app))
        {
            return false;
        }

        app.Ticks = LocalTicks(y, mo, d, h, mi, sec, fraction, _zone);
        app.Resolution = resolution;
        return true;
    }

    /// <summary><c>CLIENT accepted tcp:DST:PORT [TAG] email: USER</c>; Xray: <c>from CLIENT accepted … [IN -&gt; OUT]</c>.</summary>
    private static void ParseV2Ray(ReadOnlySpan<byte> rest, ref AppLine app)
    {
        if (rest.StartsWith("from "u8))
        {
            rest = rest[5..];
        }

        int accepted = rest.IndexOf(" accepted "u8);
        if (accepted < 0)
        {
            return; // error.log lines, "rejected": V2Ray's, not a connection
        }

        ReadOnlySpan<byte> client = StripNetwork(rest[..accepted]);
        ReadOnlySpan<byte> after = rest[(accepted + 10)..];
        if (!after.StartsWith("tcp:"u8))
        {
            return; // udp: not a mail connection
        }

        after = after[4..];
        int space = after.IndexOf((byte)' ');
        ReadOnlySpan<byte> dst = space < 0 ? after : after[..space];
        if (!SplitHostPort(dst, out ReadOnlySpan<byte> host, out ushort port))
        {
            return;
        }

        app.Kind = AppLineKind.V2RayAccess;
        app.Port = port;
        if (!NetAddress.TryParse(host, out app.Dst))
        {
            app.Dst = default; // a name: joined on port and time alone
        }

        if (SplitHostPort(client, out ReadOnlySpan<byte> clientHost, out _))
        {
            app.Client = clientHost;
        }

        ReadOnlySpan<byte> tail = space < 0 ? default : after[(space + 1)..];
        if (tail.Length > 0 && tail[0] == (byte)'[')
        {
            int close = tail.IndexOf((byte)']');
            if (close > 0)
            {
                app.Via = tail[1..close];
                tail = tail[(close + 1)..];
            }
        }

        int email = tail.IndexOf("email: "u8);
        if (email >= 0)
        {
            ReadOnlySpan<byte> user = tail[(email + 7)..];
            int end = user.IndexOf((byte)' ');
            app.User = end < 0 ? user : user[..end];
        }
    }

    /// <summary><c>INFO: [8388] connect to DST:PORT</c>.</summary>
    private static void ParseShadowsocks(ReadOnlySpan<byte> rest, ref AppLine app)
    {
        int connect = rest.IndexOf("connect to "u8);
        if (!rest.StartsWith("INFO: "u8) || connect < 0)
        {
            return;
        }

        ReadOnlySpan<byte> head = rest[6..connect].Trim((byte)' ');
        if (head.Length > 2 && head[0] == (byte)'[' && head[^1] == (byte)']')
        {
            app.Via = head[1..^1];
        }

        ReadOnlySpan<byte> dst = rest[(connect + 11)..];
        int space = dst.IndexOf((byte)' ');
        if (space >= 0)
        {
            dst = dst[..space];
        }

        if (!SplitHostPort(dst, out ReadOnlySpan<byte> host, out ushort port))
        {
            return;
        }

        app.Kind = AppLineKind.ShadowsocksConnect;
        app.Port = port;
        if (!NetAddress.TryParse(host, out app.Dst))
        {
            app.Dst = default;
        }
    }

    /// <summary>Exim's mainlog after the stamp: <c>[+ZONE ][[PID] ]MSGID FLAG …</c>; false when the rest is not Exim's.</summary>
    private static bool ParseExim(ReadOnlySpan<byte> rest, ref AppLine app)
    {
        if (rest.Length > 6 && (rest[0] == (byte)'+' || rest[0] == (byte)'-') && IsDigit(rest[1]) && rest[5] == (byte)' ')
        {
            rest = rest[6..]; // +tod_log zone; the stamp is then taken as local, as Exim writes it
        }

        if (rest.Length > 0 && rest[0] == (byte)'[')
        {
            int close = rest.IndexOf("] "u8);
            if (close < 0)
            {
                return false;
            }

            rest = rest[(close + 2)..];
        }

        int idLength = EximMessageId(rest);
        if (idLength == 0)
        {
            // Exim's own lines (daemon start, queue runs, "no host name found"): Exim's, but nothing to join.
            if (rest.StartsWith("exim "u8) || rest.StartsWith("Start queue run"u8) || rest.StartsWith("End queue run"u8))
            {
                app.Program = AppProgram.Exim;
                return true;
            }

            return false;
        }

        app.Program = AppProgram.Exim;
        app.QueueId = rest[..idLength];
        ReadOnlySpan<byte> body = rest[idLength..];
        if (body.SequenceEqual(" Completed"u8))
        {
            app.Kind = AppLineKind.QueueRemoved;
            return true;
        }

        if (body.Length < 4 || body[0] != (byte)' ' || body[3] != (byte)' ')
        {
            return true;
        }

        ReadOnlySpan<byte> flag = body.Slice(1, 2);
        ReadOnlySpan<byte> fields = body[3..];
        if (flag.SequenceEqual("<="u8))
        {
            app.Kind = AppLineKind.EximArrival;
            app.User = Field(fields, " U="u8);
            app.Via = Field(fields, " P="u8);
            ReadOnlySpan<byte> auth = Field(fields, " A="u8);
            if (auth.Length > 0)
            {
                int colon = auth.IndexOf((byte)':');
                app.Recipient = colon >= 0 ? auth[(colon + 1)..] : auth; // the login (Recipient is unused on arrivals)
            }

            app.Client = HostAddress(fields, out _);
        }
        else if (flag.SequenceEqual("=>"u8) || flag.SequenceEqual("=="u8) || flag.SequenceEqual("**"u8))
        {
            ReadOnlySpan<byte> address = HostAddress(fields, out ushort port);
            if (address.Length == 0 || !NetAddress.TryParse(address, out app.Dst))
            {
                return true; // a local delivery, or one that never reached a host
            }

            app.Kind = AppLineKind.EximDelivery;
            app.Port = port;
            ReadOnlySpan<byte> recipient = fields[1..];
            int space = recipient.IndexOf((byte)' ');
            app.Recipient = space < 0 ? recipient : recipient[..space];
            bool connectError = fields.IndexOf("Connection timed out"u8) >= 0 || fields.IndexOf("Connection refused"u8) >= 0
                || fields.IndexOf("No route to host"u8) >= 0 || fields.IndexOf("Network is unreachable"u8) >= 0;
            app.Before = (connectError ? AttributionRules.ConnectTimeout : AttributionRules.EximDelivery).Ticks;
        }

        return true;
    }

    /// <summary>The length of an Exim message ID at the start (<c>1xaYAr-00034Y-03</c>; 4.97's <c>1xaYAr-0000000034Y-0003</c>), or 0.</summary>
    private static int EximMessageId(ReadOnlySpan<byte> s)
    {
        int first = Alnum(s);
        if (first != 6 || s.Length <= 6 || s[6] != (byte)'-')
        {
            return 0;
        }

        int second = Alnum(s[7..]);
        if (second < 6 || 7 + second >= s.Length || s[7 + second] != (byte)'-')
        {
            return 0;
        }

        int third = Alnum(s[(8 + second)..]);
        return third is >= 2 and <= 4 ? 8 + second + third : 0;
    }

    private static int Alnum(ReadOnlySpan<byte> s)
    {
        int i = 0;
        while (i < s.Length && (IsDigit(s[i]) || (uint)((s[i] | 0x20) - 'a') <= 'z' - 'a'))
        {
            i++;
        }

        return i;
    }

    /// <summary>The address of Exim's <c>H=name [ADDR]</c> / <c>H=(helo) [ADDR]:PORT</c> (port 0 when not logged).</summary>
    private static ReadOnlySpan<byte> HostAddress(ReadOnlySpan<byte> fields, out ushort port)
    {
        port = 0;
        int h = fields.IndexOf(" H="u8);
        if (h < 0)
        {
            return default;
        }

        ReadOnlySpan<byte> rest = fields[(h + 3)..];
        int open = rest.IndexOf((byte)'[');
        int close = open < 0 ? -1 : rest[open..].IndexOf((byte)']');
        if (close < 0)
        {
            return default;
        }

        ReadOnlySpan<byte> address = rest[(open + 1)..(open + close)];
        ReadOnlySpan<byte> after = rest[(open + close + 1)..];
        if (after.Length > 1 && after[0] == (byte)':' && Utf8Number.ParseUInt32(after[1..], out uint p) > 0 && p is > 0 and <= ushort.MaxValue)
        {
            port = (ushort)p;
        }

        return address;
    }

    /// <summary>The value of a <c> K=value</c> field, up to the next space.</summary>
    private static ReadOnlySpan<byte> Field(ReadOnlySpan<byte> fields, ReadOnlySpan<byte> key)
    {
        int at = fields.IndexOf(key);
        if (at < 0)
        {
            return default;
        }

        ReadOnlySpan<byte> value = fields[(at + key.Length)..];
        int end = value.IndexOf((byte)' ');
        return end < 0 ? value : value[..end];
    }

    /// <summary>Postfix's message after the tag: <paramref name="service"/> is what follows <c>postfix/</c> (<c>smtp</c>, <c>pickup</c>, <c>submission/smtpd</c>).</summary>
    private static void ParsePostfix(ReadOnlySpan<byte> service, ReadOnlySpan<byte> message, ref AppLine app)
    {
        int colon = message.IndexOf(": "u8);
        ReadOnlySpan<byte> qid = colon > 0 ? message[..colon] : default;
        if (qid.Length > 0 && qid.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0 && !IsQueueId(qid))
        {
            qid = default;
        }

        if (qid.Length > 0 && service.SequenceEqual("qmgr"u8) && message[(colon + 2)..].SequenceEqual("removed"u8))
        {
            app.Kind = AppLineKind.QueueRemoved;
            app.QueueId = qid;
        }
        else if (service.SequenceEqual("smtp"u8) || service.EndsWith("/smtp"u8))
        {
            if (qid.Length == 0)
            {
                if (message.StartsWith("connect to "u8) && RelayAddress(message[11..], ref app))
                {
                    app.Kind = AppLineKind.PostfixConnectFailure;
                    app.Before = AttributionRules.ConnectTimeout.Ticks;
                }

                return;
            }

            ReadOnlySpan<byte> fields = message[(colon + 2)..];
            if (!fields.StartsWith("to=<"u8))
            {
                return;
            }

            int close = fields.IndexOf((byte)'>');
            app.Recipient = close > 4 ? fields[4..close] : default;
            int relay = fields.IndexOf(", relay="u8);
            if (relay < 0)
            {
                return;
            }

            ReadOnlySpan<byte> r = fields[(relay + 8)..];
            bool connected;
            if (r.StartsWith("none,"u8))
            {
                int connect = fields.IndexOf("(connect to "u8);
                if (connect < 0 || !RelayAddress(fields[(connect + 12)..], ref app))
                {
                    return; // no connection: a DNS failure, a local error
                }

                connected = false;
            }
            else
            {
                int name = r.IndexOf((byte)'[');
                if (name < 0 || !RelayAddress(r[name..], ref app))
                {
                    return;
                }

                connected = true;
            }

            app.Kind = AppLineKind.PostfixDelivery;
            app.QueueId = qid;
            app.Reused = connected && Number(fields, ", conn_use="u8) > 1;
            app.Failed = !connected;
            app.Before = connected ? SetupAndTransfer(fields) : AttributionRules.ConnectTimeout.Ticks;
        }
        else if (service.SequenceEqual("pickup"u8) && qid.Length > 0 && message[(colon + 2)..].StartsWith("uid="u8))
        {
            ReadOnlySpan<byte> uid = message[(colon + 6)..];
            int end = uid.IndexOfAnyExceptInRange((byte)'0', (byte)'9');
            app.User = end < 0 ? uid : uid[..end];
            if (app.User.Length > 0)
            {
                app.Kind = AppLineKind.PostfixPickup;
                app.QueueId = qid;
            }
        }
        else if ((service.SequenceEqual("smtpd"u8) || service.EndsWith("/smtpd"u8)) && qid.Length > 0 && message[(colon + 2)..].StartsWith("client="u8))
        {
            ReadOnlySpan<byte> fields = message[(colon + 9)..];
            int open = fields.IndexOf((byte)'[');
            int close = open < 0 ? -1 : fields[open..].IndexOf((byte)']');
            if (close < 0)
            {
                return;
            }

            app.Kind = AppLineKind.PostfixSmtpd;
            app.QueueId = qid;
            app.Client = fields[(open + 1)..(open + close)];
            app.Via = service;
            ReadOnlySpan<byte> sasl = Field(fields, " sasl_username="u8);
            app.User = sasl.Length > 0 && sasl[^1] == (byte)',' ? sasl[..^1] : sasl;
        }
    }

    /// <summary>A Postfix queue ID: 6 to 20 upper-case hex digits (short IDs) or letters and digits (long IDs).</summary>
    private static bool IsQueueId(ReadOnlySpan<byte> s) => s.Length is >= 6 and <= 20 && Alnum(s) == s.Length;

    /// <summary><c>NAME[ADDR]:PORT</c> (or <c>[ADDR]:PORT</c>) into <see cref="AppLine.Dst"/> and <see cref="AppLine.Port"/>.</summary>
    private static bool RelayAddress(ReadOnlySpan<byte> s, ref AppLine app)
    {
        int open = s.IndexOf((byte)'[');
        int close = open < 0 ? -1 : s[open..].IndexOf((byte)']');
        if (close < 0 || !NetAddress.TryParse(s[(open + 1)..(open + close)], out app.Dst))
        {
            return false;
        }

        ReadOnlySpan<byte> after = s[(open + close + 1)..];
        app.Port = 25;
        if (after.Length > 1 && after[0] == (byte)':' && Utf8Number.ParseUInt32(after[1..], out uint p) > 0 && p is > 0 and <= ushort.MaxValue)
        {
            app.Port = (ushort)p;
        }

        return true;
    }

    /// <summary>Postfix's <c>delays=a/b/c/d</c>: c (connection set-up) + d (transmission), with 10 % for their rounding, in ticks.</summary>
    private static long SetupAndTransfer(ReadOnlySpan<byte> fields)
    {
        int at = fields.IndexOf(", delays="u8);
        if (at < 0)
        {
            return AttributionRules.EximDelivery.Ticks; // an older Postfix: as long as Exim's
        }

        ReadOnlySpan<byte> d = fields[(at + 9)..];
        int end = d.IndexOf((byte)',');
        if (end >= 0)
        {
            d = d[..end];
        }

        long sum = 0;
        for (int part = 0; part < 4; part++)
        {
            int slash = d.IndexOf((byte)'/');
            ReadOnlySpan<byte> v = slash < 0 ? d : d[..slash];
            if (part >= 2)
            {
                sum += Seconds(v);
            }

            if (slash < 0)
            {
                break;
            }

            d = d[(slash + 1)..];
        }

        return sum + (sum / 10) + (TimeSpan.TicksPerSecond / 10);
    }

    /// <summary><c>0.01</c>, <c>30</c>, <c>1.2</c> → ticks.</summary>
    private static long Seconds(ReadOnlySpan<byte> v)
    {
        long whole = 0;
        int i = 0;
        for (; i < v.Length && IsDigit(v[i]); i++)
        {
            whole = Math.Min((whole * 10) + (v[i] - '0'), 1_000_000);
        }

        long ticks = whole * TimeSpan.TicksPerSecond;
        if (i < v.Length && v[i] == (byte)'.')
        {
            long scale = TimeSpan.TicksPerSecond / 10;
            for (i++; i < v.Length && IsDigit(v[i]) && scale > 0; i++, scale /= 10)
            {
                ticks += (v[i] - '0') * scale;
            }
        }

        return ticks;
    }

    private static long Number(ReadOnlySpan<byte> fields, ReadOnlySpan<byte> key)
    {
        int at = fields.IndexOf(key);
        return at >= 0 && Utf8Number.ParseUInt32(fields[(at + key.Length)..], out uint n) > 0 ? n : 0;
    }

    /// <summary><c>[DD-Mon-YYYY HH:MM:SS ZONE] mail() on [FILE:LINE]: To: LIST -- Headers: …</c>.</summary>
    private void ParsePhp(ReadOnlySpan<byte> line, ref AppLine app)
    {
        int close = line.IndexOf((byte)']');
        if (close < 22 || line[3] != (byte)'-' || line[7] != (byte)'-' || line[12] != (byte)' ')
        {
            return;
        }

        int month = Month(line.Slice(4, 3));
        if (month == 0 || !Utf8Number.TryFixedDigits(line[1..], 2, out int d) || !Utf8Number.TryFixedDigits(line[8..], 4, out int y)
            || !Utf8Number.TryFixedDigits(line[13..], 2, out int h) || !Utf8Number.TryFixedDigits(line[16..], 2, out int mi) || !Utf8Number.TryFixedDigits(line[19..], 2, out int s)
            || line[21] != (byte)' ')
        {
            return;
        }

        ReadOnlySpan<byte> rest = line[(close + 1)..];
        const string On = " mail() on [";
        if (!rest.StartsWith(" mail() on ["u8))
        {
            return;
        }

        app.Program = AppProgram.Php;
        TimeZoneInfo zone = PhpZone(line[22..close]);
        app.Ticks = LocalTicks(y, month, d, h, mi, s, 0, zone);
        app.Resolution = TimeSpan.TicksPerSecond;
        rest = rest[On.Length..];
        int end = rest.IndexOf("]: "u8);
        if (end < 0)
        {
            return;
        }

        ReadOnlySpan<byte> file = rest[..end];
        int lineNumber = file.LastIndexOf((byte)':');
        app.Script = lineNumber > 0 ? file[..lineNumber] : file;
        rest = rest[(end + 3)..];
        if (!rest.StartsWith("To: "u8))
        {
            return;
        }

        rest = rest[4..];
        int headers = rest.IndexOf(" -- Headers:"u8);
        app.Recipient = headers < 0 ? rest : rest[..headers];
        app.Kind = AppLineKind.PhpMail;
    }

    private TimeZoneInfo PhpZone(ReadOnlySpan<byte> name)
    {
        if (name.SequenceEqual("UTC"u8) || name.Length == 0)
        {
            return TimeZoneInfo.Utc;
        }

        if (!name.SequenceEqual(_phpZoneName))
        {
            _phpZoneName = name.ToArray();
            _phpZone = TimeZoneInfo.TryFindSystemTimeZoneById(Encoding.UTF8.GetString(name), out TimeZoneInfo? z) ? z : null;
        }

        return _phpZone ?? _zone;
    }

    private static int Month(ReadOnlySpan<byte> m)
    {
        ReadOnlySpan<byte> names = "JanFebMarAprMayJunJulAugSepOctNovDec"u8;
        for (int i = 0; i < 12; i++)
        {
            if (names.Slice(i * 3, 3).SequenceEqual(m))
            {
                return i + 1;
            }
        }

        return 0;
    }

    /// <summary>A local time in <paramref name="zone"/> as UTC ticks, or <see cref="long.MinValue"/> for an impossible date.</summary>
    internal static long LocalTicks(int y, int mo, int d, int h, int mi, int s, long fraction, TimeZoneInfo zone)
    {
        if (y is < 1970 or > 9998 || mo is < 1 or > 12 || d < 1 || d > DateTime.DaysInMonth(y, mo) || h > 23 || mi > 59 || s > 60)
        {
            return long.MinValue;
        }

        var local = new DateTime(y, mo, d, h, mi, Math.Min(s, 59), DateTimeKind.Unspecified);
        local = local.AddTicks(fraction);
        return local.Ticks - zone.GetUtcOffset(local).Ticks;
    }

    /// <summary><c>tcp:1.2.3.4:5</c> → <c>1.2.3.4:5</c>.</summary>
    private static ReadOnlySpan<byte> StripNetwork(ReadOnlySpan<byte> s) =>
        s.StartsWith("tcp:"u8) || s.StartsWith("udp:"u8) ? s[4..] : s;

    /// <summary><c>HOST:PORT</c> or <c>[V6]:PORT</c>.</summary>
    private static bool SplitHostPort(ReadOnlySpan<byte> s, out ReadOnlySpan<byte> host, out ushort port)
    {
        host = default;
        port = 0;
        int colon = s.LastIndexOf((byte)':');
        if (colon <= 0 || Utf8Number.ParseUInt32(s[(colon + 1)..], out uint p) != s.Length - colon - 1 || p is 0 or > ushort.MaxValue)
        {
            return false;
        }

        host = s[..colon];
        if (host.Length > 2 && host[0] == (byte)'[' && host[^1] == (byte)']')
        {
            host = host[1..^1];
        }

        port = (ushort)p;
        return host.Length > 0;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;
}
