using System.Globalization;
using MailGuard.Analysis.Internals;
using MailGuard.Parsing;

namespace MailGuard.Analysis;

/// <summary>Words for what the application logs tell behind a UID (<see cref="MailScanReport.Attribution"/>).</summary>
public static class AttributionText
{
    private static readonly CultureInfo s_ci = CultureInfo.InvariantCulture;

    /// <summary>
    /// One actor in a few words: <c>postfix mail from uid 1801 (webapp) via pickup, script /var/www/html/x.php</c>,
    /// <c>v2ray user alice@example.com from 203.0.113.77 (route direct)</c>. The text comes from logs: escape it for a terminal.
    /// </summary>
    /// <param name="actor">The actor.</param>
    /// <param name="userNames">User names of UIDs (for a submitting UID); empty: numbers only.</param>
    /// <returns>The description.</returns>
    public static string Describe(AppActor actor, IReadOnlyDictionary<uint, string>? userNames = null)
    {
        ArgumentNullException.ThrowIfNull(actor);
        string via = actor.Via is not { } v ? "" : actor.Program == AppProgram.V2Ray ? $" (route {v})" : $" ({v})";
        string who = actor.Kind switch
        {
            AppActorKind.LocalUid => $"mail from uid {actor.Name}{(uint.TryParse(actor.Name, NumberStyles.None, s_ci, out uint uid) && userNames?.TryGetValue(uid, out string? n) == true ? $" ({n})" : "")} via {actor.Via ?? "a local submission"}",
            AppActorKind.LocalUser => $"mail from local user {actor.Name}{via}",
            AppActorKind.SaslUser => $"mail from SMTP login {actor.Name}{(actor.Client is { } c ? $" at {c}" : "")}{via}",
            AppActorKind.NetworkClient => $"mail relayed for {actor.Name} without a login{via}",
            AppActorKind.ProxyUser => $"user {actor.Name}{(actor.Client is { } c ? $" from {c}" : "")}{via}",
            AppActorKind.ProxyClient => $"client {actor.Name} without a user{via}",
            AppActorKind.ProxyPort => $"server port {actor.Name}",
            _ => "deliveries whose submission is not in the logs read",
        };
        return $"{Program(actor.Program)} {who}{(actor.Script is { } s ? $", script {s}" : "")}";
    }

    /// <summary>The program's usual name: <c>postfix</c>, <c>exim</c>, <c>v2ray</c>, <c>shadowsocks</c>, <c>php</c>.</summary>
    /// <param name="program">The program.</param>
    /// <returns>Its name.</returns>
    public static string Program(AppProgram program) => program switch
    {
        AppProgram.Postfix => "postfix",
        AppProgram.Exim => "exim",
        AppProgram.V2Ray => "v2ray",
        AppProgram.Shadowsocks => "shadowsocks",
        AppProgram.Php => "php",
        _ => "?",
    };
}

/// <summary>The verdict's part that the application logs give: the sentence behind the culprit and the advice that follows.</summary>
internal static class Behind
{
    private static readonly CultureInfo s_ci = CultureInfo.InvariantCulture;

    /// <summary>The culprit's UID (a UID actor, or a service's UID), or null.</summary>
    public static uint? UidOf(Actor? a) => a switch
    {
        { Kind: ActorKind.User } => uint.Parse(a.Key, s_ci),
        { Kind: ActorKind.Service } => a.Stat.Uid,
        _ => null,
    };

    /// <summary>"Behind uid 102 (postfix), from the application logs: 8 of its 17 attempts …", or null without a join or a UID.</summary>
    public static string? Sentence(SpamVerdict v, VerdictOptions o)
    {
        if (v.Attribution is not { } join || UidOf(v.Culprit) is not { } uid || join.Uids.FirstOrDefault(u => u.Uid == uid) is not { Attempts: > 0 } u)
        {
            return null;
        }

        List<AttributedAttempts> mine = [.. join.Attributed.Where(a => a.Uid == uid)];
        var parts = new List<string>();
        foreach (AttributedAttempts a in mine.Take(3))
        {
            parts.Add(string.Create(s_ci, $"{a.Attempts:N0} {AttributionText.Describe(a.Actor, o.UserNames)}"));
        }

        if (mine.Count > 3)
        {
            parts.Add(string.Create(s_ci, $"{mine.Skip(3).Sum(a => a.Attempts):N0} from {mine.Count - 3:N0} more"));
        }

        if (u.Explained == 0 && u.Ambiguous == 0 && u.Unexplained + u.Uncovered > 0)
        {
            // Not one attempt in the logs of the programs given: it connected by itself, not through them.
            string programs = string.Join(" or ", join.Logs.Where(l => l.Program is not (0 or AppProgram.Php)).Select(l => AttributionText.Program(l.Program)).Distinct());
            string where = u.Uncovered == 0 ? "" : u.Unexplained == 0 ? ", all outside the time their logs cover"
                : string.Create(s_ci, $" ({u.Unexplained:N0} inside the time their logs cover, {u.Uncovered:N0} outside it)");
            return string.Create(s_ci, $"Behind {v.Culprit!.Label}, from the application logs: none of its {u.Attempts:N0} attempts went through {programs}{where}{(u.Uncovered == 0 ? " — it connected by itself" : "")}.");
        }

        string explained = u.Explained == 0 ? "none of its attempts is explained"
            : string.Create(s_ci, $"{u.Explained:N0} of its {u.Attempts:N0} attempts are explained: {string.Join("; ", parts)}");
        var rest = new List<string>();
        if (u.Ambiguous > 0)
        {
            rest.Add(string.Create(s_ci, $"{u.Ambiguous:N0} ambiguous (lines of different senders fit)"));
        }

        if (u.Unexplained > 0)
        {
            rest.Add(string.Create(s_ci, $"{u.Unexplained:N0} unexplained (no line of the logs given fits)"));
        }

        if (u.Uncovered > 0)
        {
            rest.Add(string.Create(s_ci, $"{u.Uncovered:N0} outside the time the application logs cover"));
        }

        if (u.Untimed > 0)
        {
            rest.Add(string.Create(s_ci, $"{u.Untimed:N0} without a date (cannot be joined)"));
        }

        if (u.NotOpening > 0)
        {
            rest.Add(string.Create(s_ci, $"{u.NotOpening:N0} not opened by a SYN (cannot be joined)"));
        }

        return $"Behind {v.Culprit!.Label}, from the application logs: {explained}{(rest.Count > 0 ? "; " + string.Join(", ", rest) : "")}.";
    }

    /// <summary>What to do about the senders behind the culprit, most attempts first (at most three), then the logs to read that were not given.</summary>
    public static IEnumerable<Advice> Steps(SpamVerdict v, VerdictOptions o)
    {
        uint? uid = UidOf(v.Culprit);
        if (v.Attribution is { } join && uid is not null)
        {
            foreach (AttributedAttempts a in join.Attributed.Where(a => a.Uid == uid).Take(3))
            {
                if (Step(a, o) is { } step)
                {
                    yield return step;
                }
            }

            UidAttribution? u = join.Uids.FirstOrDefault(x => x.Uid == uid);
            if (u is { Uncovered: > 0 } && u.Uncovered * 2 >= u.Attempts)
            {
                yield return new Advice(string.Create(s_ci, $"Give the application logs of the whole time: {u.Uncovered:N0} of {v.Culprit!.Label}'s attempts fall outside them"), [
                    "ls -l /var/log/mail.log* /var/log/maillog* /var/log/exim4/mainlog* 2>/dev/null   # the rotated ones too (.1, .gz)",
                ]);
            }
        }

        if (Missing(v, o) is { } missing)
        {
            yield return missing;
        }
    }

    private static Advice? Step(AttributedAttempts a, VerdictOptions o)
    {
        Advice? step = Unchecked(a, o);
        AppActor who = a.Actor;
        if (step is null || (Printable(who.Name) && Printable(who.Client) && Printable(who.Script) && Printable(who.Via)))
        {
            return step;
        }

        // A name from a log that holds control characters: a command for root to paste must not carry it, quoted or not.
        return step with { Commands = ["# the name holds control characters (written by the program behind the UID): see it in --format json"] };
    }

    /// <summary>No control character (C0, DEL, C1): safe inside a quoted shell word printed on a terminal.</summary>
    private static bool Printable(string? text)
    {
        foreach (char c in text ?? "")
        {
            if (c < ' ' || c is >= '\u007f' and <= '\u009f')
            {
                return false;
            }
        }

        return true;
    }

    private static Advice? Unchecked(AttributedAttempts a, VerdictOptions o)
    {
        AppActor who = a.Actor;
        string n = a.Attempts.ToString("N0", s_ci);
        if (who.Script is { } script)
        {
            string dir = Path.GetDirectoryName(script) ?? "/";
            return new Advice($"Look at the script that sent {n} attempts' mail, and take it offline if nobody wrote it: {script}", [
                $"ls -la -- {ShellWord.Quote(script)} {ShellWord.Quote(dir)}",
                $"grep -n -e 'mail(' -e 'base64_decode' -e 'eval(' -- {ShellWord.Quote(script)} | head",
                $"find {ShellWord.Quote(dir)} -name '*.php' -newer {ShellWord.Quote(script)} -o -name '*.php' -mtime -7 | head   # its neighbours, changed lately",
            ]);
        }

        return who.Kind switch
        {
            AppActorKind.LocalUid or AppActorKind.LocalUser => new Advice($"Find what the local user {Local(who, o)} runs that hands mail to the mail server ({n} attempts)", [
                $"crontab -l -u {ShellWord.Quote(LocalName(who, o))}",
                $"ps -o pid,lstart,args -u {ShellWord.Quote(LocalName(who, o))}",
                "# PHP: mail.log = /var/log/php/mail.log in php.ini names the script of every mail() call (give it to mgscan)",
            ]),
            AppActorKind.SaslUser => new Advice($"Lock the SMTP login {who.Name} (its password is probably stolen) and change its password ({n} attempts)", who.Program == AppProgram.Postfix
                ? [
                    $"# Postfix: smtpd_sender_restrictions = check_sasl_access hash:/etc/postfix/sasl_access with the line: {ShellWord.Quote(who.Name)} REJECT",
                    "postqueue -p | tail -n 3                # what it queued",
                ]
                : [
                    $"grep -n -- {ShellWord.Quote(who.Name)} /etc/exim4/passwd 2>/dev/null   # Exim: the authenticator's password file",
                    "exim -bpc                               # what it queued",
                ]),
            AppActorKind.NetworkClient => new Advice($"Stop relaying for {who.Name} without a login ({n} attempts)", who.Program == AppProgram.Postfix
                ? ["postconf mynetworks                     # remove the address, then: postfix reload"]
                : ["exim -bP relay_from_hosts               # remove the address from it, then restart exim"]),
            AppActorKind.ProxyUser => new Advice($"Remove the proxy user {who.Name} (or change its key){(who.Client is { } c ? $"; its client is {c}" : "")} ({n} attempts)", [
                $"grep -rn -- {ShellWord.Quote(who.Name)} /etc/v2ray /usr/local/etc/v2ray /usr/local/etc/xray 2>/dev/null   # its entry in inbounds[].settings.clients",
                "systemctl restart v2ray                 # or xray, after removing it",
            ]),
            AppActorKind.ProxyClient => new Advice($"Close the proxy inbound that has no authentication: {who.Name} used it without a user ({n} attempts)", [
                "# V2Ray/Xray socks or http inbound: \"settings\": {\"auth\": \"password\", \"accounts\": [...]}, or \"listen\": \"127.0.0.1\"",
                $"iptables -I INPUT -s {ShellWord.Quote(who.Name)} -j DROP    # the client, meanwhile",
            ]),
            AppActorKind.ProxyPort => new Advice($"Stop the shadowsocks server on port {who.Name} (its password is shared or stolen) ({n} attempts)", [
                $"ss -tlnp 'sport = :{(ushort.TryParse(who.Name, NumberStyles.None, s_ci, out ushort port) ? port : 0)}'          # which ss-server listens there",
                "systemctl list-units 'shadowsocks-libev*'",
            ]),
            _ => null,
        };
    }

    private static string LocalName(AppActor who, VerdictOptions o) =>
        who.Kind == AppActorKind.LocalUid && uint.TryParse(who.Name, NumberStyles.None, s_ci, out uint uid) && o.UserNames.TryGetValue(uid, out string? name) ? name : who.Name;

    private static string Local(AppActor who, VerdictOptions o) => who.Kind == AppActorKind.LocalUid
        ? (LocalName(who, o) is var n && n != who.Name ? $"uid {who.Name} ({n})" : $"uid {who.Name}") : who.Name;

    /// <summary>The culprit's program keeps a log that was not given (or not enabled): which, where, how.</summary>
    private static Advice? Missing(SpamVerdict v, VerdictOptions o)
    {
        if (v.Culprit is not { } a || v.Class is VerdictClass.NothingSuspicious or VerdictClass.NoLogLines or VerdictClass.ForgedLog)
        {
            return null;
        }

        string name = (a.UserName ?? (a.Kind == ActorKind.Service ? a.Key : "")).ToLowerInvariant();
        if (name.Length == 0 && UidOf(a) is { } uid && o.ServicesByUid.TryGetValue(uid, out IReadOnlyList<string>? services))
        {
            name = string.Join(' ', services).ToLowerInvariant();
        }

        Attribution? join = v.Attribution;
        bool has(AppProgram p) => join?.Has(p) == true;
        if ((name.Contains("postfix", StringComparison.Ordinal) || o.MailUsers.Contains(a.UserName ?? "")) && !name.Contains("exim", StringComparison.Ordinal))
        {
            return has(AppProgram.Postfix) ? PhpLog(v, join!) : new Advice($"Read the mail server's log with the kernel log: it names who handed {a.Label} each message", [
                "mgscan /var/log/kern.log /var/log/mail.log      # RHEL: /var/log/maillog; rotated files (.1, .gz) may be added",
                "journalctl -u postfix@- -u postfix -o short-iso > /tmp/mail.log   # where Postfix logs to the journal only",
            ]);
        }

        if (name.Contains("exim", StringComparison.Ordinal))
        {
            return has(AppProgram.Exim) ? PhpLog(v, join!) : new Advice($"Read Exim's main log with the kernel log: it names who handed {a.Label} each message", [
                "mgscan /var/log/kern.log /var/log/exim4/mainlog   # RHEL: /var/log/exim/main.log",
            ]);
        }

        if (name.Contains("v2ray", StringComparison.Ordinal) || name.Contains("xray", StringComparison.Ordinal))
        {
            return has(AppProgram.V2Ray) ? null : new Advice($"Turn on the proxy's access log and read it with the kernel log: it names the client and user of each connection", [
                "# /etc/v2ray/config.json (Xray: /usr/local/etc/xray/config.json): \"log\": {\"access\": \"/var/log/v2ray/access.log\", \"loglevel\": \"info\"}",
                "systemctl restart v2ray                 # or xray; then, after the next attempts:",
                "mgscan /var/log/kern.log /var/log/v2ray/access.log",
            ]);
        }

        if (name.Contains("shadowsocks", StringComparison.Ordinal) || name.Contains("ss-server", StringComparison.Ordinal))
        {
            return has(AppProgram.Shadowsocks) ? null : new Advice($"Run ss-server with -v and read its output with the kernel log: it names the server port (the user) of each connection", [
                "# shadowsocks-libev: add -v to ss-server's command line (systemctl edit shadowsocks-libev-server@NAME), restart, then:",
                "journalctl -u 'shadowsocks-libev*' -o short-iso > /tmp/ss.log && mgscan /var/log/kern.log /tmp/ss.log",
            ]);
        }

        return null;
    }

    /// <summary>The mail server's log was given and local users submitted: PHP's mail.log names the script of each mail() call.</summary>
    private static Advice? PhpLog(SpamVerdict v, Attribution join)
    {
        uint? uid = UidOf(v.Culprit);
        bool local = join.Attributed.Any(a => a.Uid == uid && a.Actor.Kind is AppActorKind.LocalUid or AppActorKind.LocalUser && a.Actor.Script is null);
        return local && !join.Has(AppProgram.Php)
            ? new Advice("Turn on PHP's mail log: it names the script of every mail() call, which the mail server's log cannot", [
                "# php.ini (every SAPI: /etc/php/*/fpm/php.ini, /etc/php/*/apache2/php.ini): mail.log = /var/log/php/mail.log and mail.add_x_header = On",
                "mgscan /var/log/kern.log /var/log/mail.log /var/log/php/mail.log",
            ])
            : null;
    }
}
