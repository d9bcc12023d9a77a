using System.Globalization;
using System.Text.Json;
using MailGuard.Analysis;
using MailGuard.Parsing;

namespace MailGuard.Cli;

/// <summary>Renders the join with the application logs (<see cref="Attribution"/>): the "Behind the UIDs" table and its JSON.</summary>
internal static class AttributionReport
{
    private static readonly CultureInfo s_ci = CultureInfo.InvariantCulture;

    /// <summary>Each UID's attempts, what explained them (most attempts first), and the application logs read.</summary>
    public static void Table(TextWriter w, Attribution join, IReadOnlyDictionary<uint, string> names, int top)
    {
        w.WriteLine();
        w.WriteLine(string.Create(s_ci, $"Behind the UIDs, from the application logs ({join.Explained:N0} of {join.Attempts:N0} attempts explained)"));
        foreach (UidAttribution u in join.Uids.Take(top))
        {
            string who = u.Uid is { } uid ? (names.TryGetValue(uid, out string? n) ? string.Create(s_ci, $"uid {uid} ({n})") : string.Create(s_ci, $"uid {uid}")) : "no UID";
            foreach (string line in VerdictReport.Wrap(string.Create(s_ci, $"  {TerminalText.Escape(TerminalText.Fit(who, 40))}: {u.Attempts:N0} attempts, {Outcomes(u)}"), 80, "      "))
            {
                w.WriteLine(line);
            }

            foreach (AttributedAttempts a in join.Attributed.Where(a => a.Uid == u.Uid).Take(top))
            {
                foreach (string line in VerdictReport.Wrap(TerminalText.Escape(string.Create(s_ci, $"  {a.Attempts,8:N0}  {AttributionText.Describe(a.Actor, names)} ({a.Destinations:N0} dest.)")), 80, "              "))
                {
                    w.WriteLine(line);
                }
            }
        }

        if (join.Uids.Count > top)
        {
            w.WriteLine(string.Create(s_ci, $"  ({join.Uids.Count - top:N0} more UIDs: --top)"));
        }

        var notes = new List<string>
        {
            "The join: the same destination address and port, the SYN within the time the line allows; a line is one connection; an attempt that lines of different senders fit is ambiguous (counted, not guessed).",
            "Application logs: " + string.Join(", ", join.Logs.Select(Log)) + ".",
        };
        if (join.UnmatchedConnections > 0)
        {
            notes.Add(string.Create(s_ci, $"{join.UnmatchedConnections:N0} connections in them match no kernel attempt (a port without a LOG rule, or a time the kernel log lacks)."));
        }

        if (join.ForgottenSubmissions > 0)
        {
            notes.Add(string.Create(s_ci, $"{join.ForgottenSubmissions:N0} queued submissions were forgotten before their delivery (more were waiting than the join keeps)."));
        }

        foreach (string note in notes)
        {
            foreach (string line in VerdictReport.Wrap("  " + note, 80, "  "))
            {
                w.WriteLine(line);
            }
        }
    }

    private static string Log(AppLogResult l) =>
        TerminalText.Escape(string.Create(s_ci, $"{l.Name} ({AttributionText.Program(l.Program)}, {l.Lines:N0} lines, {l.Connections:N0} connections{(l.Error is { } e ? $", {e.Message}" : "")})"));

    private static string Outcomes(UidAttribution u)
    {
        var parts = new List<string> { string.Create(s_ci, $"{u.Explained:N0} explained") };
        if (u.Ambiguous > 0)
        {
            parts.Add(string.Create(s_ci, $"{u.Ambiguous:N0} ambiguous"));
        }

        parts.Add(string.Create(s_ci, $"{u.Unexplained:N0} unexplained"));
        if (u.Uncovered > 0)
        {
            parts.Add(string.Create(s_ci, $"{u.Uncovered:N0} outside the logs' time"));
        }

        if (u.Untimed > 0)
        {
            parts.Add(string.Create(s_ci, $"{u.Untimed:N0} without a date"));
        }

        if (u.NotOpening > 0)
        {
            parts.Add(string.Create(s_ci, $"{u.NotOpening:N0} not opened by a SYN"));
        }

        return string.Join(", ", parts);
    }

    /// <summary>The <c>attribution</c> object of the JSON report (null without application logs).</summary>
    public static void Json(Utf8JsonWriter j, Attribution? join, IReadOnlyDictionary<uint, string> names, int top)
    {
        if (join is null)
        {
            j.WriteNull("attribution");
            return;
        }

        j.WriteStartObject("attribution");
        j.WriteNumber("attempts", join.Attempts);
        j.WriteNumber("explained", join.Explained);
        j.WriteNumber("ambiguous", join.Ambiguous);
        j.WriteNumber("unexplained", join.Unexplained);
        j.WriteNumber("uncovered", join.Uncovered);
        j.WriteNumber("untimed", join.Untimed);
        j.WriteNumber("not_opening", join.NotOpening);
        j.WriteNumber("unmatched_connections", join.UnmatchedConnections);
        j.WriteNumber("forgotten_submissions", join.ForgottenSubmissions);
        j.WriteStartArray("logs");
        foreach (AppLogResult l in join.Logs)
        {
            j.WriteStartObject();
            j.WriteString("name", l.Name);
            j.WriteString("program", AttributionText.Program(l.Program));
            j.WriteNumber("lines", l.Lines);
            j.WriteNumber("used", l.Used);
            j.WriteNumber("connections", l.Connections);
            Report.Time(j, "first", l.First);
            Report.Time(j, "last", l.Last);
            Optional(j, "error", l.Error?.Message);

            j.WriteEndObject();
        }

        j.WriteEndArray();
        j.WriteStartArray("uids");
        foreach (UidAttribution u in join.Uids.Take(top))
        {
            j.WriteStartObject();
            Uid(j, u.Uid);
            if (u.Uid is { } uid && names.TryGetValue(uid, out string? n))
            {
                j.WriteString("user", n);
            }

            j.WriteNumber("attempts", u.Attempts);
            j.WriteNumber("explained", u.Explained);
            j.WriteNumber("ambiguous", u.Ambiguous);
            j.WriteNumber("unexplained", u.Unexplained);
            j.WriteNumber("uncovered", u.Uncovered);
            j.WriteNumber("untimed", u.Untimed);
            j.WriteNumber("not_opening", u.NotOpening);
            j.WriteEndObject();
        }

        j.WriteEndArray();
        j.WriteNumber("uids_total", join.Uids.Count);
        j.WriteStartArray("actors");
        foreach (AttributedAttempts a in join.Attributed.Take(top))
        {
            j.WriteStartObject();
            Uid(j, a.Uid);

            j.WriteString("program", AttributionText.Program(a.Actor.Program));
            j.WriteString("kind", Kind(a.Actor.Kind));
            j.WriteString("name", a.Actor.Name);
            Optional(j, "client", a.Actor.Client);
            Optional(j, "via", a.Actor.Via);
            Optional(j, "script", a.Actor.Script);
            j.WriteString("description", AttributionText.Describe(a.Actor, names));
            j.WriteNumber("attempts", a.Attempts);
            j.WriteNumber("destinations", a.Destinations);
            j.WriteString("first", a.First);
            j.WriteString("last", a.Last);
            j.WriteEndObject();
        }

        j.WriteEndArray();
        j.WriteNumber("actors_total", join.Attributed.Count);
        j.WriteEndObject();
    }

    private static string Kind(AppActorKind k) => k switch
    {
        AppActorKind.LocalUid => "local_uid",
        AppActorKind.LocalUser => "local_user",
        AppActorKind.SaslUser => "sasl_user",
        AppActorKind.NetworkClient => "network_client",
        AppActorKind.ProxyUser => "proxy_user",
        AppActorKind.ProxyClient => "proxy_client",
        AppActorKind.ProxyPort => "proxy_port",
        _ => "unknown_submitter",
    };

    private static void Optional(Utf8JsonWriter j, string name, string? value)
    {
        if (value is null)
        {
            j.WriteNull(name);
        }
        else
        {
            j.WriteString(name, value);
        }
    }

    private static void Uid(Utf8JsonWriter j, uint? uid)
    {
        if (uid is { } u)
        {
            j.WriteNumber("uid", u);
        }
        else
        {
            j.WriteNull("uid");
        }
    }
}
