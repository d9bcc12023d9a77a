using System.Text;

namespace MailGuard.LogGen;

/// <summary>
/// Writes the log line by line into one pooled output buffer (no string per line) and feeds the
/// <see cref="Tally"/> with every selected entry as it is written.
/// </summary>
/// <remarks>
/// Two random streams: <c>_rng</c> decides the time and kind of every line and the content of the
/// selected entries; <c>_aux</c> everything else (other lines, journal fields). So one seed gives the
/// same entries at the same line numbers and times in every format; only the wrappers and the other
/// lines differ.
/// </remarks>
internal sealed class Generator
{
    private const long UsPerSecond = 1_000_000;

    /// <summary>Kernel uptime at the first line: just under 10000 s, so long runs cross the "[ 9999.x]" → "[10000.x]" width change.</summary>
    private const long UptimeAtStartUs = 9_876_543_210;

    private const int FlagSyn = 0;
    private const int FlagAck = 1;
    private const int FlagAckPsh = 2;
    private const int FlagAckFin = 3;
    private const int FlagAckRst = 4;

    private const int ViaLocal = 0;
    private const int ViaDocker = 1;
    private const int ViaWg = 2;

    private const int DSshd = 0;
    private const int DCron = 1;
    private const int DSystemd = 2;
    private const int DSmtpd = 3;
    private const int DSmtp = 4;
    private const int DQmgr = 5;
    private const int DCleanup = 6;
    private const int DSudo = 7;
    private const int DPhpFpm = 8;
    private const int DLogind = 9;

    private static readonly Daemon[] s_daemons =
    [
        new("sshd", 4, "sshd", "ssh.service", false, 0, 0, true),
        new("CRON", 9, "cron", "cron.service", false, 0, 0, true),
        new("systemd", 3, "systemd", "init.scope", true, 0, 1, true),
        new("postfix/smtpd", 2, "smtpd", "postfix@-.service", false, 106, 0, true),
        new("postfix/smtp", 2, "smtp", "postfix@-.service", false, 106, 0, true),
        new("postfix/qmgr", 2, "qmgr", "postfix@-.service", false, 106, 1873, true),
        new("postfix/cleanup", 2, "cleanup", "postfix@-.service", false, 106, 0, true),
        new("sudo", 10, "sudo", "session-4.scope", false, 0, 0, false),
        new("php-fpm", 1, "php-fpm8.2", "php8.2-fpm.service", false, 0, 1311, true),
        new("systemd-logind", 4, "systemd-logind", "systemd-logind.service", true, 0, 612, true),
    ];

    private static readonly byte[][] s_months = [.. "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".Split(' ').Select(Encoding.ASCII.GetBytes)];
    private static readonly byte[][] s_facilities = [.. "kern user mail daemon auth syslog lpr news uucp cron authpriv".Split(' ').Select(Encoding.ASCII.GetBytes)];
    private static readonly byte[][] s_severities = [.. "emerg alert crit err warn notice info debug".Split(' ').Select(Encoding.ASCII.GetBytes)];
    private static readonly byte[][] s_users = [.. "admin test oracle ubuntu user postgres git ftpuser support guest deploy pi".Split(' ').Select(Encoding.ASCII.GetBytes)];
    private static readonly byte[][] s_domains = [.. "example.net example.org example.com mail.example.net example.co.uk".Split(' ').Select(Encoding.ASCII.GetBytes)];
    private static readonly byte[][] s_mx = [.. "mx.example.net mx1.example.org mail.example.com mx2.example.org aspmx.example.net".Split(' ').Select(Encoding.ASCII.GetBytes)];
    private static readonly byte[][] s_fingerprints =
    [
        "Qm9ndXNLZXlGb3JEb2N1bWVudGF0aW9uT25seTAx"u8.ToArray(),
        "kX3dV1d1cm5hbFN5bnRoZXRpY0tleU51bWJlcjI"u8.ToArray(),
    ];

    private readonly Options _o;
    private readonly Prng _rng;
    private readonly Prng _aux;
    private readonly DestinationPool _pool;
    private readonly ZipfSampler? _zipf4;
    private readonly ZipfSampler? _zipf6;
    private readonly ByteWriter _msg = new(8192);
    private readonly ByteWriter _out = new(1 << 22);
    private readonly long _startUs;
    private readonly long _bootUs;
    private readonly double _usPerLine;
    private readonly bool _secondResolution;
    private readonly bool _daemonLines;
    private readonly double _pUidSpam;
    private readonly double _pUidOther;
    private readonly byte[][] _veths;
    private readonly byte[] _bootId;
    private readonly byte[] _machineId;
    private readonly byte[] _seqnumId;
    private readonly int[][] _permKernel;
    private readonly int[][] _permDaemon;

    private readonly byte[] _rfc3164 = new byte[15];     // "Nov  3 04:05:06"
    private readonly byte[] _journalDate = new byte[15]; // "Nov 03 04:05:06"
    private readonly byte[] _isoDate = new byte[19];     // "2026-11-03T04:05:06"
    private long _cachedSecond = long.MinValue;

    private long _kmsgSeq = 51_234;
    private long _journalSeq = 0x1a2b3;
    private long _auditSerial = 4_123;
    private int _session = 1_234;

    private bool _spamValid;
    private bool _spamV6;
    private int _spamDst;
    private int _spamSpt;
    private int _spamId;

    public Generator(Options o)
    {
        _o = o;
        _rng = new Prng(o.Seed);
        _aux = new Prng(o.Seed ^ 0x5DEECE66DUL);
        int v6 = o.Ipv6Pct <= 0 ? 0 : o.Ipv6Pct >= 100 ? o.Destinations : Math.Clamp((int)Math.Round(o.Destinations * o.Ipv6Pct / 100), 1, o.Destinations - 1);
        _pool = new DestinationPool(o.Destinations - v6, v6, _rng);
        _zipf4 = _pool.V4Count > 0 ? new ZipfSampler(_pool.V4Count, o.Zipf) : null;
        _zipf6 = _pool.V6Count > 0 ? new ZipfSampler(_pool.V6Count, o.Zipf) : null;
        Tally = new Tally(_pool);
        _startUs = (o.Start.Ticks - DateTime.UnixEpoch.Ticks) / 10;
        _bootUs = _startUs - UptimeAtStartUs;
        _usPerLine = UsPerSecond / o.Rate;
        _secondResolution = o.Format is LogFormat.Traditional or LogFormat.SyslogNg or LogFormat.Busybox or LogFormat.JournalShort or LogFormat.JournalShortIso;
        _daemonLines = o.Format is not (LogFormat.Dmesg or LogFormat.Kmsg);

        // Spammer entries always carry UID= while --uid allows it; the others make up the rest of the share.
        double u = o.UidPct / 100;
        double s = o.SpammerPct / 100;
        _pUidSpam = s <= 0 ? 1 : Math.Min(1, u / s);
        _pUidOther = s >= 1 ? 0 : Math.Max(0, (u - s) / (1 - s));

        _veths = new byte[8][];
        for (int i = 0; i < _veths.Length; i++)
        {
            var w = new ByteWriter(16);
            w.Put("veth"u8);
            w.Hex(_rng.Next() & 0xFFFFFFF, 7);
            _veths[i] = w.Written.ToArray();
        }

        _bootId = RandomHex(32);
        _machineId = RandomHex(32);
        _seqnumId = RandomHex(32);
        _permKernel = Permutations(13);
        _permDaemon = Permutations(20);
    }

    public Tally Tally { get; }

    public DateTime Boot => DateTime.UnixEpoch.AddTicks(_bootUs * 10);

    public bool SecondResolution => _secondResolution;

    public long LinesWritten { get; private set; }

    public long BytesWritten { get; private set; }

    public void Run(Stream output)
    {
        double entries = _o.EntriesPct;
        double otherEnd = entries + _o.OtherPrefixLineShare;
        long flushed = 0;
        long line = 0;
        long maxLines = _o.Lines ?? long.MaxValue;
        long maxBytes = _o.Size ?? long.MaxValue;
        while (line < maxLines && flushed + _out.Pos < maxBytes)
        {
            long t = _startUs + (long)((line + _rng.NextDouble()) * _usPerLine);
            _msg.Clear();
            var m = new Msg { Kernel = true, Severity = 4, Daemon = -1, Pid = 0 };
            double k = _rng.NextDouble() * 100;
            if (k < entries)
            {
                Entry(t);
            }
            else if (k < otherEnd)
            {
                OtherPrefix();
                Tally.OtherPrefix++;
            }
            else if (_daemonLines && _aux.Chance(0.65))
            {
                DaemonMessage(ref m);
            }
            else
            {
                KernelMessage(t, ref m);
            }

            WriteLine(t, in m);
            line++;
            if (_out.Free < 65_536)
            {
                output.Write(_out.Buffer, 0, _out.Pos);
                flushed += _out.Pos;
                _out.Clear();
            }
        }

        output.Write(_out.Buffer, 0, _out.Pos);
        flushed += _out.Pos;
        _out.Clear();
        LinesWritten = line;
        BytesWritten = flushed;
    }

    // ---------------------------------------------------------------- wrappers

    private void WriteLine(long t, in Msg m)
    {
        ByteWriter o = _out;
        long uptime = t - _bootUs;
        Daemon? d = m.Kernel ? null : s_daemons[m.Daemon];
        switch (_o.Format)
        {
            case LogFormat.Traditional:
            case LogFormat.SyslogNg:
                SetClock(t);
                o.Put(_rfc3164);
                o.Put(" vps "u8);
                SyslogTag(o, m, d, false);
                if (m.Kernel && _o.Format == LogFormat.Traditional)
                {
                    KernelStamp(o, uptime);
                }

                break;
            case LogFormat.Busybox:
                SetClock(t);
                o.Put(_rfc3164);
                o.Put(" vps "u8);
                o.Put(s_facilities[m.Kernel ? 0 : d!.Facility]);
                o.Put((byte)'.');
                o.Put(s_severities[m.Severity]);
                o.Put((byte)' ');
                SyslogTag(o, m, d, false);
                if (m.Kernel)
                {
                    KernelStamp(o, uptime);
                }

                break;
            case LogFormat.Rfc3339:
                SetClock(t);
                o.Put(_isoDate);
                o.Put((byte)'.');
                o.Zero(t % UsPerSecond, 6);
                o.Put("+00:00 vps "u8);
                SyslogTag(o, m, d, false);
                if (m.Kernel)
                {
                    KernelStamp(o, uptime);
                }

                break;
            case LogFormat.Rfc5424:
                SetClock(t);
                o.Put((byte)'<');
                o.Num(((m.Kernel ? 0 : d!.Facility) * 8) + m.Severity);
                o.Put(">1 "u8);
                o.Put(_isoDate);
                o.Put((byte)'.');
                o.Zero(t % UsPerSecond, 6);
                o.Put("+00:00 vps "u8);
                if (m.Kernel)
                {
                    o.Put("kernel - - - "u8);
                    KernelStamp(o, uptime);
                }
                else
                {
                    o.Put(d!.App);
                    o.Put((byte)' ');
                    if (d.SyslogPid)
                    {
                        o.Num(m.Pid);
                    }
                    else
                    {
                        o.Put((byte)'-');
                    }

                    // rsyslog keeps the space that followed "tag:" at the start of MSG: two spaces here.
                    o.Put(" - -  "u8);
                }

                break;
            case LogFormat.JournalShort:
            case LogFormat.JournalShortPrecise:
                SetClock(t);
                o.Put(_journalDate);
                if (_o.Format == LogFormat.JournalShortPrecise)
                {
                    o.Put((byte)'.');
                    o.Zero(t % UsPerSecond, 6);
                }

                o.Put(" vps "u8);
                SyslogTag(o, m, d, true);
                break;
            case LogFormat.JournalShortIso:
            case LogFormat.JournalShortIsoPrecise:
                SetClock(t);
                o.Put(_isoDate);
                if (_o.Format == LogFormat.JournalShortIsoPrecise)
                {
                    o.Put((byte)'.');
                    o.Zero(t % UsPerSecond, 6);
                }

                o.Put("+0000 vps "u8);
                SyslogTag(o, m, d, true);
                break;
            case LogFormat.JournalJson:
                if (m.Kernel)
                {
                    JsonKernel(t, uptime, m);
                }
                else
                {
                    JsonDaemon(t, uptime, m, d!);
                }

                o.Put((byte)'\n');
                return;
            case LogFormat.Dmesg:
                KernelStamp(o, uptime);
                break;
            case LogFormat.Kmsg:
                o.Num(m.Severity);
                o.Put((byte)',');
                o.Num(_kmsgSeq++);
                o.Put((byte)',');
                o.Num(uptime);
                o.Put(",-;"u8);
                break;
        }

        o.Put(_msg.Written);
        o.Put((byte)'\n');
    }

    private static void SyslogTag(ByteWriter o, in Msg m, Daemon? d, bool journal)
    {
        if (m.Kernel)
        {
            o.Put("kernel: "u8);
            return;
        }

        o.Put(d!.Tag);
        if (d.SyslogPid || journal)
        {
            o.Put((byte)'[');
            o.Num(m.Pid);
            o.Put((byte)']');
        }

        o.Put(": "u8);
    }

    /// <summary>"[%5lu.%06lu] ".</summary>
    private static void KernelStamp(ByteWriter o, long uptimeUs)
    {
        o.Put((byte)'[');
        o.SpacePad(uptimeUs / UsPerSecond, 5);
        o.Put((byte)'.');
        o.Zero(uptimeUs % UsPerSecond, 6);
        o.Put("] "u8);
    }

    private void JsonKernel(long t, long uptime, in Msg m)
    {
        ByteWriter o = _out;
        int[] perm = _permKernel[_aux.Below(_permKernel.Length)];
        long mono = uptime + 900 + _aux.Below(400);
        long seq = _journalSeq++;
        ulong x = _aux.Next() >> _aux.Below(8);
        o.Put((byte)'{');
        for (int j = 0; j < perm.Length; j++)
        {
            if (j > 0)
            {
                o.Put((byte)',');
            }

            switch (perm[j])
            {
                case 0: o.Put("\"_HOSTNAME\":\"vps\""u8); break;
                case 1: JsonField(o, "_BOOT_ID"u8, _bootId); break;
                case 2: JsonNumber(o, "__MONOTONIC_TIMESTAMP"u8, mono); break;
                case 3: o.Put("\"SYSLOG_IDENTIFIER\":\"kernel\""u8); break;
                case 4: JsonNumber(o, "__REALTIME_TIMESTAMP"u8, t); break;
                case 5: o.Put("\"SYSLOG_FACILITY\":\"0\""u8); break;
                case 6: o.Put("\"_RUNTIME_SCOPE\":\"system\""u8); break;
                case 7: JsonField(o, "_MACHINE_ID"u8, _machineId); break;
                case 8: o.Put("\"_TRANSPORT\":\"kernel\""u8); break;
                case 9: JsonMessage(o); break;
                case 10: JsonNumber(o, "PRIORITY"u8, m.Severity); break;
                case 11: Cursor(o, seq, mono, t, x); break;
                default: JsonNumber(o, "_SOURCE_MONOTONIC_TIMESTAMP"u8, uptime); break;
            }
        }

        o.Put((byte)'}');
    }

    private void JsonDaemon(long t, long uptime, in Msg m, Daemon d)
    {
        ByteWriter o = _out;
        int[] perm = _permDaemon[_aux.Below(_permDaemon.Length)];
        long mono = uptime + 40 + _aux.Below(200);
        long seq = _journalSeq++;
        ulong x = _aux.Next() >> _aux.Below(8);
        bool first = true;
        o.Put((byte)'{');
        foreach (int field in perm)
        {
            if ((field == 18 && !d.SyslogPid) || (field == 19 && d.Journal))
            {
                continue;
            }

            if (!first)
            {
                o.Put((byte)',');
            }

            first = false;
            switch (field)
            {
                case 0: o.Put("\"_HOSTNAME\":\"vps\""u8); break;
                case 1: JsonField(o, "_BOOT_ID"u8, _bootId); break;
                case 2: JsonNumber(o, "__MONOTONIC_TIMESTAMP"u8, mono); break;
                case 3: JsonField(o, "SYSLOG_IDENTIFIER"u8, d.Tag); break;
                case 4: JsonNumber(o, "__REALTIME_TIMESTAMP"u8, t); break;
                case 5: JsonNumber(o, "SYSLOG_FACILITY"u8, d.Facility); break;
                case 6: o.Put("\"_RUNTIME_SCOPE\":\"system\""u8); break;
                case 7: JsonField(o, "_MACHINE_ID"u8, _machineId); break;
                case 8: o.Put(d.Journal ? "\"_TRANSPORT\":\"journal\""u8 : "\"_TRANSPORT\":\"syslog\""u8); break;
                case 9: JsonMessage(o); break;
                case 10: JsonNumber(o, "PRIORITY"u8, m.Severity); break;
                case 11: Cursor(o, seq, mono, t, x); break;
                case 12: JsonNumber(o, "_SOURCE_REALTIME_TIMESTAMP"u8, t - 25 - _aux.Below(150)); break;
                case 13: JsonNumber(o, "_PID"u8, m.Pid); break;
                case 14: JsonNumber(o, "_UID"u8, d.Uid); break;
                case 15: JsonNumber(o, "_GID"u8, d.Uid); break;
                case 16: JsonField(o, "_COMM"u8, d.Comm); break;
                case 17: JsonField(o, "_SYSTEMD_UNIT"u8, d.Unit); break;
                case 18: JsonNumber(o, "SYSLOG_PID"u8, m.Pid); break;
                default:
                    SetClock(t);
                    o.Put("\"SYSLOG_TIMESTAMP\":\""u8);
                    o.Put(_rfc3164);
                    o.Put(" \""u8);
                    break;
            }
        }

        o.Put((byte)'}');
    }

    private void Cursor(ByteWriter o, long seq, long mono, long t, ulong x)
    {
        o.Put("\"__CURSOR\":\"s="u8);
        o.Put(_seqnumId);
        o.Put(";i="u8);
        o.Hex((ulong)seq);
        o.Put(";b="u8);
        o.Put(_bootId);
        o.Put(";m="u8);
        o.Hex((ulong)mono);
        o.Put(";t="u8);
        o.Hex((ulong)t);
        o.Put(";x="u8);
        o.Hex(x);
        o.Put((byte)'"');
    }

    private void JsonMessage(ByteWriter o)
    {
        o.Put("\"MESSAGE\":\""u8);
        o.JsonEscaped(_msg.Written);
        o.Put((byte)'"');
    }

    private static void JsonField(ByteWriter o, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        o.Put((byte)'"');
        o.Put(name);
        o.Put("\":\""u8);
        o.Put(value);
        o.Put((byte)'"');
    }

    /// <summary>journalctl -o json prints every number as a string.</summary>
    private static void JsonNumber(ByteWriter o, ReadOnlySpan<byte> name, long value)
    {
        o.Put((byte)'"');
        o.Put(name);
        o.Put("\":\""u8);
        o.Num(value);
        o.Put((byte)'"');
    }

    private void SetClock(long t)
    {
        long second = t / UsPerSecond;
        if (second == _cachedSecond)
        {
            return;
        }

        _cachedSecond = second;
        DateTime dt = DateTime.UnixEpoch.AddTicks(second * TimeSpan.TicksPerSecond);
        byte[] mon = s_months[dt.Month - 1];
        mon.CopyTo(_rfc3164, 0);
        mon.CopyTo(_journalDate, 0);
        _rfc3164[3] = _journalDate[3] = (byte)' ';
        _rfc3164[4] = dt.Day < 10 ? (byte)' ' : (byte)('0' + (dt.Day / 10));
        _journalDate[4] = (byte)('0' + (dt.Day / 10));
        _rfc3164[5] = _journalDate[5] = (byte)('0' + (dt.Day % 10));
        _rfc3164[6] = _journalDate[6] = (byte)' ';
        Two(_rfc3164, 7, dt.Hour);
        _rfc3164[9] = (byte)':';
        Two(_rfc3164, 10, dt.Minute);
        _rfc3164[12] = (byte)':';
        Two(_rfc3164, 13, dt.Second);
        _rfc3164.AsSpan(7).CopyTo(_journalDate.AsSpan(7));

        Two(_isoDate, 0, dt.Year / 100);
        Two(_isoDate, 2, dt.Year % 100);
        _isoDate[4] = (byte)'-';
        Two(_isoDate, 5, dt.Month);
        _isoDate[7] = (byte)'-';
        Two(_isoDate, 8, dt.Day);
        _isoDate[10] = (byte)'T';
        _rfc3164.AsSpan(7).CopyTo(_isoDate.AsSpan(11));

        static void Two(byte[] b, int at, int v)
        {
            b[at] = (byte)('0' + (v / 10));
            b[at + 1] = (byte)('0' + (v % 10));
        }
    }

    // ---------------------------------------------------------------- selected entries

    private void Entry(long t)
    {
        ByteWriter w = _msg;
        bool v6 = _pool.V6Count > 0 && (_pool.V4Count == 0 || _rng.Percent(_o.Ipv6Pct));
        int port = 0;
        int uid;
        int src;
        int dst;
        int via = ViaLocal;
        int flags = FlagSyn;
        int container = 0;
        int spt;
        int id;
        if (_rng.Percent(_o.SpammerPct))
        {
            // The injected spammer: uid 1001, port 25, SYNs that are dropped (so retransmitted now and then), any destination.
            uid = _rng.Chance(_pUidSpam) ? Model.UidSpammer : Model.UidNone;
            src = v6 ? Model.SrcMain6 : Model.SrcMain4;
            if (_spamValid && _spamV6 == v6 && _rng.Chance(0.2))
            {
                dst = _spamDst;
                spt = _spamSpt;
                id = (_spamId + 1) & 0xFFFF;
            }
            else
            {
                dst = v6 ? _pool.V4Count + _rng.Below(_pool.V6Count) : _rng.Below(_pool.V4Count);
                spt = Ephemeral();
                id = _rng.Below(65536);
            }

            _spamValid = true;
            _spamV6 = v6;
            _spamDst = dst;
            _spamSpt = spt;
            _spamId = id;
        }
        else
        {
            spt = Ephemeral();
            id = _rng.Below(65536);
            if (_rng.Chance(_pUidOther))
            {
                int a = _rng.Below(100);
                if (a < 68)
                {
                    uid = 1; // postfix
                    src = v6 ? Model.SrcMail6 : _rng.Chance(0.8) ? Model.SrcMain4 : Model.SrcSecond4;
                    int f = _rng.Below(100);
                    flags = f < 50 ? FlagSyn : f < 75 ? FlagAck : f < 90 ? FlagAckPsh : FlagAckFin;
                }
                else if (a < 85)
                {
                    uid = 2; // www-data: submission to relays
                    port = _rng.Chance(0.65) ? 2 : 1;
                    src = v6 ? Model.SrcMain6 : Model.SrcMain4;
                    int f = _rng.Below(100);
                    flags = f < 60 ? FlagSyn : f < 80 ? FlagAck : FlagAckPsh;
                }
                else if (a < 90)
                {
                    uid = 3; // root
                    port = _rng.Chance(0.5) ? 0 : 2;
                    src = v6 ? Model.SrcMain6 : Model.SrcThird4;
                }
                else if (a < 97)
                {
                    uid = 4; // admin's mail client
                    port = _rng.Chance(0.7) ? 2 : 1;
                    src = v6 ? Model.SrcMain6 : Model.SrcMain4;
                    flags = _rng.Chance(0.7) ? FlagSyn : FlagAck;
                }
                else
                {
                    uid = 5; // nobody
                    src = v6 ? Model.SrcMain6 : Model.SrcSecond4;
                }
            }
            else
            {
                uid = Model.UidNone;
                if (!v6 && _rng.Chance(0.85))
                {
                    flags = _rng.Chance(0.85) ? FlagSyn : FlagAck;
                    if (_rng.Chance(0.7))
                    {
                        via = ViaDocker;
                        container = _rng.Below(8);
                        src = Model.SrcDocker + container;
                        port = _rng.Chance(0.8) ? 0 : 2;
                    }
                    else
                    {
                        via = ViaWg;
                        src = Model.SrcWg + _rng.Below(5);
                        int p = _rng.Below(100);
                        port = p < 15 ? 0 : p < 40 ? 1 : 2;
                    }
                }
                else
                {
                    // Local packets sent after the socket lost its file: no UID even with --log-uid.
                    src = v6 ? Model.SrcMail6 : Model.SrcMain4;
                    int f = _rng.Below(100);
                    flags = f < 50 ? FlagAckFin : f < 80 ? FlagAck : FlagAckRst;
                }
            }

            dst = v6 ? _pool.V4Count + _zipf6!.Sample(_rng) : _zipf4!.Sample(_rng);
        }

        int portValue = Model.Ports[port];
        w.Put("IPTABLES TCP-OUT "u8);
        w.Num(portValue);
        w.Put((byte)':');
        switch (via)
        {
            case ViaDocker:
                w.Put("IN=docker0 OUT=eth0 PHYSIN="u8);
                w.Put(_veths[container]);
                w.Put(" MAC=02:42:7a:3e:11:05:02:42:ac:11:00:"u8);
                w.Hex((ulong)(2 + container), 2);
                w.Put(":08:00 "u8);
                break;
            case ViaWg:
                w.Put("IN=wg0 OUT=eth0 MAC= "u8);
                break;
            default:
                w.Put("IN= OUT=eth0 "u8);
                break;
        }

        w.Put("SRC="u8);
        w.Put(Model.Sources[src].KernelText);
        w.Put(" DST="u8);
        w.Put(_pool.KernelText(dst));
        int len = flags switch
        {
            FlagSyn => 60,
            FlagAckRst => 40,
            FlagAckPsh => 52 + _rng.Range(6, 1400),
            _ => 52,
        };
        int window = flags switch
        {
            FlagSyn => v6 ? 64800 : 64240,
            FlagAckRst => 0,
            _ => _rng.Range(63, 510),
        };
        if (v6)
        {
            w.Put(" LEN="u8);
            w.Num(len + 20);
            w.Put(" TC=0 HOPLIMIT=64 FLOWLBL="u8);
            w.Num(_rng.Below(1 << 20));
        }
        else
        {
            w.Put(" LEN="u8);
            w.Num(len);
            w.Put(via == ViaLocal ? " TOS=0x00 PREC=0x00 TTL=64 ID="u8 : " TOS=0x00 PREC=0x00 TTL=63 ID="u8);
            w.Num(id);
            w.Put(" DF"u8);
        }

        w.Put(" PROTO=TCP SPT="u8);
        w.Num(spt);
        w.Put(" DPT="u8);
        w.Num(portValue);
        w.Put(" WINDOW="u8);
        w.Num(window);
        w.Put(" RES=0x00 "u8);
        w.Put(flags switch
        {
            FlagSyn => "SYN "u8,
            FlagAck => "ACK "u8,
            FlagAckPsh => "ACK PSH "u8,
            FlagAckFin => "ACK FIN "u8,
            _ => "ACK RST "u8,
        });
        w.Put("URGP=0 "u8);
        if (Model.Uids[uid] is int u)
        {
            w.Put("UID="u8);
            w.Num(u);
            w.Put(" GID="u8);
            w.Num(u);
            w.Put((byte)' ');
        }

        Tally.AddEntry(port, uid, src, dst, _secondResolution ? t - (t % UsPerSecond) : t);
    }

    private int Ephemeral() => _rng.Range(32768, 60999);

    // ---------------------------------------------------------------- netfilter lines with other prefixes

    private void OtherPrefix()
    {
        ByteWriter w = _msg;
        int k = _aux.Below(100);
        if (k < 30)
        {
            w.Put("IPTABLES TCP-IN 22:"u8);
            InboundTcp(22, false);
        }
        else if (k < 45)
        {
            w.Put("IPTABLES TCP-IN 25:"u8);
            InboundTcp(25, false);
        }
        else if (k < 65)
        {
            w.Put("[UFW BLOCK] "u8);
            int p = _aux.Below(6);
            InboundTcp(p switch { 0 => 23, 1 => 3389, 2 => 445, 3 => 8080, 4 => 5900, _ => 6379 }, _aux.Chance(0.1));
        }
        else if (k < 75)
        {
            w.Put(_aux.Chance(0.8) ? "[UFW BLOCK] "u8 : "[UFW AUDIT] "u8);
            w.Put("IN=eth0 OUT= MAC=52:54:00:6b:1e:0a:fe:54:00:0c:3d:11:08:00 SRC="u8);
            RemoteV4(w);
            int ulen = _aux.Range(9, 120);
            w.Put(" DST=192.0.2.10 LEN="u8);
            w.Num(ulen + 20);
            w.Put(" TOS=0x00 PREC=0x00 TTL="u8);
            w.Num(_aux.Range(40, 120));
            w.Put(" ID="u8);
            w.Num(_aux.Below(65536));
            w.Put(" PROTO=UDP SPT="u8);
            w.Num(_aux.Range(1024, 65535));
            w.Put(" DPT="u8);
            int p = _aux.Below(4);
            w.Num(p switch { 0 => 161, 1 => 1900, 2 => 5060, _ => 123 });
            w.Put(" LEN="u8);
            w.Num(ulen);
            w.Put((byte)' ');
        }
        else if (k < 85)
        {
            int ulen = _aux.Range(37, 70);
            w.Put("IPTABLES UDP-OUT 53:IN= OUT=eth0 SRC=192.0.2.10 DST=203.0.113.53 LEN="u8);
            w.Num(ulen + 20);
            w.Put(" TOS=0x00 PREC=0x00 TTL=64 ID="u8);
            w.Num(_aux.Below(65536));
            w.Put(" DF PROTO=UDP SPT="u8);
            w.Num(_aux.Range(32768, 60999));
            w.Put(" DPT=53 LEN="u8);
            w.Num(ulen);
            w.Put(" UID=101 GID=102 "u8);
        }
        else if (k < 95)
        {
            // Prefixes close to the selected one: a different rule name, and an unprefixed LOG rule on port 25.
            w.Put(k < 90 ? "IPTABLES TCP-OUT-DROP 25:IN= OUT=eth0 SRC=192.0.2.10 DST="u8 : "IN= OUT=eth0 SRC=192.0.2.10 DST="u8);
            w.Put(_pool.KernelText(_pool.V4Count > 0 ? _aux.Below(_pool.V4Count) : 0));
            if (_pool.V4Count > 0)
            {
                w.Put(" LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID="u8);
                w.Num(_aux.Below(65536));
                w.Put(" DF PROTO=TCP SPT="u8);
            }
            else
            {
                w.Put(" LEN=80 TC=0 HOPLIMIT=64 FLOWLBL="u8);
                w.Num(_aux.Below(1 << 20));
                w.Put(" PROTO=TCP SPT="u8);
            }

            w.Num(_aux.Range(32768, 60999));
            w.Put(" DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=1001 GID=1001 "u8);
        }
        else
        {
            w.Put("nft-drop: IN=eth0 OUT= MACSRC=fe:54:00:0c:3d:11 MACDST=52:54:00:6b:1e:0a MACPROTO=0800 SRC="u8);
            RemoteV4(w);
            w.Put(" DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL="u8);
            w.Num(_aux.Range(40, 60));
            w.Put(" ID="u8);
            w.Num(_aux.Below(65536));
            w.Put(" DF PROTO=TCP SPT="u8);
            w.Num(_aux.Range(1024, 65535));
            w.Put(" DPT=22 SEQ="u8);
            w.Num((long)(uint)_aux.Next());
            w.Put(" ACK=0 WINDOW=64240 RES=0x00 SYN URGP=0 OPT (020405B40402080A"u8);
            w.Hex((uint)_aux.Next(), 8, upper: true);
            w.Put("000000000103030A) "u8);
        }
    }

    private void InboundTcp(int port, bool v6)
    {
        ByteWriter w = _msg;
        bool scanner = port is not (22 or 25) && _aux.Chance(0.7);
        if (v6)
        {
            w.Put("IN=eth0 OUT= MAC=52:54:00:6b:1e:0a:fe:54:00:0c:3d:11:86:dd SRC=2001:0db8:ffff:"u8);
            w.Hex((ulong)_aux.Range(1, 0xFFFF), 4);
            w.Put(":0000:0000:0000:"u8);
            w.Hex((ulong)_aux.Range(1, 0xFFFF), 4);
            w.Put(" DST=2001:0db8:0000:0001:0000:0000:0000:0010 LEN=80 TC=0 HOPLIMIT="u8);
            w.Num(_aux.Range(40, 60));
            w.Put(" FLOWLBL="u8);
            w.Num(_aux.Below(1 << 20));
        }
        else
        {
            w.Put("IN=eth0 OUT= MAC=52:54:00:6b:1e:0a:fe:54:00:0c:3d:11:08:00 SRC="u8);
            RemoteV4(w);
            w.Put(scanner ? " DST=192.0.2.10 LEN=40 TOS=0x00 PREC=0x00 TTL="u8 : " DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL="u8);
            w.Num(scanner ? _aux.Range(230, 250) : _aux.Range(40, 60));
            w.Put(" ID="u8);
            w.Num(_aux.Below(65536));
            w.Put(scanner ? " PROTO=TCP SPT="u8 : " DF PROTO=TCP SPT="u8);
        }

        if (v6)
        {
            w.Put(" PROTO=TCP SPT="u8);
        }

        w.Num(_aux.Range(1024, 65535));
        w.Put(" DPT="u8);
        w.Num(port);
        w.Put(scanner ? " WINDOW=1024 RES=0x00 SYN URGP=0 "u8 : " WINDOW=64240 RES=0x00 SYN URGP=0 "u8);
    }

    private void RemoteV4(ByteWriter w)
    {
        uint a;
        do
        {
            a = (uint)_aux.Next();
        }
        while (!Addresses.IsPublicV4(a));
        Addresses.PutV4(w, a);
    }

    // ---------------------------------------------------------------- other kernel messages

    private void KernelMessage(long t, ref Msg m)
    {
        ByteWriter w = _msg;
        m.Severity = 6;
        int k = _aux.Below(100);
        int c = _aux.Below(_veths.Length);
        if (k < 30)
        {
            w.Put("docker0: port "u8);
            w.Num(c + 1);
            w.Put((byte)'(');
            w.Put(_veths[c]);
            int s = _aux.Below(3);
            w.Put(s switch { 0 => ") entered blocking state"u8, 1 => ") entered disabled state"u8, _ => ") entered forwarding state"u8 });
        }
        else if (k < 45)
        {
            w.Put(_veths[c]);
            int s = _aux.Below(4);
            w.Put(s switch
            {
                0 => ": entered allmulticast mode"u8,
                1 => ": entered promiscuous mode"u8,
                2 => " (unregistering): left allmulticast mode"u8,
                _ => " (unregistering): left promiscuous mode"u8,
            });
        }
        else if (k < 48)
        {
            w.Put("eth0: renamed from "u8);
            w.Put(_veths[c]);
        }
        else if (k < 58)
        {
            m.Severity = 4;
            w.Put("net_ratelimit: "u8);
            w.Num(_aux.Range(2, 400));
            w.Put(" callbacks suppressed"u8);
        }
        else if (k < 63)
        {
            m.Severity = 4;
            w.Put("nf_conntrack: nf_conntrack: table full, dropping packet"u8);
        }
        else if (k < 66)
        {
            w.Put("TCP: request_sock_TCP: Possible SYN flooding on port 0.0.0.0:25. Sending cookies."u8);
        }
        else if (k < 80)
        {
            m.Severity = 5;
            w.Put("audit: type=1400 audit("u8);
            w.Num(t / UsPerSecond);
            w.Put((byte)'.');
            w.Zero(t % UsPerSecond / 1000, 3);
            w.Put((byte)':');
            w.Num(_auditSerial++);
            w.Put("): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"/usr/sbin/postdrop\" name=\"/proc/sys/kernel/ngroups_max\" pid="u8);
            w.Num(_aux.Range(2000, 60000));
            w.Put(" comm=\"postdrop\" requested_mask=\"r\" denied_mask=\"r\" fsuid=106 ouid=0"u8);
        }
        else if (k < 85)
        {
            w.Put("php-fpm8.2["u8);
            w.Num(_aux.Range(2000, 60000));
            w.Put("]: segfault at 0 ip 00007f3a1c2b4e10 sp 00007ffd5b9e3a28 error 4 in libc.so.6[7f3a1c228000+155000] likely on CPU "u8);
            int cpu = _aux.Below(2);
            w.Num(cpu);
            w.Put(" (core "u8);
            w.Num(cpu);
            w.Put(", socket 0)"u8);
        }
        else if (k < 87)
        {
            m.Severity = 3;
            w.Put("Out of memory: Killed process "u8);
            w.Num(_aux.Range(2000, 60000));
            w.Put(" (php-fpm8.2) total-vm:512340kB, anon-rss:201232kB, file-rss:0kB, shmem-rss:1024kB, UID:33 pgtables:812kB oom_score_adj:0"u8);
        }
        else if (k < 90)
        {
            m.Severity = 4;
            w.Put("hrtimer: interrupt took "u8);
            w.Num(_aux.Range(100_000, 9_000_000));
            w.Put(" ns"u8);
        }
        else if (k < 95)
        {
            w.Put("perf: interrupt took too long (2510 > 2500), lowering kernel.perf_event_max_sample_rate to 79500"u8);
        }
        else
        {
            w.Put("EXT4-fs (vda1): error count since last fsck: 3"u8);
            m.Severity = 3;
        }
    }

    // ---------------------------------------------------------------- other daemons

    private void DaemonMessage(ref Msg m)
    {
        ByteWriter w = _msg;
        m.Kernel = false;
        m.Severity = 6;
        int k = _aux.Below(100);
        int v = _aux.Below(100);
        if (k < 25)
        {
            SetDaemon(ref m, DSshd, _aux.Range(3000, 60000));
            if (v < 15)
            {
                w.Put("Accepted publickey for admin from "u8);
                RemoteV4(w);
                w.Put(" port "u8);
                w.Num(_aux.Range(1024, 65535));
                w.Put(" ssh2: ED25519 SHA256:"u8);
                w.Put(s_fingerprints[_aux.Below(s_fingerprints.Length)]);
            }
            else if (v < 40)
            {
                w.Put("Failed password for invalid user "u8);
                w.Put(Pick(s_users));
                w.Put(" from "u8);
                RemoteV4(w);
                w.Put(" port "u8);
                w.Num(_aux.Range(1024, 65535));
                w.Put(" ssh2"u8);
            }
            else if (v < 60)
            {
                w.Put("Invalid user "u8);
                w.Put(Pick(s_users));
                w.Put(" from "u8);
                RemoteV4(w);
                w.Put(" port "u8);
                w.Num(_aux.Range(1024, 65535));
            }
            else if (v < 75)
            {
                w.Put("Connection closed by invalid user "u8);
                w.Put(Pick(s_users));
                w.Put((byte)' ');
                RemoteV4(w);
                w.Put(" port "u8);
                w.Num(_aux.Range(1024, 65535));
                w.Put(" [preauth]"u8);
            }
            else if (v < 90)
            {
                w.Put("Received disconnect from "u8);
                RemoteV4(w);
                w.Put(" port "u8);
                w.Num(_aux.Range(1024, 65535));
                w.Put(":11: Bye Bye [preauth]"u8);
            }
            else
            {
                w.Put("pam_unix(sshd:session): session opened for user admin(uid=1000) by admin(uid=0)"u8);
            }
        }
        else if (k < 35)
        {
            SetDaemon(ref m, DCron, _aux.Range(3000, 60000));
            w.Put(v switch
            {
                < 30 => "(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)"u8,
                < 45 => "(root) CMD (   cd / && run-parts --report /etc/cron.hourly)"u8,
                < 70 => "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"u8,
                < 95 => "pam_unix(cron:session): session closed for user root"u8,
                _ => "(root) CMD (/usr/local/sbin/fw-report --prefix 'IPTABLES TCP-OUT 25:' --match 'SRC=192.0.2.10 DST=' > /dev/null 2>&1)"u8,
            });
        }
        else if (k < 45)
        {
            SetDaemon(ref m, DSystemd, 1);
            if (v < 30)
            {
                int n = _session++;
                w.Put("Started session-"u8);
                w.Num(n);
                w.Put(".scope - Session "u8);
                w.Num(n);
                w.Put(" of User admin."u8);
            }
            else
            {
                w.Put(v switch
                {
                    < 45 => "Starting phpsessionclean.service - Clean php session files..."u8,
                    < 60 => "phpsessionclean.service: Deactivated successfully."u8,
                    < 75 => "Finished phpsessionclean.service - Clean php session files."u8,
                    < 88 => "Starting sysstat-collect.service - system activity accounting tool..."u8,
                    _ => "sysstat-collect.service: Deactivated successfully."u8,
                });
            }
        }
        else if (k < 48)
        {
            SetDaemon(ref m, DLogind, 0);
            w.Put(v < 40 ? "New session "u8 : v < 80 ? "Session "u8 : "Removed session "u8);
            w.Num(_session - 1);
            w.Put(v < 40 ? " of user admin."u8 : v < 80 ? " logged out. Waiting for processes to exit."u8 : "."u8);
        }
        else if (k < 60)
        {
            SetDaemon(ref m, DSmtpd, _aux.Range(2400, 2499));
            if (v < 35)
            {
                w.Put("connect from unknown["u8);
                RemoteV4(w);
                w.Put((byte)']');
            }
            else if (v < 70)
            {
                w.Put("disconnect from unknown["u8);
                RemoteV4(w);
                w.Put("] ehlo=1 auth=0/1 rset=1 quit=1 commands=3/4"u8);
            }
            else if (v < 85)
            {
                w.Put("NOQUEUE: reject: RCPT from unknown["u8);
                RemoteV4(w);
                w.Put("]: 454 4.7.1 <"u8);
                w.Put(Pick(s_users));
                w.Put((byte)'@');
                w.Put(Pick(s_domains));
                w.Put(">: Relay access denied; from=<spameri@example.com> to=<"u8);
                w.Put(Pick(s_users));
                w.Put((byte)'@');
                w.Put(Pick(s_domains));
                w.Put("> proto=ESMTP helo=<WIN-CLJ1B0GQ6JP>"u8);
            }
            else
            {
                m.Severity = 4;
                w.Put("warning: unknown["u8);
                RemoteV4(w);
                w.Put("]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"u8);
            }
        }
        else if (k < 75)
        {
            SetDaemon(ref m, DSmtp, _aux.Range(2300, 2399));
            if (v < 55)
            {
                Qid(w);
                w.Put(": to=<"u8);
                w.Put(Pick(s_users));
                w.Put((byte)'@');
                w.Put(Pick(s_domains));
                w.Put(">, relay="u8);
                w.Put(Pick(s_mx));
                w.Put((byte)'[');
                MxAddress(w);
                w.Put("]:25, delay=0.21, delays=0.01/0.01/0.1/0.09, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as "u8);
                Qid(w);
                w.Put((byte)')');
            }
            else if (v < 80)
            {
                w.Put("connect to "u8);
                w.Put(Pick(s_mx));
                w.Put((byte)'[');
                MxAddress(w);
                w.Put("]:25: Connection timed out"u8);
            }
            else
            {
                Qid(w);
                w.Put(": to=<"u8);
                w.Put(Pick(s_users));
                w.Put((byte)'@');
                w.Put(Pick(s_domains));
                w.Put(">, relay=none, delay=30, delays=0.02/0/30/0, dsn=4.4.1, status=deferred (connect to "u8);
                w.Put(Pick(s_mx));
                w.Put((byte)'[');
                MxAddress(w);
                w.Put("]:25: Connection timed out)"u8);
            }
        }
        else if (k < 83)
        {
            SetDaemon(ref m, DQmgr, 0);
            Qid(w);
            if (v < 60)
            {
                w.Put(": from=<www-data@vps.example.com>, size="u8);
                w.Num(_aux.Range(600, 40000));
                w.Put(", nrcpt=1 (queue active)"u8);
            }
            else
            {
                w.Put(": removed"u8);
            }
        }
        else if (k < 89)
        {
            SetDaemon(ref m, DCleanup, _aux.Range(2500, 2599));
            Qid(w);
            w.Put(": message-id=<"u8);
            w.Hex(_aux.Next() & 0xFFFFFFFFFFFF, 12);
            w.Put("@vps.example.com>"u8);
        }
        else if (k < 93)
        {
            SetDaemon(ref m, DSudo, _aux.Range(3000, 60000));
            m.Severity = 5;
            w.Put(v switch
            {
                < 40 => "   admin : TTY=pts/0 ; PWD=/home/admin ; USER=root ; COMMAND=/usr/sbin/iptables -L OUTPUT -n -v"u8,
                < 60 => "   admin : TTY=pts/0 ; PWD=/home/admin ; USER=root ; COMMAND=/usr/sbin/iptables -I OUTPUT -p tcp --dport 25 -j LOG --log-prefix \"IPTABLES TCP-OUT 25:\" --log-uid"u8,
                _ => "pam_unix(sudo:session): session opened for user root(uid=0) by admin(uid=1000)"u8,
            });
            if (v >= 60)
            {
                m.Severity = 6;
            }
        }
        else
        {
            SetDaemon(ref m, DPhpFpm, 0);
            m.Severity = 4;
            w.Put("[pool www] server reached pm.max_children setting (5), consider raising it"u8);
        }
    }

    private static void SetDaemon(ref Msg m, int daemon, int pid)
    {
        m.Daemon = daemon;
        m.Pid = s_daemons[daemon].FixedPid != 0 ? s_daemons[daemon].FixedPid : pid;
    }

    private void MxAddress(ByteWriter w)
    {
        if (_pool.V4Count > 0)
        {
            w.Put(_pool.KernelText(_zipf4!.Sample(_aux)));
        }
        else
        {
            RemoteV4(w);
        }
    }

    private void Qid(ByteWriter w) => w.Hex(_aux.Next() & 0xFFFFFFFFFFF, 11, upper: true);

    private byte[] Pick(byte[][] list) => list[_aux.Below(list.Length)];

    private byte[] RandomHex(int digits)
    {
        var w = new ByteWriter(digits);
        for (int i = 0; i < digits; i += 16)
        {
            w.Hex(_rng.Next(), 16);
        }

        return w.Written[..digits].ToArray();
    }

    private int[][] Permutations(int n)
    {
        var result = new int[6][];
        for (int p = 0; p < result.Length; p++)
        {
            int[] a = [.. Enumerable.Range(0, n)];
            for (int i = n - 1; i > 0; i--)
            {
                int j = _rng.Below(i + 1);
                (a[i], a[j]) = (a[j], a[i]);
            }

            result[p] = a;
        }

        return result;
    }

    private struct Msg
    {
        public bool Kernel;
        public int Severity;
        public int Daemon;
        public int Pid;
    }

    private sealed class Daemon(string tag, int facility, string comm, string unit, bool journal, int uid, int fixedPid, bool syslogPid)
    {
        public byte[] Tag { get; } = Encoding.ASCII.GetBytes(tag);

        /// <summary>RFC 5424 APP-NAME: rsyslog cuts "postfix/smtp" at the slash (captured).</summary>
        public byte[] App { get; } = Encoding.ASCII.GetBytes(tag.Split('/')[0]);

        public int Facility { get; } = facility;

        public byte[] Comm { get; } = Encoding.ASCII.GetBytes(comm);

        public byte[] Unit { get; } = Encoding.ASCII.GetBytes(unit);

        /// <summary>Logs through the journal API (_TRANSPORT=journal, no SYSLOG_TIMESTAMP).</summary>
        public bool Journal { get; } = journal;

        public int Uid { get; } = uid;

        public int FixedPid { get; } = fixedPid;

        /// <summary>The syslog tag carries "[pid]" (sudo's does not).</summary>
        public bool SyslogPid { get; } = syslogPid;
    }
}
