using System.Runtime.InteropServices;
using System.Text;

namespace MailGuard.Parsing.AppLogs;

/// <summary>What the join decided for one attempt.</summary>
internal enum JoinOutcome : byte
{
    Explained,
    Ambiguous,
    Unexplained,
    Uncovered,
    Untimed,
    NotOpening,
}

/// <summary>One attempt's decision (kept for tests: <see cref="MailScanOptions.TraceJoin"/>).</summary>
internal readonly record struct JoinDecision(long Ticks, long UidKey, NetAddress Dst, JoinOutcome Outcome, AppActor? Actor);

/// <summary>Told of each new connection attempt, in the kernel log's order, by <see cref="TrafficStats"/>.</summary>
internal interface IAttemptListener
{
    /// <summary>One attempt (its first line): UTC ticks or <see cref="long.MinValue"/>, the UID if any, destination and port (−1: none), and whether it is a SYN without ACK (a connection being opened).</summary>
    void Attempt(long ticks, bool hasUid, uint uid, NetAddress dst, int port, bool opens);
}

/// <summary>
/// Joins the kernel's attempts with the connections application logs record (see <see cref="Attribution"/>), holding a
/// time window only: the application logs are read up to <see cref="Ahead"/> past the latest kernel time, an attempt is
/// decided once the kernel's time is <see cref="Ahead"/> past it (every line that could explain it, and every other
/// attempt that could claim those lines, is known then), and a connection is forgotten two windows after its own.
/// </summary>
internal sealed class AttemptJoin : IAttemptListener, IDisposable
{
    /// <summary>How far the application logs are read past the kernel's time, and how long an attempt waits for its decision.</summary>
    private static readonly long Ahead = AttributionRules.ConnectTimeout.Ticks + (20 * TimeSpan.TicksPerSecond);

    private const int MaxCandidates = 16;
    private const int MaxSubmissions = 1 << 20;
    private const int MaxDestinationsTold = 65_536;

    private readonly AppLogReader[] _readers; // PHP's first: a mail() call is taken before the submission it caused
    private readonly List<AppActor> _actors = [];
    private readonly Dictionary<ulong, int> _actorIds = [];
    private readonly List<ulong> _actorHashes = [];
    private readonly List<string> _scripts = [];
    private readonly Dictionary<ulong, int> _scriptIds = [];
    private readonly Dictionary<ulong, Submission> _submissions = [];
    private readonly Dictionary<ulong, PhpChoice[]> _phpChoices = [];

    private PhpMail[] _php = new PhpMail[256];
    private long _phpBase;
    private long _phpNext;

    private ConnRecord[] _conns = new ConnRecord[1024];
    private long _connBase;
    private long _connNext;
    private readonly Dictionary<ulong, long> _connHeads = [];

    private PendingAttempt[] _pending = new PendingAttempt[1024];
    private long _pendingBase; // the oldest attempt not decided
    private long _retainBase; // the oldest attempt kept: decided ones stay while their lines may be another's
    private long _pendingNext;
    private long[] _candidates = new long[4096];
    private long _candidateNext;

    private readonly Dictionary<long, UidTally> _uids = [];
    private readonly Dictionary<(long Uid, int Actor), ActorTally> _tallies = [];
    private long _latest = long.MinValue;
    private long _kernelFirst = long.MaxValue;
    private long _unmatched;
    private long _forgotten;

    /// <summary>Each decision, in the kernel's order, when asked for (tests).</summary>
    private readonly List<JoinDecision>? _trace;

    public AttemptJoin(IReadOnlyList<AppLogReader> readers, bool trace = false)
    {
        _trace = trace ? [] : null;
        _readers = [.. readers];
        Array.Sort(_readers, static (a, b) => a.Program == AppProgram.Php != (b.Program == AppProgram.Php) ? (a.Program == AppProgram.Php ? -1 : 1) : a.Order.CompareTo(b.Order));
    }

    /// <summary>What the join holds now: connections, pending attempts and queued submissions (tests of the bound).</summary>
    internal int Held => (int)(_connNext - _connBase) + (int)(_pendingNext - _retainBase) + _submissions.Count;

    public void Attempt(long ticks, bool hasUid, uint uid, NetAddress dst, int port, bool opens)
    {
        long uidKey = hasUid ? uid : -1;
        if (!opens)
        {
            // A packet of a connection opened before (the log began after its SYN, or the rule logs more than SYNs): the
            // application line of that connection cannot be told by this packet's time. Not joined, and no competitor.
            UidTally n = Uid(uidKey);
            n.Attempts++;
            n.NotOpening++;
            _trace?.Add(new JoinDecision(ticks, uidKey, dst, JoinOutcome.NotOpening, null));
            return;
        }

        if (ticks == long.MinValue)
        {
            UidTally t = Uid(uidKey);
            t.Attempts++;
            t.Untimed++;
            _trace?.Add(new JoinDecision(ticks, uidKey, dst, JoinOutcome.Untimed, null));
            return;
        }

        _kernelFirst = Math.Min(_kernelFirst, ticks);
        if (ticks > _latest)
        {
            _latest = ticks;
            ReadUpTo(ticks + Ahead);
            DecideUpTo(ticks - Ahead);
            Forget(ticks - (2 * Ahead));
        }

        IndexUpTo(ticks);

        // Its candidates: connections to the same address and port (or port unknown, or a destination named, not numbered).
        long start = _candidateNext;
        int count = 0;
        bool many = false;
        if (port >= 0 && !dst.IsNone)
        {
            Candidates(Key(dst, (ushort)port), dst, port, ticks, ref count, ref many);
            Candidates(Key(dst, 0), dst, 0, ticks, ref count, ref many);
            Candidates(Key(default, (ushort)port), default, port, ticks, ref count, ref many);
        }

        ref PendingAttempt p = ref NewPending();
        p = new PendingAttempt { Ticks = ticks, UidKey = uidKey, Dst = dst, CandidateStart = start, CandidateCount = count, Many = many };
    }

    /// <summary>Reads the application logs to their ends (unless the scan was cut short) and decides every attempt.</summary>
    /// <param name="complete">False when the kernel scan was cancelled: the application logs are not read further.</param>
    public Attribution Finish(bool complete)
    {
        if (complete)
        {
            ReadUpTo(long.MaxValue);
        }

        DecideUpTo(long.MaxValue);
        Forget(long.MaxValue);
        var logs = new List<AppLogResult>(_readers.Length);
        foreach (AppLogReader r in _readers.OrderBy(static r => r.Order))
        {
            logs.Add(new AppLogResult(r.Name, r.Program, r.Lines, r.Used, r.Connections, Time(r.First), Time(r.Last), r.Error));
        }

        var uids = new List<UidAttribution>(_uids.Count);
        foreach ((long key, UidTally t) in _uids)
        {
            uids.Add(new UidAttribution(key < 0 ? null : (uint)key, t.Attempts, t.Explained, t.Ambiguous, t.Unexplained, t.Uncovered, t.Untimed, t.NotOpening));
        }

        uids.Sort(static (a, b) => b.Attempts != a.Attempts ? b.Attempts.CompareTo(a.Attempts) : Nullable.Compare(a.Uid, b.Uid));
        var attributed = new List<AttributedAttempts>(_tallies.Count);
        foreach (((long uid, int actor), ActorTally t) in _tallies)
        {
            attributed.Add(new AttributedAttempts(uid < 0 ? null : (uint)uid, _actors[actor], t.Attempts, t.Destinations.Count, Time(t.First)!.Value, Time(t.Last)!.Value));
        }

        attributed.Sort(static (a, b) => b.Attempts != a.Attempts ? b.Attempts.CompareTo(a.Attempts) : a.First.CompareTo(b.First));
        return new Attribution(logs, uids, attributed, _unmatched, _forgotten) { Trace = _trace };
    }

    public void Dispose()
    {
        foreach (AppLogReader r in _readers)
        {
            r.Dispose();
        }
    }

    private static DateTimeOffset? Time(long ticks) => ticks == long.MinValue ? null : new DateTimeOffset(ticks, TimeSpan.Zero);

    private UidTally Uid(long key)
    {
        ref UidTally? t = ref CollectionsMarshal.GetValueRefOrAddDefault(_uids, key, out _);
        return t ??= new UidTally();
    }

    // ---- the application side -------------------------------------------------------------------------------

    /// <summary>
    /// Takes the application lines up to <paramref name="horizon"/> in time order across the logs (a <c>mail()</c> call
    /// before the submission it caused, a rotated file's pickup before the next file's delivery); a line without a time is
    /// taken where it stands. Each line is parsed twice: once for its time, once when its turn comes.
    /// </summary>
    private void ReadUpTo(long horizon)
    {
        while (true)
        {
            AppLogReader? best = null;
            long bestTicks = long.MaxValue;
            foreach (AppLogReader r in _readers)
            {
                while (!r.HasPeek && r.TryPeek(out ReadOnlySpan<byte> line))
                {
                    r.Parser.Parse(line, out AppLine app);
                    if (app.Ticks == long.MinValue)
                    {
                        r.Take();
                        Take(r, ref app);
                        continue;
                    }

                    r.PeekTicks = app.Ticks;
                    r.HasPeek = true;
                }

                if (r.HasPeek && r.PeekTicks < bestTicks)
                {
                    best = r;
                    bestTicks = r.PeekTicks;
                }
            }

            if (best is null || bestTicks > horizon)
            {
                return;
            }

            best.TryPeek(out ReadOnlySpan<byte> next);
            best.Parser.Parse(next, out AppLine taken);
            best.Take();
            best.HasPeek = false;
            Take(best, ref taken);
        }
    }

    private void Take(AppLogReader reader, ref AppLine a)
    {
        if (a.Program == 0)
        {
            return;
        }

        if (reader.Program == 0)
        {
            reader.Program = a.Program;
        }

        if (a.Ticks != long.MinValue)
        {
            reader.First = reader.First == long.MinValue ? a.Ticks : Math.Min(reader.First, a.Ticks);
            reader.Last = Math.Max(reader.Last, a.Ticks + a.Resolution);
        }

        if (a.Kind == AppLineKind.None || (a.Ticks == long.MinValue && a.Kind != AppLineKind.QueueRemoved))
        {
            return;
        }

        reader.Used++;
        switch (a.Kind)
        {
            case AppLineKind.PhpMail:
                AddPhp(ref a);
                break;
            case AppLineKind.PostfixPickup:
                Submit(a.QueueId, ActorId(AppProgram.Postfix, AppActorKind.LocalUid, a.User, default, "pickup"u8, -1), a.Ticks, local: true);
                break;
            case AppLineKind.PostfixSmtpd:
                Submit(a.QueueId, a.User.Length > 0
                    ? ActorId(AppProgram.Postfix, AppActorKind.SaslUser, a.User, a.Client, a.Via, -1)
                    : ActorId(AppProgram.Postfix, AppActorKind.NetworkClient, a.Client, default, a.Via, -1), a.Ticks, local: false);
                break;
            case AppLineKind.EximArrival:
                bool local = a.Client.Length == 0;
                int submitter = a.Recipient.Length > 0 ? ActorId(AppProgram.Exim, AppActorKind.SaslUser, a.Recipient, a.Client, a.Via, -1)
                    : local ? ActorId(AppProgram.Exim, AppActorKind.LocalUser, a.User.Length > 0 ? a.User : "?"u8, default, a.Via, -1)
                    : ActorId(AppProgram.Exim, AppActorKind.NetworkClient, a.Client, default, a.Via, -1);
                Submit(a.QueueId, submitter, a.Ticks, local);
                break;
            case AppLineKind.QueueRemoved:
                ulong removed = Hash(a.QueueId);
                _submissions.Remove(removed);
                _phpChoices.Remove(removed);
                break;
            case AppLineKind.PostfixDelivery:
            case AppLineKind.EximDelivery:
                if (a.Reused)
                {
                    break; // no connection of its own
                }

                int deliverer = Deliverer(ref a);
                if (a.Failed && NameFailure(ref a, deliverer))
                {
                    break; // the failure's own line, just before, is this connection
                }

                AddConn(reader, ref a, deliverer, before: a.Before, after: 0);
                break;
            case AppLineKind.PostfixConnectFailure:
                AddConn(reader, ref a, ActorId(AppProgram.Postfix, AppActorKind.UnknownSubmitter, default, default, default, -1), before: a.Before, after: 0);
                break;
            case AppLineKind.V2RayAccess:
                AddConn(reader, ref a, a.User.Length > 0
                    ? ActorId(AppProgram.V2Ray, AppActorKind.ProxyUser, a.User, a.Client, a.Via, -1)
                    : ActorId(AppProgram.V2Ray, AppActorKind.ProxyClient, a.Client, default, a.Via, -1), before: 0, after: (a.Dst.IsNone ? AttributionRules.ProxyDialNamed : AttributionRules.ProxyDial).Ticks);
                break;
            case AppLineKind.ShadowsocksConnect:
                AddConn(reader, ref a, ActorId(AppProgram.Shadowsocks, AppActorKind.ProxyPort, a.Via.Length > 0 ? a.Via : "?"u8, default, default, -1), before: 0, after: (a.Dst.IsNone ? AttributionRules.ProxyDialNamed : AttributionRules.ProxyDial).Ticks);
                break;
        }
    }

    /// <summary>Who a delivery's message came from: its submission (and PHP script), or unknown.</summary>
    private int Deliverer(ref AppLine a)
    {
        AppProgram program = a.Kind == AppLineKind.EximDelivery ? AppProgram.Exim : AppProgram.Postfix;
        ulong id = Hash(a.QueueId);
        if (!_submissions.TryGetValue(id, out Submission s))
        {
            return ActorId(program, AppActorKind.UnknownSubmitter, default, default, default, -1);
        }

        int script = s.Script;
        if (script == -2 && _phpChoices.TryGetValue(id, out PhpChoice[]? choices))
        {
            // Several mail() calls fit the submission's time: the recipient decides, if it names one script.
            script = -1;
            ulong recipient = HashLower(a.Recipient);
            foreach (PhpChoice c in choices)
            {
                if (c.Has(recipient))
                {
                    if (script >= 0 && script != c.Script)
                    {
                        script = -1;
                        break;
                    }

                    script = c.Script;
                }
            }
        }

        if (script < 0)
        {
            return s.Actor;
        }

        // The submitter with the script.
        ulong h = Mix(_actorHashes[s.Actor] ^ ((ulong)(script + 1) * 0x9E3779B97F4A7C15UL));
        ref int withScript = ref CollectionsMarshal.GetValueRefOrAddDefault(_actorIds, h, out bool exists);
        if (!exists)
        {
            withScript = _actors.Count;
            _actors.Add(_actors[s.Actor] with { Script = _scripts[script] });
            _actorHashes.Add(h);
        }

        return withScript;
    }

    /// <summary>
    /// Postfix logs a failed connection twice: <c>connect to NAME[ADDR]:PORT: …</c> without a queue ID, then the
    /// message's <c>relay=none … (connect to …)</c>. The second names the first's message: the latest unnamed failure to the
    /// same address and port logged within a second before is given the deliverer; true when there was one.
    /// </summary>
    private bool NameFailure(ref AppLine a, int deliverer)
    {
        int unknown = ActorId(AppProgram.Postfix, AppActorKind.UnknownSubmitter, default, default, default, -1);
        for (long seq = _connNext - 1; seq >= _connBase; seq--)
        {
            ref ConnRecord c = ref Conn(seq);
            if (c.Line < a.Ticks - TimeSpan.TicksPerSecond)
            {
                return false; // the connections are in time order: none older can be it
            }

            if (c.Dst == a.Dst && c.Port == a.Port && c.Actor == unknown && c.Line <= a.Ticks)
            {
                c.Actor = deliverer;
                return true;
            }
        }

        return false;
    }

    private void Submit(ReadOnlySpan<byte> queueId, int actor, long ticks, bool local)
    {
        ulong id = Hash(queueId);
        int script = -1;
        if (local)
        {
            script = PhpScriptAt(ticks, id);
        }

        if (_submissions.Count >= MaxSubmissions)
        {
            ForgetSubmissions(ticks);
        }

        _submissions[id] = new Submission { Actor = actor, Ticks = ticks, Script = script };
    }

    /// <summary>The script of the <c>mail()</c> calls just before a local submission: one script, −1 none, −2 several (kept for the recipient).</summary>
    private int PhpScriptAt(long ticks, ulong id)
    {
        int script = -1;
        int found = 0;
        for (long i = _phpNext - 1; i >= _phpBase; i--)
        {
            ref PhpMail m = ref _php[i & (_php.Length - 1)];
            if (m.Ticks + m.Resolution + AttributionRules.PhpToSubmission.Ticks < ticks)
            {
                break;
            }

            if (m.Ticks > ticks)
            {
                continue;
            }

            found++;
            script = script == -1 ? m.Script : script == m.Script ? script : -2;
        }

        if (script == -2)
        {
            var choices = new List<PhpChoice>(found);
            for (long i = _phpNext - 1; i >= _phpBase; i--)
            {
                ref PhpMail m = ref _php[i & (_php.Length - 1)];
                if (m.Ticks + m.Resolution + AttributionRules.PhpToSubmission.Ticks < ticks)
                {
                    break;
                }

                if (m.Ticks <= ticks)
                {
                    choices.Add(new PhpChoice(m.Script, m.R0, m.R1, m.R2, m.R3));
                }
            }

            _phpChoices[id] = [.. choices];
        }

        return script;
    }

    private void ForgetSubmissions(long now)
    {
        foreach (long age in (ReadOnlySpan<long>)[TimeSpan.FromDays(5).Ticks, TimeSpan.FromHours(1).Ticks, 0])
        {
            foreach ((ulong id, Submission s) in _submissions)
            {
                if (s.Ticks < now - age || age == 0)
                {
                    _submissions.Remove(id);
                    _phpChoices.Remove(id);
                    _forgotten++;
                }
            }

            if (_submissions.Count < MaxSubmissions / 2)
            {
                return;
            }
        }
    }

    private void AddPhp(ref AppLine a)
    {
        // Keep the calls of the last PhpToSubmission (and a little) only.
        while (_phpBase < _phpNext && _php[_phpBase & (_php.Length - 1)].Ticks < a.Ticks - (4 * AttributionRules.PhpToSubmission.Ticks))
        {
            _phpBase++;
        }

        if (_phpNext - _phpBase == _php.Length)
        {
            _php = Grow(_php, _phpBase, _phpNext);
        }

        ref PhpMail m = ref _php[_phpNext & (_php.Length - 1)];
        _phpNext++;
        m = new PhpMail { Ticks = a.Ticks, Resolution = a.Resolution, Script = ScriptId(a.Script) };
        ReadOnlySpan<byte> list = a.Recipient;
        int n = 0;
        while (list.Length > 0 && n < 4)
        {
            int comma = list.IndexOf((byte)',');
            ReadOnlySpan<byte> one = comma < 0 ? list : list[..comma];
            list = comma < 0 ? default : list[(comma + 1)..];
            int open = one.IndexOf((byte)'<');
            int close = one.LastIndexOf((byte)'>');
            if (open >= 0 && close > open)
            {
                one = one[(open + 1)..close];
            }

            one = one.Trim((byte)' ');
            if (one.Length == 0)
            {
                continue;
            }

            ulong h = HashLower(one);
            switch (n++)
            {
                case 0: m.R0 = h; break;
                case 1: m.R1 = h; break;
                case 2: m.R2 = h; break;
                default: m.R3 = h; break;
            }
        }
    }

    private int ScriptId(ReadOnlySpan<byte> script)
    {
        ulong h = Hash(script);
        ref int id = ref CollectionsMarshal.GetValueRefOrAddDefault(_scriptIds, h, out bool exists);
        if (!exists)
        {
            id = _scripts.Count;
            _scripts.Add(Encoding.UTF8.GetString(script));
        }

        return id;
    }

    private int ActorId(AppProgram program, AppActorKind kind, ReadOnlySpan<byte> name, ReadOnlySpan<byte> client, ReadOnlySpan<byte> via, int script)
    {
        ulong h = Mix((ulong)program | ((ulong)kind << 8) | ((ulong)(uint)(script + 1) << 16));
        h = Mix(h ^ Hash(name));
        h = Mix(h ^ (Hash(client) * 3));
        h = Mix(h ^ (Hash(via) * 5));
        ref int id = ref CollectionsMarshal.GetValueRefOrAddDefault(_actorIds, h, out bool exists);
        if (!exists)
        {
            id = _actors.Count;
            _actors.Add(new AppActor(program, kind, Encoding.UTF8.GetString(name), client.Length > 0 ? Encoding.UTF8.GetString(client) : null,
                via.Length > 0 ? Encoding.UTF8.GetString(via) : null, script >= 0 ? _scripts[script] : null));
            _actorHashes.Add(h);
        }

        return id;
    }

    private void AddConn(AppLogReader reader, ref AppLine a, int actor, long before, long after)
    {
        reader.Connections++;
        if (_connNext - _connBase == _conns.Length)
        {
            _conns = Grow(_conns, _connBase, _connNext);
        }

        long seq = _connNext++;
        long slack = a.Resolution == 0 ? AttributionRules.Slack.Ticks : 0;
        int span = before <= SpanTicks[0] ? 0 : before <= SpanTicks[1] ? 1 : 2;

        // The SYN's time lies in [line − before, line + its resolution + after), widened by the slack of a precise stamp.
        // Indexed later, once the kernel's time comes near (see IndexUpTo).
        Conn(seq) = new ConnRecord
        {
            From = a.Ticks - before - slack,
            To = a.Ticks + a.Resolution + after + slack,
            Dst = a.Dst,
            Port = a.Port,
            Actor = actor,
            Line = a.Ticks,
            Program = _actors[actor].Program,
            Span = (byte)span,
            Next = -1,
        };
    }

    /// <summary>
    /// How far before its line a connection's SYN may lie, in three classes: up to 6 s (proxies, Postfix's usual c + d),
    /// up to 31 s (Exim, a slow Postfix delivery), up to 181 s (a failed connection).
    /// </summary>
    private static readonly long[] SpanTicks = [6 * TimeSpan.TicksPerSecond, 31 * TimeSpan.TicksPerSecond, 181 * TimeSpan.TicksPerSecond];

    /// <summary>After its line, a SYN lies at most this late (a second's stamp, the named proxy dial, slack).</summary>
    private static readonly long MaxAfter = 6 * TimeSpan.TicksPerSecond;

    private readonly long[] _indexed = new long[3]; // per span class: the next connection to index

    /// <summary>
    /// Links into the lookup chains the connections whose window may reach <paramref name="ticks"/>: read 200 s ahead,
    /// a line joins its chain only when the kernel's time is within its class's span of it, so that a chain walked from
    /// its newest line holds the few seconds around the attempt, not the 200 s read ahead (a popular MX has thousands).
    /// Within a class lines come in time order (the logs are merged by time), so each class is a queue.
    /// </summary>
    private void IndexUpTo(long ticks)
    {
        for (int k = 0; k < SpanTicks.Length; k++)
        {
            long limit = ticks + SpanTicks[k] + TimeSpan.TicksPerSecond;
            long seq = Math.Max(_indexed[k], _connBase);
            for (; seq < _connNext; seq++)
            {
                ref ConnRecord c = ref Conn(seq);
                if (c.Span != k)
                {
                    continue;
                }

                if (c.Line > limit)
                {
                    break;
                }

                ref long head = ref CollectionsMarshal.GetValueRefOrAddDefault(_connHeads, Key(c.Dst, (ushort)c.Port) ^ Salt(k), out bool exists);
                c.Next = exists ? head : -1;
                head = seq;
            }

            _indexed[k] = seq;
        }
    }

    private static ulong Salt(int spanClass) => (ulong)spanClass * 0xD6E8FEB86659FD93UL;

    // ---- the kernel side ----------------------------------------------------------------------------------

    private void Candidates(ulong key, NetAddress dst, int port, long ticks, ref int count, ref bool many)
    {
        for (int k = 0; k < SpanTicks.Length; k++)
        {
            if (_connHeads.TryGetValue(key ^ Salt(k), out long seq))
            {
                Candidates(seq, dst, port, ticks, ref count, ref many);
            }
        }
    }

    /// <summary>Walks one chain from its newest line back to the first that ended before <paramref name="ticks"/> could be.</summary>
    private void Candidates(long seq, NetAddress dst, int port, long ticks, ref int count, ref bool many)
    {
        long kernelEnd = ticks + (ticks % TimeSpan.TicksPerSecond == 0 ? TimeSpan.TicksPerSecond : 1);
        for (; seq >= _connBase; seq = Conn(seq).Next)
        {
            ref ConnRecord c = ref Conn(seq);
            if (c.Line + MaxAfter < ticks)
            {
                return; // this one and every older one ended before the SYN
            }

            if (c.Port != port || c.Dst != dst || ticks >= c.To || kernelEnd <= c.From)
            {
                continue;
            }

            c.Claimed = true;
            c.Claim(_pendingNext); // the attempt about to be added
            if (count == MaxCandidates)
            {
                many = true;
                continue;
            }

            if (_candidateNext - (_retainBase < _pendingNext ? Pending(_retainBase).CandidateStart : _candidateNext) == _candidates.Length)
            {
                _candidates = Grow(_candidates, _retainBase < _pendingNext ? Pending(_retainBase).CandidateStart : _candidateNext, _candidateNext);
            }

            _candidates[_candidateNext++ & (_candidates.Length - 1)] = seq;
            count++;
        }
    }

    private void DecideUpTo(long until)
    {
        while (_pendingBase < _pendingNext && Pending(_pendingBase).Ticks < until)
        {
            Decide(ref Pending(_pendingBase));
            _pendingBase++;
        }

        // Decided attempts stay in the graph of later ones while their lines may still be claimed (an ambiguous one may own
        // the line a later attempt would otherwise have alone); after two windows no line of theirs is left.
        long forget = until == long.MaxValue ? long.MaxValue : until - Ahead;
        while (_retainBase < _pendingBase && Pending(_retainBase).Ticks < forget)
        {
            _retainBase++;
        }
    }

    /// <summary>
    /// Decides the oldest pending attempt. A line stands for one connection and an attempt is one connection, so the
    /// attempts that share candidate lines with this one (at most <see cref="MaxComponent"/>) and their lines form a
    /// bipartite graph: the lines this attempt may have are those it is matched to in some maximum matching of it, and
    /// it is explained only when every maximum matching matches it (otherwise the others may need every line it could
    /// have: it is ambiguous, or unexplained when it has none). Lines of a program other than the one its UID has been
    /// seen to run (<see cref="Bound"/>) are not its candidates. Explained: its possible lines all name one actor.
    /// </summary>
    private void Decide(ref PendingAttempt p)
    {
        UidTally u = Uid(p.UidKey);
        u.Attempts++;
        int actor = -1;
        long only = -1;
        int possible = 0;
        bool ambiguous = p.Many;
        bool hadLive = false;
        int size = ambiguous ? 0 : Graph(_pendingBase);
        if (size > 0)
        {
            hadLive = true;
            if (Match(skipAttempt: 0, skipLine: -1) == size)
            {
                ambiguous = true; // the others can do without it: it may be unexplained
            }
            else
            {
                for (int e = _adjStart[0]; e < _adjStart[1] && !ambiguous; e++)
                {
                    int line = _adj[e];
                    if (Match(skipAttempt: 0, skipLine: line) != size - 1)
                    {
                        continue; // in no maximum matching with this attempt on it: another's
                    }

                    ref ConnRecord c = ref Conn(_lines[line]);
                    possible++;
                    only = _lines[line];
                    if (actor == -1)
                    {
                        actor = c.Actor;
                    }
                    else if (actor != c.Actor)
                    {
                        ambiguous = true;
                    }
                }
            }
        }
        else if (size < 0)
        {
            // Too many attempts share lines with this one to tell whether it needs one of them: it may take a line that
            // is another's (one of its lines' own attempt may have none but that line), so it is not explained.
            hadLive = true;
            ambiguous = true;
        }

        if (ambiguous)
        {
            u.Ambiguous++;
            _trace?.Add(new JoinDecision(p.Ticks, p.UidKey, p.Dst, JoinOutcome.Ambiguous, null));
            return;
        }

        if (possible == 0)
        {
            bool covered = hadLive || Covered(p.Ticks);
            if (covered)
            {
                u.Unexplained++;
            }
            else
            {
                u.Uncovered++;
            }

            _trace?.Add(new JoinDecision(p.Ticks, p.UidKey, p.Dst, covered ? JoinOutcome.Unexplained : JoinOutcome.Uncovered, null));
            return;
        }

        if (possible == 1)
        {
            Conn(only).Taken = true;
            p.Took = true;
        }

        u.Explained++;
        AppProgram program = _actors[actor].Program;
        u.Programs[(int)program]++;
        _trace?.Add(new JoinDecision(p.Ticks, p.UidKey, p.Dst, JoinOutcome.Explained, _actors[actor]));
        ref ActorTally? t = ref CollectionsMarshal.GetValueRefOrAddDefault(_tallies, (p.UidKey, actor), out _);
        t ??= new ActorTally { First = p.Ticks };
        t.Attempts++;
        t.First = Math.Min(t.First, p.Ticks);
        t.Last = Math.Max(t.Last, p.Ticks);
        if (t.Destinations.Count < MaxDestinationsTold)
        {
            t.Destinations.Add(p.Dst);
        }
    }

    /// <summary>The most attempts looked at together when one is decided; past it, the attempt is ambiguous.</summary>
    private const int MaxComponent = 128;

    private readonly List<long> _component = [];
    private readonly Dictionary<long, int> _inComponent = [];
    private readonly List<long> _lines = [];
    private readonly Dictionary<long, int> _lineIndex = [];
    private readonly int[] _adjStart = new int[MaxComponent + 1];
    private readonly int[] _adj = new int[MaxComponent * MaxCandidates];
    private readonly int[] _matchOfLine = new int[MaxComponent * MaxCandidates];
    private readonly int[] _seen = new int[MaxComponent * MaxCandidates];
    private int _stamp;

    /// <summary>
    /// Builds the graph of <paramref name="self"/> (attempt 0) and the pending attempts that share live lines with it;
    /// returns the size of a maximum matching, 0 when the attempt has no live line, −1 when the group is too large.
    /// </summary>
    private int Graph(long self)
    {
        _component.Clear();
        _inComponent.Clear();
        _lines.Clear();
        _lineIndex.Clear();
        _component.Add(self);
        _inComponent[self] = 0;
        int edges = 0;
        for (int i = 0; i < _component.Count; i++)
        {
            _adjStart[i] = edges;
            ref PendingAttempt q = ref Pending(_component[i]);
            for (int k = 0; k < q.CandidateCount; k++)
            {
                long seq = _candidates[(q.CandidateStart + k) & (_candidates.Length - 1)];
                ref ConnRecord c = ref Conn(seq);
                if (!Live(q.UidKey, ref c))
                {
                    continue;
                }

                if (c.Overflow)
                {
                    return -1; // claimed by more attempts than a line keeps
                }

                ref int line = ref CollectionsMarshal.GetValueRefOrAddDefault(_lineIndex, seq, out bool known);
                if (!known)
                {
                    line = _lines.Count;
                    _lines.Add(seq);
                    for (int j = 0; j < c.Claimants; j++)
                    {
                        long other = c.Claimant(j);
                        if (other >= _retainBase && other < _pendingNext && !Pending(other).Took && !_inComponent.ContainsKey(other))
                        {
                            if (_component.Count == MaxComponent)
                            {
                                return -1;
                            }

                            _inComponent[other] = _component.Count;
                            _component.Add(other);
                        }
                    }
                }

                _adj[edges++] = line;
            }

            if (i == 0 && edges == 0)
            {
                return 0;
            }
        }

        _adjStart[_component.Count] = edges;
        return Match(skipAttempt: -1, skipLine: -1);
    }

    /// <summary>The size of a maximum matching of the graph without one attempt and one line (−1: none left out).</summary>
    private int Match(int skipAttempt, int skipLine)
    {
        _matchOfLine.AsSpan(0, _lines.Count).Fill(-1);
        int size = 0;
        for (int a = 0; a < _component.Count; a++)
        {
            if (a == skipAttempt)
            {
                continue;
            }

            _stamp++;
            if (Augment(a, skipLine))
            {
                size++;
            }
        }

        return size;
    }

    /// <summary>Kuhn's augmenting path from attempt <paramref name="a"/>.</summary>
    private bool Augment(int a, int skipLine)
    {
        for (int e = _adjStart[a]; e < _adjStart[a + 1]; e++)
        {
            int line = _adj[e];
            if (line == skipLine || _seen[line] == _stamp)
            {
                continue;
            }

            _seen[line] = _stamp;
            if (_matchOfLine[line] < 0 || Augment(_matchOfLine[line], skipLine))
            {
                _matchOfLine[line] = a;
                return true;
            }
        }

        return false;
    }

    /// <summary>A line still open to the attempts of this UID: not taken, and of the program the UID runs, if it is known.</summary>
    private bool Live(long uidKey, ref ConnRecord c) => !c.Taken && (Bound(uidKey) is var bound && (bound == 0 || bound == c.Program));

    /// <summary>
    /// The program a UID runs, once the join has seen it: at least 3 of its attempts explained, all by one program's
    /// lines; 0 otherwise (several programs under one UID, or too little seen).
    /// </summary>
    private AppProgram Bound(long uidKey)
    {
        if (!_uids.TryGetValue(uidKey, out UidTally? t))
        {
            return 0;
        }

        AppProgram bound = 0;
        for (int i = 1; i < t.Programs.Length; i++)
        {
            if (t.Programs[i] == 0)
            {
                continue;
            }

            if (bound != 0 || t.Programs[i] < 3)
            {
                return 0;
            }

            bound = (AppProgram)i;
        }

        return bound;
    }

    /// <summary>Whether a log of a program that opens connections has lines around <paramref name="ticks"/>.</summary>
    private bool Covered(long ticks)
    {
        foreach (AppLogReader r in _readers)
        {
            // A log covers the time from its first line to its last: a quiet stretch between two lines is covered (the
            // program had nothing to log), so a line read ahead but not yet taken counts as its last.
            long last = r.HasPeek ? Math.Max(r.Last, r.PeekTicks) : r.Last;
            if (r.Program is not (0 or AppProgram.Php) && r.First != long.MinValue && r.First <= ticks + TimeSpan.TicksPerSecond && last >= ticks - TimeSpan.TicksPerSecond)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Forgets the connections whose window ended before <paramref name="until"/> (every attempt that could claim them is decided).</summary>
    private void Forget(long until)
    {
        while (_connBase < _connNext && Conn(_connBase).To < until)
        {
            ref ConnRecord c = ref Conn(_connBase);
            if (!c.Claimed && c.To > _kernelFirst && c.From <= _latest)
            {
                _unmatched++;
            }

            _connBase++;
        }

        if (_connHeads.Count > 4 * Math.Max(1024, _connNext - _connBase))
        {
            // Keys whose every connection is forgotten.
            foreach ((ulong key, long head) in _connHeads)
            {
                if (head < _connBase)
                {
                    _connHeads.Remove(key);
                }
            }
        }
    }

    private ref ConnRecord Conn(long seq) => ref _conns[seq & (_conns.Length - 1)];

    private ref PendingAttempt Pending(long seq) => ref _pending[seq & (_pending.Length - 1)];

    private ref PendingAttempt NewPending()
    {
        if (_pendingNext - _retainBase == _pending.Length)
        {
            _pending = Grow(_pending, _retainBase, _pendingNext);
        }

        return ref _pending[_pendingNext++ & (_pending.Length - 1)];
    }

    /// <summary>A ring twice as large, holding the same sequence numbers at their new places.</summary>
    private static T[] Grow<T>(T[] ring, long from, long to)
    {
        var larger = new T[ring.Length * 2];
        for (long i = from; i < to; i++)
        {
            larger[i & (larger.Length - 1)] = ring[i & (ring.Length - 1)];
        }

        return larger;
    }

    private static ulong Key(NetAddress dst, ushort port) => Mix(dst.Hash64 ^ ((ulong)port * 0x9E3779B97F4A7C15UL));

    /// <summary>FNV-1a, mixed: IDs, names and scripts (2⁻⁶⁴ a pair to collide).</summary>
    private static ulong Hash(ReadOnlySpan<byte> s)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in s)
        {
            h = (h ^ b) * 1099511628211UL;
        }

        return Mix(h ^ (ulong)s.Length);
    }

    private static ulong HashLower(ReadOnlySpan<byte> s)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in s)
        {
            h = (h ^ (uint)((uint)(b - 'A') <= 'Z' - 'A' ? b | 0x20 : b)) * 1099511628211UL;
        }

        return Mix(h ^ (ulong)s.Length);
    }

    private static ulong Mix(ulong x) => NetAddress.Mix64(x);

    private struct ConnRecord
    {
        public long From;
        public long To;
        public NetAddress Dst;
        public int Port;
        public int Actor;
        public long Next;
        public long Line; // the line's own time
        public byte Span; // its class in SpanTicks
        public AppProgram Program;
        public bool Taken; // decided for one attempt
        public bool Claimed; // a candidate of some attempt
        public bool Overflow; // more claimants than kept: never given to one alone
        public byte Claimants;
        public long C0, C1, C2, C3; // the pending attempts that have it as a candidate

        public readonly long Claimant(int i) => i switch { 0 => C0, 1 => C1, 2 => C2, _ => C3 };

        public void Claim(long attempt)
        {
            switch (Claimants)
            {
                case 0: C0 = attempt; break;
                case 1: C1 = attempt; break;
                case 2: C2 = attempt; break;
                case 3: C3 = attempt; break;
                default: Overflow = true; return;
            }

            Claimants++;
        }
    }

    private struct PendingAttempt
    {
        public long Ticks;
        public long UidKey;
        public NetAddress Dst;
        public long CandidateStart;
        public int CandidateCount;
        public bool Many;
        public bool Took; // decided, with the one line it could have
    }

    private struct Submission
    {
        public int Actor;
        public long Ticks;
        public int Script; // −1 none, −2 several (see _phpChoices)
    }

    private struct PhpMail
    {
        public long Ticks;
        public long Resolution;
        public int Script;
        public ulong R0, R1, R2, R3;
    }

    private readonly record struct PhpChoice(int Script, ulong R0, ulong R1, ulong R2, ulong R3)
    {
        public bool Has(ulong recipient) => recipient != 0 && (R0 == recipient || R1 == recipient || R2 == recipient || R3 == recipient);
    }

    private sealed class UidTally
    {
        public long Attempts, Explained, Ambiguous, Unexplained, Uncovered, Untimed, NotOpening;
        public readonly int[] Programs = new int[(int)AppProgram.Php + 1]; // attempts explained per program
    }

    private sealed class ActorTally
    {
        public long Attempts;
        public long First;
        public long Last = long.MinValue;
        public HashSet<NetAddress> Destinations { get; } = [];
    }
}
