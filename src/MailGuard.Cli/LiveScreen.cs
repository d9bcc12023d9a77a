using System.Globalization;
using System.Text;
using MailGuard.Analysis;
using MailGuard.Parsing;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace MailGuard.Cli;

/// <summary>What one screen of the live view shows: a snapshot of the scan, its verdict, and where and since when it is read.</summary>
/// <param name="Report">The snapshot (null before the first one).</param>
/// <param name="Verdict">Its verdict (null before the first snapshot).</param>
/// <param name="Source">What is read: "standard input" or the followed files.</param>
/// <param name="Running">How long mgscan has been reading.</param>
/// <param name="Now">The time of the frame (for "12 s ago").</param>
internal sealed record LiveFrame(MailScanReport? Report, SpamVerdict? Verdict, string Source, TimeSpan Running, DateTimeOffset Now);

/// <summary>
/// One screen of the live view, laid out for the terminal's size each time it is drawn (a resized terminal gets a new
/// layout at the next refresh): a header, lines/entries/not counted and the last entry's time, the verdict so far,
/// attempts per minute as a sparkline, the actors with their attempts per mail port, the top destinations. Every text
/// that may come from a log goes through <see cref="TerminalText"/> and is drawn as plain text, never as Spectre markup.
/// </summary>
internal sealed class LiveScreen(LiveFrame frame) : Renderable
{
    /// <summary>What the next drawing shows.</summary>
    public LiveFrame Frame { get; set; } = frame;

    private const string Bars = " ▁▂▃▄▅▆▇█";
    private static readonly CultureInfo s_ci = CultureInfo.InvariantCulture;
    private static readonly Style s_header = new(decoration: Decoration.Invert);
    private static readonly Style s_title = new(decoration: Decoration.Bold);
    private static readonly Style s_dim = new(decoration: Decoration.Dim);
    private static readonly Style s_bars = new(Spectre.Console.Color.Yellow);

    /// <summary>A line: spans of text with their style.</summary>
    private sealed class Line : List<(string Text, Style Style)>
    {
        public Line Add(string text, Style? style = null)
        {
            Add((text, style ?? Style.Plain));
            return this;
        }
    }

    protected override IEnumerable<Segment> Render(RenderOptions options, int maxWidth)
    {
        List<List<Segment>> lines = Fitted(Frame, maxWidth, Math.Max(1, options.ConsoleSize.Height - 1)); // the last row stays free: nothing scrolls
        for (int i = 0; i < lines.Count; i++)
        {
            foreach (Segment s in lines[i])
            {
                yield return s;
            }

            if (i < lines.Count - 1)
            {
                yield return Segment.LineBreak;
            }
        }
    }

    /// <summary>The screen as plain text lines (for tests: what the terminal shows, without styles).</summary>
    public static IReadOnlyList<string> Text(LiveFrame frame, int width, int height) =>
        [.. Fitted(frame, width, height).Select(l => string.Concat(l.Select(s => s.Text)))];

    /// <summary>The lines as styled segments, each cut to <paramref name="width"/> terminal cells.</summary>
    private static List<List<Segment>> Fitted(LiveFrame frame, int width, int height) =>
        [.. Lines(frame, width, height).Select(l => Segment.Truncate(l.Select(span => new Segment(span.Text, span.Style)), width))];

    /// <summary>The lines of a screen of <paramref name="width"/> × <paramref name="height"/>: every part that fits, in order of importance.</summary>
    private static List<Line> Lines(LiveFrame f, int width, int height)
    {
        var top = new List<Line> { Header(f, width), Counts(f, width) };
        if (f.Report is not { } report || f.Verdict is not { } verdict)
        {
            top.Add(new Line());
            top.Add(new Line().Add("waiting for the first lines…", s_dim));
            return [.. top.Take(height)];
        }

        // What fits, in order of importance: the verdict's headline, the actors, the sparkline, the summary, the destinations.
        // A stream still being read is no all-clear: "nothing suspicious" says how little it rests on.
        string said = verdict.Class == VerdictClass.NothingSuspicious
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"nothing suspicious yet in the {verdict.Stats.All.Count:N0} entries read (the stream goes on)")
            : verdict.Headline;
        List<Line> headline = Wrap("VERDICT so far: " + said, width, "                ", 2, Colour(verdict.Class));
        List<Line> summary = Wrap(verdict.Summary, width, "", 3, s_dim);
        List<Line> spark = Sparkline(verdict, width);
        Actor[] actors = [.. verdict.Actors.Where(a => a.MailAttempts > 0)];
        IReadOnlyList<KeyValuePair<NetAddress, KeyStat>> destinations = verdict.Stats.Destinations.Top(height);
        long entries = verdict.Stats.All.Count;

        int left = height - top.Count - 1 - headline.Count;
        bool showActors = left >= 3 && actors.Length > 0;
        left -= showActors ? 3 : 0; // a blank line, the column names, one row
        bool showSpark = left >= spark.Count + 1;
        left -= showSpark ? spark.Count + 1 : 0;
        bool showSummary = left >= summary.Count && summary.Count > 0;
        left -= showSummary ? summary.Count : 0;
        bool sideBySide = width >= 140 && showActors && destinations.Count > 0;
        bool showDestinations = destinations.Count > 0 && (sideBySide || left >= 3);
        left -= showDestinations && !sideBySide ? 3 : 0;

        // The rows left go to the actors first (all of them, or two thirds when the destinations are below), then to the destinations.
        int actorRows = showActors ? 1 + Math.Min(actors.Length - 1, Math.Max(0, showDestinations && !sideBySide ? left - (left / 3) : left)) : 0;
        left -= Math.Max(0, actorRows - 1);
        int destinationRows = showDestinations ? (sideBySide ? Math.Max(actorRows, Math.Min(destinations.Count, actorRows + left)) : 1 + Math.Min(destinations.Count - 1, Math.Max(0, left))) : 0;

        var lines = top;
        lines.Add(new Line());
        lines.AddRange(headline);
        if (showSummary)
        {
            lines.AddRange(summary);
        }

        if (showSpark)
        {
            lines.Add(new Line());
            lines.AddRange(spark);
        }

        List<Line> actorTable = showActors ? Actors(actors, actorRows, sideBySide ? (width - 3) / 2 : width) : [];
        List<Line> destinationTable = showDestinations ? Destinations(destinations, destinationRows, entries, sideBySide ? width - ((width - 3) / 2) - 3 : width) : [];
        if (sideBySide)
        {
            lines.Add(new Line());
            int paneWidth = (width - 3) / 2;
            for (int i = 0; i < Math.Max(actorTable.Count, destinationTable.Count); i++)
            {
                var line = new Line();
                if (i < actorTable.Count)
                {
                    line.AddRange(actorTable[i]);
                }

                line.Add(new string(' ', Math.Max(0, paneWidth - Cells(line))) + "   ");
                if (i < destinationTable.Count)
                {
                    line.AddRange(destinationTable[i]);
                }

                lines.Add(line);
            }
        }
        else
        {
            if (showActors)
            {
                lines.Add(new Line());
                lines.AddRange(actorTable);
            }

            if (showDestinations)
            {
                lines.Add(new Line());
                lines.AddRange(destinationTable);
            }
        }

        return [.. lines.Take(height)];
    }

    private static Line Header(LiveFrame f, int width)
    {
        string left = $" mgscan live: {TerminalText.Escape(f.Source)}, {Elapsed(f.Running)}";
        const string Right = "Ctrl+C: stop and print the report ";
        string text = left.Length + Right.Length + 2 <= width ? left + new string(' ', width - left.Length - Right.Length) + Right : left.PadRight(width);
        return new Line().Add(text, s_header);
    }

    private static Line Counts(LiveFrame f, int width)
    {
        var line = new Line();
        if (f.Report is not { } r)
        {
            return line.Add(" lines 0  entries 0");
        }

        ScanTotals t = r.Totals;
        long notCounted = Report.NotCounted(t).Sum(p => p.Lines);
        string counts = string.Create(s_ci, $" lines {t.Lines:N0}  entries {t.Entries:N0}  not counted {notCounted:N0}");
        line.Add(counts);
        KeyStat all = r.Stats.All;
        if (all.Last is { } last)
        {
            TimeSpan ago = f.Now - last;
            string agoText = ago >= TimeSpan.Zero && ago < TimeSpan.FromHours(1) ? $" ({Ago(ago)} ago)" : "";
            string when = string.Create(s_ci, $"  last entry {last:yyyy-MM-dd HH:mm:ss}");
            line.Add(counts.Length + when.Length + agoText.Length <= width ? when : string.Create(s_ci, $"  last entry {last:HH:mm:ss}")); // the date goes first on a narrow screen
            line.Add(agoText, s_dim);
        }
        else if (all.LastUptime is { } up)
        {
            line.Add($"  last entry {BootTime.Format(up, seconds: true)}");
        }

        return line;
    }

    /// <summary>Mail attempts per minute up to the last entry's minute, one mark a minute, scaled to the highest minute shown.</summary>
    private static List<Line> Sparkline(SpamVerdict v, int width)
    {
        const int Label = 7;
        ClockKind clock = v.Clock;
        if (v.All.AttemptTimeline?.On(clock) is not { Count: > 0 } timeline || timeline.Buckets(TimeSpan.FromMinutes(1)) is not { Count: > 0 } minutes)
        {
            return [new Line().Add("Attempts per minute: none with a time yet", s_title)];
        }

        int columns = Math.Max(1, width - Label - 1);
        TimeBucket[] shown = [.. minutes.Skip(Math.Max(0, minutes.Count - columns))];
        long peak = shown.Max(b => b.Count);
        TimeBucket busiest = shown.First(b => b.Count == peak);
        bool boot = clock == ClockKind.Uptime;
        string At(TimeBucket b) => boot ? BootTime.Format(b.SinceBoot) : b.Start.ToLocalTime().ToString("HH:mm", s_ci);
        var bars = new StringBuilder(shown.Length);
        foreach (TimeBucket b in shown)
        {
            bars.Append(b.Count == 0 ? Bars[0] : Bars[(int)Math.Max(1, Math.Round(8.0 * b.Count / peak))]);
        }

        string first = At(shown[0]);
        string last = At(shown[^1]);
        return
        [
            new Line().Add("Attempts per minute", s_title).Add(string.Create(s_ci, $"  last {shown.Length} min{(boot ? " (time since boot)" : "")}, peak {peak:N0} at {At(busiest)}"), s_dim),
            new Line().Add(string.Create(s_ci, $"{peak,6:N0} ")).Add(bars.ToString(), s_bars),
            new Line().Add(new string(' ', Label) + first + (shown.Length > first.Length + last.Length ? new string(' ', shown.Length - first.Length - last.Length) + last : ""), s_dim),
        ];
    }

    /// <summary>The actors' table: the label's width is what the numbers leave; narrow screens drop the less telling columns.</summary>
    private static List<Line> Actors(Actor[] actors, int rows, int width)
    {
        (string Name, int Width, Func<Actor, string> Value)[] columns =
        [
            ("attempts", 8, a => Report.Approx(a.Stat.CountError > 0) + a.MailAttempts.ToString("N0", s_ci)),
            ("share", 5, a => string.Create(s_ci, $"{a.Share * 100:0}%")),
            ("dests", 6, a => Report.Approx(a.Stat.DistinctDestinationsEstimated) + a.Stat.DistinctDestinations.ToString("N0", s_ci)),
            ("25", 6, a => a.AttemptsTo(25).ToString("N0", s_ci)),
            ("465", 5, a => a.AttemptsTo(465).ToString("N0", s_ci)),
            ("587", 6, a => a.AttemptsTo(587).ToString("N0", s_ci)),
            ("peak/min", 8, a => a.PeakMinute is { } p ? p.Count.ToString("N0", s_ci) : "-"),
        ];
        int[] dropOrder = [6, 4, 5, 2, 1]; // peak/min, 465, 587, dests, share
        var kept = columns.Select((c, i) => i).ToList();
        int Needed() => kept.Sum(i => columns[i].Width + 1);
        foreach (int drop in dropOrder)
        {
            if (width - 2 - Needed() >= 12)
            {
                break;
            }

            kept.Remove(drop);
        }

        int label = Math.Max(6, width - 2 - Needed());
        var lines = new List<Line>();
        var head = new StringBuilder("  ").Append((label >= 25 ? "who sends mail (attempts)" : "actor").PadRight(label)[..label]);
        foreach (int i in kept)
        {
            head.Append(' ').Append(columns[i].Name.PadLeft(columns[i].Width));
        }

        lines.Add(new Line().Add(head.ToString(), s_title));
        foreach (Actor a in actors.Take(rows))
        {
            var row = new StringBuilder("  ").Append(TerminalText.Fit(a.Label, label).PadRight(label));
            foreach (int i in kept)
            {
                row.Append(' ').Append(columns[i].Value(a).PadLeft(columns[i].Width));
            }

            lines.Add(new Line().Add(row.ToString()));
        }

        return lines;
    }

    private static List<Line> Destinations(IReadOnlyList<KeyValuePair<NetAddress, KeyStat>> destinations, int rows, long total, int width)
    {
        int key = Math.Clamp(width - 2 - 28, 6, 39);
        bool last = width >= 2 + key + 28;
        var lines = new List<Line>
        {
            new Line().Add(string.Create(s_ci, $"  {"top destinations".PadRight(key)[..key]} {"entries",10} {"share",6}{(last ? $" {"last",-9}" : "")}"), s_title),
        };
        foreach ((NetAddress address, KeyStat stat) in destinations.Take(rows))
        {
            double share = total == 0 ? 0 : 100.0 * stat.Count / total;
            string when = stat.Last?.ToString("HH:mm:ss", s_ci) ?? (stat.LastUptime is { } up ? BootTime.Format(up) : "-");
            string count = Report.Approx(stat.CountError > 0) + stat.Count.ToString("N0", s_ci);
            lines.Add(new Line().Add(string.Create(s_ci, $"  {TerminalText.Fit(address.ToString(), key).PadRight(key)} {count,10} {share,5:0.0}%{(last ? $" {when,-9}" : "")}")));
        }

        return lines;
    }

    /// <summary>The text, escaped, wrapped to <paramref name="width"/> in at most <paramref name="most"/> lines (the last one cut with "…").</summary>
    private static List<Line> Wrap(string text, int width, string indent, int most, Style style)
    {
        IReadOnlyList<string> wrapped = [.. VerdictReport.Wrap(TerminalText.Escape(text), width, indent)];
        var lines = wrapped.Take(most).Select(l => new Line().Add(l, style)).ToList();
        if (wrapped.Count > most && lines.Count > 0)
        {
            string cut = wrapped[most - 1];
            lines[^1] = new Line().Add(cut.Length + 1 < width ? cut + "…" : cut[..Math.Max(0, width - 1)] + "…", style);
        }

        return lines;
    }

    private static Style Colour(VerdictClass c) => c switch
    {
        VerdictClass.DirectToMx or VerdictClass.ProxyRelay or VerdictClass.RelayAbuse or VerdictClass.ForgedLog => new Style(Spectre.Console.Color.Red, decoration: Decoration.Bold),
        VerdictClass.NothingSuspicious => new Style(Spectre.Console.Color.Green, decoration: Decoration.Bold),
        _ => new Style(Spectre.Console.Color.Yellow, decoration: Decoration.Bold),
    };

    private static int Cells(Line line) => line.Sum(s => new Segment(s.Text).CellCount());

    private static string Elapsed(TimeSpan t) => t.TotalHours >= 1
        ? string.Create(s_ci, $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}")
        : string.Create(s_ci, $"{t.Minutes}:{t.Seconds:00}");

    private static string Ago(TimeSpan t) => t.TotalMinutes >= 1 ? string.Create(s_ci, $"{(int)t.TotalMinutes} min") : string.Create(s_ci, $"{(int)t.TotalSeconds} s");
}
