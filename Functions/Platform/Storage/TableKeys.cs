using System.Globalization;
using System.Text;

namespace Serverless.Platform.Storage;

/// <summary>
/// Key helpers. Table keys may not hold <c>/ \ # ?</c> or control characters, so user-supplied values are escaped
/// (<c>%XX</c>) before they become keys; numbers are fixed-width so that keys sort the way the numbers do.
/// </summary>
public static class TableKeys
{
    public static string Escape(string value)
    {
        StringBuilder? builder = null;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c is '/' or '\\' or '#' or '?' or '%' || char.IsControl(c))
            {
                builder ??= new StringBuilder(value, 0, i, value.Length + 8);
                builder.Append('%').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            }
            else
            {
                builder?.Append(c);
            }
        }
        return builder?.ToString() ?? value;
    }

    /// <summary>A non-negative number as a key that sorts in numeric order.</summary>
    public static string Number(long value) => value.ToString("D19", CultureInfo.InvariantCulture);

    /// <summary>A key that sorts newest first: the ticks remaining until the end of time.</summary>
    public static string NewestFirst(DateTimeOffset at) =>
        (DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks).ToString("D19", CultureInfo.InvariantCulture);

    /// <summary>An OData string literal for a filter, quotes doubled.</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
