using System.Diagnostics;
using System.Globalization;
using MailGuard.LogGen;

if (args.Length > 0 && args[0] == "flood")
{
    return Flood.Run(args[1..]);
}

Options? o = Options.Parse(args, out string? error, out bool help);
if (help)
{
    Console.Out.Write(Options.Usage);
    Console.Out.WriteLine();
    return 0;
}

if (o is null)
{
    Console.Error.WriteLine($"loggen: {error}");
    Console.Error.WriteLine();
    Console.Error.Write(Options.Usage);
    Console.Error.WriteLine();
    return 2;
}

var clock = Stopwatch.StartNew();
var generator = new Generator(o);
try
{
    using (var log = new FileStream(o.Out, FileMode.Create, FileAccess.Write, FileShare.Read, 1, FileOptions.SequentialScan))
    {
        generator.Run(log);
    }

    using var json = new FileStream(o.Out + ".expected.json", FileMode.Create, FileAccess.Write, FileShare.Read);
    generator.Tally.WriteJson(json, o, generator.Boot, generator.SecondResolution, generator.LinesWritten, generator.BytesWritten);
    json.WriteByte((byte)'\n');
}
catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"loggen: {ex.Message}");
    return 1;
}

double seconds = clock.Elapsed.TotalSeconds;
Console.Error.WriteLine(string.Create(
    CultureInfo.InvariantCulture,
    $"loggen: {o.Out}: {generator.LinesWritten} lines, {generator.BytesWritten} bytes, {generator.Tally.Entries} entries in {seconds:F2} s ({generator.BytesWritten / (1024.0 * 1024.0) / seconds:F0} MiB/s)"));
return 0;
