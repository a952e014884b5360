using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Storage;

namespace Serverless.Commerce.Catalog;

public static class DistributionTypes
{
    /// <summary>The service picks any token for sale.</summary>
    public const string Random = "random";

    /// <summary>The buyer names the token (<c>productTokenId</c>).</summary>
    public const string Fixed = "fixed";

    /// <summary>The service picks the token for sale with the lowest number.</summary>
    public const string Sequential = "sequential";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Random, Fixed, Sequential };
}

public static class TokenStatus
{
    public const string Publishing = "publishing";
    public const string ForSale = "for_sale";
    public const string Sold = "sold";
    public const string Locked = "locked";
    public const string LockedByBooking = "locked_by_booking";
    public const string Cancelled = "cancelled";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
        { Publishing, ForSale, Sold, Locked, LockedByBooking, Cancelled };

    /// <summary>
    /// Booking and selling are the order's moves; an admin moves tokens between the others (a booked or sold token is
    /// the order's until the order lets it go).
    /// </summary>
    public static readonly StateMachine Moves = new("product token",
        (Publishing, ForSale), (Publishing, Cancelled), (Publishing, Locked),
        (ForSale, LockedByBooking), (ForSale, Locked), (ForSale, Cancelled), (ForSale, Publishing),
        (Locked, ForSale), (Locked, Cancelled),
        (LockedByBooking, ForSale), (LockedByBooking, Sold));
}

/// <summary>Payment providers of the document; the ones this service can take money with are <see cref="Supported"/>.</summary>
public static class CommerceProviders
{
    public const string Stripe = "stripe";
    public const string Transfer = "transfer";
    public const string Free = "free";

    /// <summary>The platform's sandbox (a hosted test checkout), for development.</summary>
    public const string Sandbox = "sandbox";

    public static readonly IReadOnlySet<string> Documented = new HashSet<string>(StringComparer.Ordinal)
        { Stripe, "paypal", "pagar_me", "asaas", Transfer, "crypto", Free };

    public static readonly IReadOnlySet<string> Supported = new HashSet<string>(StringComparer.Ordinal) { Stripe, Transfer, Free, Sandbox };

    /// <summary>Providers whose money arrives through the payments platform's intents.</summary>
    public static bool UsesIntents(string provider) => provider is Stripe or Sandbox;
}

public static class PaymentMethods
{
    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
        { "credit_card", "pix", "crypto", "transfer", "boleto", "debit_card" };
}

/// <summary>
/// A currency buyers can pay in, shared by every company: PK = <c>currency</c>, RK = its id (a UUID, as the document
/// shows). <see cref="Code"/> is its ISO 4217 code, which fixes its minor digits.
/// </summary>
public sealed record CommerceCurrency : ITableEntity
{
    public const string Partition = "currency";

    public string PartitionKey { get; set; } = Partition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Code { get; set; } = "";
    public string Name { get; set; } = "";
    public string Symbol { get; set; } = "";

    public string Id => RowKey;
}

/// <summary>
/// A company's partition holds its settings (RK <c>company</c>), its payment options (RK
/// <c>payment|currencyId|method</c>), its gas fees (RK <c>gas|currencyId</c>) and its coupons (RK
/// <c>coupon|CODE</c>): what a preview needs is one partition read.
/// </summary>
public sealed record CommerceCompany : IStampedRow
{
    public const string Row = "company";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = Row;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    /// <summary>Stamped by the transition seam: every admin change of the partition goes through this row's ETag.</summary>
    public string? OperationId { get; set; }

    public string Name { get; set; } = "";

    /// <summary>The client service fee, in basis points of the cart price (250 = 2.5%).</summary>
    public int ClientServiceFeeBasisPoints { get; set; }

    /// <summary>How long after an order the same buyer's order of the same products counts as "similar".</summary>
    public int SimilarOrderWindowSeconds { get; set; } = 300;

    public bool Disabled { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    public string Id => PartitionKey;
}

/// <summary>Who takes the money of an order paid in one currency by one method: RK = <c>payment|currencyId|method</c>.</summary>
public sealed record CompanyPaymentOption : ITableEntity
{
    public const string Prefix = "payment|";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string CurrencyId { get; set; } = "";
    public string PaymentMethod { get; set; } = "";
    public string Provider { get; set; } = "";

    /// <summary>How long an unpaid order of this provider lives (the document's 9 minutes by default).</summary>
    public int ExpiryMinutes { get; set; } = 9;

    public static string RowKeyFor(string currencyId, string method) => Prefix + currencyId + "|" + method;
}

/// <summary>The gas fee a company's orders in one currency carry, in minor units: RK = <c>gas|currencyId</c>.</summary>
public sealed record CompanyGasFee : ITableEntity
{
    public const string Prefix = "gas|";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string CurrencyId { get; set; } = "";
    public long AmountMinor { get; set; }

    public static string RowKeyFor(string currencyId) => Prefix + currencyId;
}

/// <summary>A coupon of a company: RK = <c>coupon|CODE</c> (codes compare case-insensitively).</summary>
public sealed record CompanyCoupon : ITableEntity
{
    public const string Prefix = "coupon|";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Code { get; set; } = "";

    /// <summary>The discount on the cart price, in basis points (1000 = 10%).</summary>
    public int DiscountBasisPoints { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }
    public bool Active { get; set; } = true;

    public static string RowKeyFor(string code) => Prefix + TableKeys.Escape(code.Trim().ToUpperInvariant());

    public bool IsValid(DateTimeOffset now) => Active && (ExpiresAt is null || now < ExpiresAt);
}

/// <summary>One price of a product, in minor units of its currency.</summary>
public sealed record ProductPrice(string CurrencyId, long AmountMinor);

/// <summary>A product of a company: PK = company id, RK = product id (UUID).</summary>
public sealed record CommerceProduct : IStampedRow
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    /// <summary>Stamped by the transition seam, so a token reservation whose answer was lost is recognised.</summary>
    public string? OperationId { get; set; }

    public string Name { get; set; } = "";
    public string Description { get; set; } = "";
    public string DistributionType { get; set; } = DistributionTypes.Random;

    /// <summary>The prices, JSON of <see cref="ProductPrice"/>: one per currency the product is sold in.</summary>
    public string PricesJson { get; set; } = "[]";

    /// <summary>Tokens are numbered from 1 in the order they were added (the sequential distribution follows it).</summary>
    public int TokenCount { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public string Id => RowKey;
    public string CompanyId => PartitionKey;

    public IReadOnlyList<ProductPrice> Prices() => JsonSerializer.Deserialize<List<ProductPrice>>(PricesJson) ?? [];

    public ProductPrice? PriceIn(string currencyId) => Prices().FirstOrDefault(p => p.CurrencyId == currencyId);

    public static string PricesToJson(IEnumerable<ProductPrice> prices) => JsonSerializer.Serialize(prices.ToList());
}

/// <summary>
/// One token of a product: PK = <c>companyId|productId</c>, RK = the token's id (UUID). A booking names its order
/// (<see cref="OrderPartition"/>, <see cref="OrderId"/>) and lasts until <see cref="BookedUntil"/>: after that, the
/// next buyer may take it once the order is settled (expired, or never written).
/// </summary>
public sealed record ProductToken : IStampedRow, IStatefulRow
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string? OperationId { get; set; }

    public string CompanyId { get; set; } = "";
    public string ProductId { get; set; } = "";

    /// <summary>The token's place in its product, from 1.</summary>
    public int Number { get; set; }

    public string Status { get; set; } = TokenStatus.ForSale;

    /// <summary>Only this buyer (<see cref="CommerceCaller.UserId"/>) may buy the token ("fixed user match").</summary>
    public string? FixedUserId { get; set; }

    public string? OrderPartition { get; set; }
    public string? OrderId { get; set; }
    public DateTimeOffset? BookedUntil { get; set; }

    /// <summary>Whom a sold token went to, and where it was delivered.</summary>
    public string? OwnerUserId { get; set; }
    public string? WalletAddress { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    StateMachine IStatefulRow.Moves => TokenStatus.Moves;

    public string Id => RowKey;

    public static string PartitionFor(string companyId, string productId) => companyId + "|" + productId;

    /// <summary>
    /// The id of a product's token number <paramref name="number"/>: derived, not random, so a batch insert whose answer
    /// was lost meets its own rows on the retry instead of adding others.
    /// </summary>
    public static string IdFor(string productId, int number)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(productId.ToLowerInvariant() + "#" + number));
        var bytes = hash.AsSpan(0, 16).ToArray();
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80); // version 8 (custom), RFC 9562
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Guid(bytes, bigEndian: true).ToString();
    }
}

/// <summary>
/// The claim on a currency code (PK <c>currency-code</c>, RK the ISO code), so two currencies never share a code. It
/// carries the currency, so a creation cut short between the claim and the currency row is completed from it.
/// </summary>
public sealed record CurrencyCodeClaim : IStampedRow
{
    public const string Partition = "currency-code";

    public string PartitionKey { get; set; } = Partition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string? OperationId { get; set; }

    public string CurrencyId { get; set; } = "";
    public string Name { get; set; } = "";
    public string Symbol { get; set; } = "";
}
