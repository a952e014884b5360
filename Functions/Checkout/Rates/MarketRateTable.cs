using System.Collections.ObjectModel;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Serverless.Checkout.Rates;

/// <summary>
/// The rules every rate table obeys, wherever it came from: code syntax, positive decimal rates, a bounded size,
/// and one stable order (the document's codes in the document's order, then any others in ordinal order), so two
/// reads of the same rates always list them alike.
/// </summary>
public static partial class MarketRateTable
{
    /// <summary>More codes than any real feed lists (Open Exchange Rates has about 200); a bigger table is a broken source.</summary>
    public const int MaxEntries = 500;

    private static readonly string[] DocumentOrder =
        ["BRL", "USD", "EUR", "JPY", "BTC", "ETH", "XLM", "XRP", "BNB", "MDA", "CELO", "HTR", "ADA", "AVAX", "MATIC", "SOL"];

    /// <summary>A base currency: 3 to 10 upper-case letters or digits.</summary>
    public static bool IsBaseCode(string? code) => code is not null && BaseCode().IsMatch(code);

    /// <summary>A rate's code: 2 to 10 upper-case letters or digits.</summary>
    public static bool IsRateCode(string? code) => code is not null && RateCode().IsMatch(code);

    /// <summary>A stored rate as a decimal, or null when it is not a positive decimal.</summary>
    public static decimal? Parse(string? rate) =>
        decimal.TryParse(rate, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : null;

    /// <summary>The rates in the table's order, read-only.</summary>
    public static IReadOnlyDictionary<string, string> Ordered(IEnumerable<KeyValuePair<string, string>> rates)
    {
        var ordered = new OrderedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (code, rate) in rates.OrderBy(r => Rank(r.Key)).ThenBy(r => r.Key, StringComparer.Ordinal))
            ordered[code] = rate;
        return new ReadOnlyDictionary<string, string>(ordered);
    }

    private static int Rank(string code) => Array.IndexOf(DocumentOrder, code) is var i and >= 0 ? i : DocumentOrder.Length;

    [GeneratedRegex("^[A-Z0-9]{3,10}$")]
    private static partial Regex BaseCode();

    [GeneratedRegex("^[A-Z0-9]{2,10}$")]
    private static partial Regex RateCode();
}
