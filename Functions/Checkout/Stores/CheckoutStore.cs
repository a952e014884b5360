using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Storage;

namespace Serverless.Checkout.Stores;

/// <summary>
/// A wallet of a store on one blockchain protocol: where a customer's crypto transfer goes. The address is 20 to 128
/// letters, digits, ':', '.', '_' or '-'; on an EVM protocol (ETHEREUM, BSC, CELO, AVAXCCHAIN, POLYGON) it is 0x and 40
/// hex digits.
/// </summary>
public sealed record StoreWallet(
    [property: JsonPropertyName("protocol"),
     AllowedValues("BITCOIN", "ETHEREUM", "BSC", "CELO", "STELLAR", "RIPPLE", "HATHOR", "CARDANO", "AVAXCCHAIN", "POLYGON", "SOLANA")]
    string Protocol,
    [property: JsonPropertyName("address"), RegularExpression("^[A-Za-z0-9:._-]{20,128}$")] string Address);

/// <summary>
/// A store, one row in its own partition of <c>checkoutstores</c> (PK = store id). Its API key is a platform API
/// client of kind <c>store</c> whose client id is the store id, so the key, its hash and its disabling live where
/// every API client's do. The webhook secret that signs its callbacks is kept sealed (<c>SecretSealer</c>): the
/// store reads it back through the verification endpoint, so it cannot be a hash.
/// </summary>
public sealed record CheckoutStore : IStampedRow
{
    public const string Row = "store";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = Row;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string? OperationId { get; set; }

    public string Name { get; set; } = "";
    public string Email { get; set; } = "";
    public string Segment { get; set; } = "";
    public string StoreUrl { get; set; } = "";
    public string UserId { get; set; } = "";

    /// <summary>Percentages as decimal strings ("0" to "100"), as the document shows them.</summary>
    public string MarkupPercentage { get; set; } = "0";
    public string DiscountPercentage { get; set; } = "0";

    /// <summary>The wallets, JSON (<see cref="StoreWallet"/>[]), at most one per protocol.</summary>
    public string WalletsJson { get; set; } = "[]";

    public string SealedWebhookSecret { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    [System.Runtime.Serialization.IgnoreDataMember]
    public string Id => PartitionKey;

    [System.Runtime.Serialization.IgnoreDataMember]
    public IReadOnlyList<StoreWallet> Wallets => JsonSerializer.Deserialize<List<StoreWallet>>(WalletsJson) ?? [];

    public CheckoutStore WithWallets(IEnumerable<StoreWallet> wallets) => this with { WalletsJson = JsonSerializer.Serialize(wallets.ToList()) };
}

/// <summary>
/// The protocols a store can hold a wallet on, each with the coin its amounts are converted to (the market rates'
/// code) and how many decimals the page shows. The OpenAPI document lists their names too
/// (<see cref="StoreWallet"/>'s and <see cref="ConfirmTransferRequest"/>'s <c>AllowedValues</c>, and the wallets'
/// <c>MaxLength</c> in <see cref="StoreSettingsRequest"/>): a protocol added here is added there.
/// </summary>
public static class Protocols
{
    public sealed record Protocol(string Name, string Coin, int Decimals);

    public static readonly IReadOnlyDictionary<string, Protocol> All = new[]
    {
        new Protocol("BITCOIN", "BTC", 8),
        new Protocol("ETHEREUM", "ETH", 8),
        new Protocol("BSC", "BNB", 8),
        new Protocol("CELO", "CELO", 6),
        new Protocol("STELLAR", "XLM", 7),
        new Protocol("RIPPLE", "XRP", 6),
        new Protocol("HATHOR", "HTR", 2),
        new Protocol("CARDANO", "ADA", 6),
        new Protocol("AVAXCCHAIN", "AVAX", 8),
        new Protocol("POLYGON", "MATIC", 8),
        new Protocol("SOLANA", "SOL", 9),
    }.ToDictionary(p => p.Name, StringComparer.Ordinal);
}
