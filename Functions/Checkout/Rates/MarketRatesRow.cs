using System.Text.Json;
using Azure;
using Azure.Data.Tables;

namespace Serverless.Checkout.Rates;

/// <summary>
/// The latest rates fetched, one row for the whole app: PK = <c>rates</c>, RK = <c>latest</c>. The rates are a JSON
/// object of decimal strings in the table's order (<c>{"BRL":"1.00","USD":"0.19",...}</c>); 500 entries stay well
/// under a property's 64 KB.
/// </summary>
public sealed record MarketRatesRow : ITableEntity
{
    public const string Partition = "rates";
    public const string Latest = "latest";

    public string PartitionKey { get; set; } = Partition;
    public string RowKey { get; set; } = Latest;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string Base { get; set; } = "";
    public string RatesJson { get; set; } = "{}";

    /// <summary>When the rates were fetched from the source.</summary>
    public DateTimeOffset AsOf { get; set; }

    public static MarketRatesRow From(MarketRatesSnapshot snapshot) => new()
    {
        Base = snapshot.Base, RatesJson = JsonSerializer.Serialize(snapshot.Rates), AsOf = snapshot.AsOf,
    };

    /// <summary>The stored rates, or null when the row does not hold a usable table (then it is treated as absent).</summary>
    public MarketRatesSnapshot? ToSnapshot()
    {
        if (!MarketRateTable.IsBaseCode(Base))
            return null;
        try
        {
            var rates = JsonSerializer.Deserialize<Dictionary<string, string>>(RatesJson);
            if (rates is null || rates.Count == 0
                || rates.Any(r => !MarketRateTable.IsRateCode(r.Key) || MarketRateTable.Parse(r.Value) is null))
                return null;
            return new MarketRatesSnapshot(Base, MarketRateTable.Ordered(rates), AsOf);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
