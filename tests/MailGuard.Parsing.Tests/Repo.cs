namespace MailGuard.Parsing.Tests;

internal static class Repo
{
    /// <summary>The checkout's root (the folder holding MailGuard.sln).</summary>
    public static string Root { get; } = Find();

    public static string Samples => Path.Combine(Root, "samples", "logs");

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MailGuard.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("MailGuard.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Splits a file into lines the way a log reader does (LF; a final line without LF still counts).</summary>
    public static List<byte[]> Lines(string path)
    {
        byte[] data = File.ReadAllBytes(path);
        var lines = new List<byte[]>();
        int start = 0;
        for (int i = 0; i < data.Length; i++)
        {
            if (data[i] == (byte)'\n')
            {
                lines.Add(data[start..i]);
                start = i + 1;
            }
        }

        if (start < data.Length)
        {
            lines.Add(data[start..]);
        }

        return lines;
    }
}
