namespace MailGuard.Parsing;

/// <summary>The program whose own log an application log is, and that may have opened a connection.</summary>
public enum AppProgram : byte
{
    /// <summary>Postfix (<c>postfix/smtp</c>, <c>postfix/pickup</c>, <c>postfix/…smtpd</c> lines of <c>mail.log</c>).</summary>
    Postfix = 1,

    /// <summary>Exim (its <c>mainlog</c>: <c>&lt;=</c> arrivals, <c>=&gt;</c> / <c>==</c> / <c>**</c> deliveries).</summary>
    Exim,

    /// <summary>V2Ray or Xray (the access log: <c>CLIENT accepted tcp:DST:PORT [TAG] email: USER</c>).</summary>
    V2Ray,

    /// <summary>shadowsocks-libev's <c>ss-server -v</c> (<c>[SERVER_PORT] connect to DST:PORT</c>).</summary>
    Shadowsocks,

    /// <summary>PHP's <c>mail.log</c> (<c>mail() on [FILE:LINE]: To: …</c>): names the script behind a local submission; opens no connection itself.</summary>
    Php,
}

/// <summary>What an <see cref="AppActor"/> is.</summary>
public enum AppActorKind : byte
{
    /// <summary>A local user who handed the message to the mail server (<c>postfix/pickup uid=</c>: <see cref="AppActor.Name"/> is the UID as digits).</summary>
    LocalUid = 1,

    /// <summary>A local user named by login (Exim's <c>U=</c>).</summary>
    LocalUser,

    /// <summary>An authenticated SMTP login (Postfix <c>sasl_username=</c>, Exim <c>A=</c>); <see cref="AppActor.Client"/> is where it came from.</summary>
    SaslUser,

    /// <summary>A network client that relayed without logging in (<c>client=</c> / <c>H=… [ADDRESS]</c>): <see cref="AppActor.Name"/> is its address.</summary>
    NetworkClient,

    /// <summary>A proxy's user (V2Ray's <c>email:</c>); <see cref="AppActor.Client"/> is the address it came from.</summary>
    ProxyUser,

    /// <summary>A proxy client with no user (an open inbound): <see cref="AppActor.Name"/> is its address.</summary>
    ProxyClient,

    /// <summary>A shadowsocks server port (one port per user, as <c>ss-manager</c> runs it): <see cref="AppActor.Name"/> is the port.</summary>
    ProxyPort,

    /// <summary>A delivery by the mail server whose submission is not in the logs read (it came before them, or the line was not logged).</summary>
    UnknownSubmitter,
}

/// <summary>Who caused connection attempts, as an application log tells it.</summary>
/// <param name="Program">The program that opened the connections.</param>
/// <param name="Kind">What <paramref name="Name"/> is.</param>
/// <param name="Name">The UID (digits), login, address or port, as logged.</param>
/// <param name="Client">For a login or proxy user, the address it came from, when logged.</param>
/// <param name="Via">How it came in: the Postfix service (<c>pickup</c>, <c>submission/smtpd</c>), Exim's protocol (<c>P=</c>), the proxy's tag.</param>
/// <param name="Script">The PHP script that called <c>mail()</c>, when PHP's <c>mail.log</c> names it.</param>
public sealed record AppActor(AppProgram Program, AppActorKind Kind, string Name, string? Client, string? Via, string? Script);

/// <summary>Attempts of one kernel actor (a UID, or none) attributed to one <see cref="AppActor"/>.</summary>
/// <param name="Uid">The kernel's <c>UID=</c> of the attempts, or null for entries without one (forwarded traffic).</param>
/// <param name="Actor">Who the application log names.</param>
/// <param name="Attempts">Connection attempts attributed.</param>
/// <param name="Destinations">Distinct destination addresses among them (at most 65,536 are told apart; more count as 65,536).</param>
/// <param name="First">The first attempt's time.</param>
/// <param name="Last">The last attempt's time.</param>
public sealed record AttributedAttempts(uint? Uid, AppActor Actor, long Attempts, int Destinations, DateTimeOffset First, DateTimeOffset Last);

/// <summary>How the attempts of one kernel actor (a UID, or none) fared in the join.</summary>
/// <param name="Uid">The kernel's <c>UID=</c>, or null for entries without one.</param>
/// <param name="Attempts">All its attempts.</param>
/// <param name="Explained">Attempts that one application log line (or several naming the same actor) explains.</param>
/// <param name="Ambiguous">Attempts that lines naming different actors could explain: counted, not guessed.</param>
/// <param name="Unexplained">Attempts inside the time the application logs cover that no line explains.</param>
/// <param name="Uncovered">Attempts outside the time the application logs cover (before their first line or after their last).</param>
/// <param name="Untimed">Attempts without a wall-clock time (a kernel ring buffer without dates): they cannot be joined.</param>
/// <param name="NotOpening">
/// Flows whose first logged packet is not a SYN (a connection opened before the log began, or a rule without <c>--syn</c>
/// logging every packet): no application line can be told by their time, so they are neither joined nor competitors.
/// </param>
public sealed record UidAttribution(uint? Uid, long Attempts, long Explained, long Ambiguous, long Unexplained, long Uncovered, long Untimed, long NotOpening);

/// <summary>One application log read for the join.</summary>
/// <param name="Name">The input's name.</param>
/// <param name="Program">Whose log it is (by content: the first program recognised in it).</param>
/// <param name="Lines">Lines read.</param>
/// <param name="Used">Lines the join used (connections, submissions, <c>mail()</c> calls).</param>
/// <param name="Connections">Connections it records (each is one expected attempt in the kernel log).</param>
/// <param name="First">The time of its first dated line, when it has one.</param>
/// <param name="Last">The time of its last dated line, when it has one.</param>
/// <param name="Error">Why it could not be read to its end, or null.</param>
public sealed record AppLogResult(string Name, AppProgram Program, long Lines, long Used, long Connections, DateTimeOffset? First, DateTimeOffset? Last, Exception? Error);

/// <summary>
/// The join of the kernel's connection attempts with the logs of the programs that opened them (see <see cref="MailScan"/>:
/// application logs among the inputs are recognised by content). An attempt is joined to an application line that
/// records a connection to the same destination address and port whose time fits (<see cref="AttributionRules"/>); a line
/// stands for one connection, so a line that is the only candidate of one attempt is not offered to another. An attempt
/// with candidates naming different actors is <see cref="UidAttribution.Ambiguous"/>, never guessed; one without any stays
/// with its UID (<see cref="UidAttribution.Unexplained"/>).
/// </summary>
public sealed class Attribution
{
    internal Attribution(IReadOnlyList<AppLogResult> logs, IReadOnlyList<UidAttribution> uids, IReadOnlyList<AttributedAttempts> attributed, long unmatchedConnections, long forgottenSubmissions)
    {
        Logs = logs;
        Uids = uids;
        Attributed = attributed;
        UnmatchedConnections = unmatchedConnections;
        ForgottenSubmissions = forgottenSubmissions;
        foreach (UidAttribution u in uids)
        {
            Attempts += u.Attempts;
            Explained += u.Explained;
            Ambiguous += u.Ambiguous;
            Unexplained += u.Unexplained;
            Uncovered += u.Uncovered;
            Untimed += u.Untimed;
            NotOpening += u.NotOpening;
        }
    }

    /// <summary>Every attempt's decision in the kernel's order, when <see cref="MailScanOptions.TraceJoin"/> asked for them.</summary>
    internal IReadOnlyList<AppLogs.JoinDecision>? Trace { get; init; }

    /// <summary>The application logs read, in the order given.</summary>
    public IReadOnlyList<AppLogResult> Logs { get; }

    /// <summary>Per kernel UID (null: entries without one), most attempts first.</summary>
    public IReadOnlyList<UidAttribution> Uids { get; }

    /// <summary>Attributed attempts per kernel UID and application actor, most attempts first.</summary>
    public IReadOnlyList<AttributedAttempts> Attributed { get; }

    /// <summary>All attempts of the kernel log.</summary>
    public long Attempts { get; }

    /// <summary>Attempts explained by the application logs.</summary>
    public long Explained { get; }

    /// <summary>Attempts that lines of different actors could explain.</summary>
    public long Ambiguous { get; }

    /// <summary>Attempts in the time the application logs cover that none of their lines explains.</summary>
    public long Unexplained { get; }

    /// <summary>Attempts outside the time the application logs cover.</summary>
    public long Uncovered { get; }

    /// <summary>Attempts without a wall-clock time.</summary>
    public long Untimed { get; }

    /// <summary>Flows whose first logged packet is not a SYN (see <see cref="UidAttribution.NotOpening"/>).</summary>
    public long NotOpening { get; }

    /// <summary>Connections in the application logs that no kernel attempt matched (a LOG rule missing for them, or the kernel log covers another time).</summary>
    public long UnmatchedConnections { get; }

    /// <summary>Mail submissions forgotten before their delivery because more were waiting than the join keeps (their deliveries count as <see cref="AppActorKind.UnknownSubmitter"/>).</summary>
    public long ForgottenSubmissions { get; }

    /// <summary>True when a log of <paramref name="program"/> was read.</summary>
    /// <param name="program">The program.</param>
    /// <returns>Whether one of <see cref="Logs"/> is its.</returns>
    public bool Has(AppProgram program)
    {
        foreach (AppLogResult log in Logs)
        {
            if (log.Program == program)
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>The time rules of the join: when an application line and a kernel attempt may be the same connection.</summary>
/// <remarks>
/// Times are compared as intervals: a stamp to the second stands for that whole second. The kernel's SYN must fall in
/// the window the line gives: a Postfix delivery is logged after the connection, from <c>delays=</c>' connection set-up and
/// transmission times (c + d) before the line to the line; a Postfix <c>connect to … </c> failure up to
/// <see cref="ConnectTimeout"/> before; an Exim <c>=&gt;</c> / <c>**</c> line up to <see cref="EximDelivery"/> before, a deferral
/// with a connection error up to <see cref="ConnectTimeout"/> before; a proxy logs the request before it dials, so its SYN
/// follows the line within <see cref="ProxyDial"/>.
/// </remarks>
public static class AttributionRules
{
    /// <summary>How long after a proxy's access line its SYN may come when the destination is an address (the dial): 1 s.</summary>
    public static readonly TimeSpan ProxyDial = TimeSpan.FromSeconds(1);

    /// <summary>How long after a proxy's access line its SYN may come when the destination is a name (a DNS lookup first): 4 s.</summary>
    public static readonly TimeSpan ProxyDialNamed = TimeSpan.FromSeconds(4);

    /// <summary>How long before an Exim delivery line its SYN may come: 30 s.</summary>
    public static readonly TimeSpan EximDelivery = TimeSpan.FromSeconds(30);

    /// <summary>How long before a logged connection failure its first SYN may come (the kernel gives up on a SYN after about 130 s): 180 s.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(180);

    /// <summary>Slack added to a sub-second stamp on each side, for two programs' clocks read at different moments: 0.25 s.</summary>
    public static readonly TimeSpan Slack = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a <c>mail()</c> call in PHP's log and the mail server's local submission may be apart: 2 s.</summary>
    public static readonly TimeSpan PhpToSubmission = TimeSpan.FromSeconds(2);
}
