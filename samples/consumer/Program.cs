// A program that uses MailGuard.Parsing as a package user would: the packed .nupkg from a feed, one call, the report.
// It prints the top-10 tables of destinations, ports, UIDs and sources as CSV, in the columns and order of
// `mgscan --format csv`, so that run.sh can compare the two outputs line by line.
using System.Globalization;
using MailGuard.Parsing;

if (args.Length == 0)
{
    Console.Error.WriteLine("usage: MailGuard.Consumer LOG...");
    return 2;
}

MailScanReport report = await MailScan.FilesAsync(args);
foreach (MailInputResult input in report.Inputs)
{
    if (input.Error is { } error)
    {
        Console.Error.WriteLine($"{input.Name}: {error.Message}");
        return 2;
    }
}

const int Top = 10;
Console.WriteLine("section,key,count,distinct_destinations,first,last");
foreach ((NetAddress address, KeyStat stat) in report.Destinations.Top(Top))
{
    Row("destination", address.ToString(), stat);
}

foreach ((ushort port, KeyStat stat) in report.Ports.Top(Top))
{
    Row("port", port.ToString(CultureInfo.InvariantCulture), stat);
}

foreach ((uint uid, KeyStat stat) in report.Uids.Top(Top))
{
    Row("uid", uid.ToString(CultureInfo.InvariantCulture), stat);
}

if (report.Stats.WithoutUid.Count > 0)
{
    Row("uid", "", report.Stats.WithoutUid); // the entries without UID=: an empty key
}

foreach ((NetAddress address, KeyStat stat) in report.Sources.Top(Top))
{
    Row("source", address.ToString(), stat);
}

return report.All.Count > 0 ? 0 : 1;

// Numbers and addresses need no CSV quoting; times are ISO 8601 with their offset, empty when the log gave none.
static void Row(string section, string key, KeyStat stat) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{section},{key},{stat.Count},{stat.DistinctDestinations},{stat.First:o},{stat.Last:o}"));
