namespace Serverless.Checkout.Rates;

/// <summary>
/// The rates the checkout document shows (BRL base), used only when no rate source is configured (development and
/// tests), so a checkout can be priced without an outside service. Never used once a source is set.
/// </summary>
public static class FixedMarketRates
{
    /// <summary>The date the fixed table claims to be from: the day it was copied from the document.</summary>
    public static readonly DateTimeOffset AsOf = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    public const string Base = "BRL";

    /// <summary>The document's table, in the document's order.</summary>
    public static readonly IReadOnlyList<KeyValuePair<string, string>> Table =
    [
        new("BRL", "1.00"), new("USD", "0.19"), new("EUR", "0.17"), new("JPY", "25.19"), new("BTC", "0.00000791"),
        new("ETH", "0.00011354"), new("XLM", "2.4025"), new("XRP", "0.519459"), new("BNB", "0.00061351"), new("MDA", "3.844"),
        new("CELO", "0.32033333"), new("HTR", "2.74"), new("ADA", "0.549142"), new("AVAX", "0.01150898"),
        new("MATIC", "0.16016667"), new("SOL", "0.009048964"),
    ];

    public static MarketRatesSnapshot Snapshot { get; } = new(Base, MarketRateTable.Ordered(Table), AsOf);
}
