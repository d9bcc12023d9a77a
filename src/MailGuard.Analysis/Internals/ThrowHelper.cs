using System.Diagnostics.CodeAnalysis;

namespace MailGuard.Analysis.Internals;

/// <summary>Throws for a value an option cannot take, naming the option (not a parameter of the method that checks it).</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void Argument(string paramName, string message) =>
        throw new ArgumentException(message, paramName);
}
