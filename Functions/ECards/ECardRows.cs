using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Storage;

namespace Serverless.ECards;

/// <summary>Order statuses, spelled as the document spells them.</summary>
public static class ECardOrderStatus
{
    public const string Created = "Created";
    public const string Payed = "Payed";
    public const string ReadyForDelivery = "ReadyForDelivery";
    public const string PartiallyDelivered = "PartiallyDelivered";
    public const string AwaitingCertificateAssignment = "AwaitingCertificateAssignment";
    public const string Delivered = "Delivered";
    public const string Cancelled = "Cancelled";

    public static bool IsFinal(string status) => status is Delivered or Cancelled;

    /// <summary>
    /// Every move an order makes, declared once. An order is born Payed (its debit and its row are one transaction);
    /// codes from stock make it ReadyForDelivery, or AwaitingCertificateAssignment while stock is short; emailing
    /// them makes it Delivered, or PartiallyDelivered while codes are missing, until more codes make it
    /// ReadyForDelivery again. Cancelling refunds it, and is allowed only before anything was delivered.
    /// </summary>
    public static readonly StateMachine Machine = new("e-card order",
        (Created, Payed),
        (Payed, ReadyForDelivery),
        (Payed, AwaitingCertificateAssignment),
        (Payed, Cancelled),
        (AwaitingCertificateAssignment, ReadyForDelivery),
        (AwaitingCertificateAssignment, PartiallyDelivered),
        (AwaitingCertificateAssignment, Cancelled),
        (ReadyForDelivery, Delivered),
        (ReadyForDelivery, Cancelled),
        (PartiallyDelivered, ReadyForDelivery),
        (PartiallyDelivered, Delivered));
}

/// <summary>A catalogue e-card: PK = <c>ecards</c>, RK = id (fixed width). Face values are a small JSON list.</summary>
public sealed record ECardRow : ITableEntity
{
    public const string Partition = "ecards";

    public string PartitionKey { get; set; } = Partition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public int Id { get; set; }
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";
    public string Unit { get; set; } = "";
    public string FaceValuesJson { get; set; } = "[]";

    public IReadOnlyList<FaceValue> FaceValues() => JsonSerializer.Deserialize<List<FaceValue>>(FaceValuesJson) ?? [];
}

/// <summary>A face value of an e-card: its name ("1000 ₽") and its price in whole currency units.</summary>
public sealed record FaceValue(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("price")] long Price);

/// <summary>
/// The layout before the platform ledger, read only by <see cref="PartnerLedgerMigration"/>: the partner's balance
/// (whole currency units), PK = partner, RK = <c>balance</c>, written by the first top-up. Migration deletes it in
/// the transaction that creates the ledger's balance row, so its presence means "not migrated yet".
/// </summary>
public sealed record PartnerBalanceRow : ITableEntity
{
    public const string Key = "balance";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = Key;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long Balance { get; set; }

    /// <summary>Orders placed, counted in the transaction that places each: listing reads it instead of counting rows.</summary>
    public int OrderCount { get; set; }
}

/// <summary>
/// The layout before the platform ledger, kept as history: one movement of a partner's balance, PK = partner,
/// RK = <c>ledger-debit-&lt;order&gt;</c>, <c>ledger-refund-&lt;order&gt;</c> or <c>ledger-topup-&lt;escaped reference&gt;</c>;
/// <see cref="Amount"/> is signed, whole currency units. <see cref="PartnerLedgerMigration"/> turns these rows into
/// ledger statement and movement rows.
/// </summary>
public sealed record PartnerLedgerRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string Kind { get; set; } = "";
    public long Amount { get; set; }
    public long BalanceAfter { get; set; }
    public string? OrderId { get; set; }
    public DateTimeOffset At { get; set; }
}

/// <summary>
/// An order, in its partner's partition (so it is written in the same transaction as the debit):
/// RK = <c>order-&lt;newest-first ticks&gt;-&lt;newest-first number&gt;</c>, so the partner's orders list newest first.
/// Its status moves only as <see cref="ECardOrderStatus.Machine"/> allows, through the transition seam, which stamps
/// the id of the operation that wrote it.
/// </summary>
public sealed record ECardOrderRow : IStampedRow, IStatefulRow
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string OrderId { get; set; } = "";
    public string PartnerId { get; set; } = "";
    public long Number { get; set; }
    public string Status { get; set; } = ECardOrderStatus.Created;
    public DateTimeOffset CreatedAt { get; set; }
    public string ParticipantEmail { get; set; } = "";
    public string ParticipantName { get; set; } = "";
    public string ParticipantPhone { get; set; } = "";
    public long Total { get; set; }
    public string LinesJson { get; set; } = "[]";
    public string CertificatesJson { get; set; } = "[]";
    public int DeliveryBatches { get; set; }
    public int EmailedBatches { get; set; }
    public DateTimeOffset? CancelledAt { get; set; }
    public string? OperationId { get; set; }

    StateMachine IStatefulRow.Moves => ECardOrderStatus.Machine;

    public IReadOnlyList<OrderLine> Lines() => JsonSerializer.Deserialize<List<OrderLine>>(LinesJson) ?? [];

    public IReadOnlyList<AssignedCertificate> Certificates() => JsonSerializer.Deserialize<List<AssignedCertificate>>(CertificatesJson) ?? [];

    public ECardOrderRow WithCertificates(IEnumerable<AssignedCertificate> certificates) =>
        this with { CertificatesJson = JsonSerializer.Serialize(certificates.ToList()) };
}

/// <summary>A line of an order, priced when the order was placed.</summary>
public sealed record OrderLine(
    [property: JsonPropertyName("id")] int ECardId,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("faceValue")] string FaceValue,
    [property: JsonPropertyName("price")] long Price,
    [property: JsonPropertyName("quantity")] int Quantity);

/// <summary>A code assigned to an order from stock; <see cref="Batch"/> is the delivery email it went out in (0: not yet).</summary>
public sealed record AssignedCertificate(
    [property: JsonPropertyName("id")] int ECardId,
    [property: JsonPropertyName("faceValue")] string FaceValue,
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("batch")] int Batch);

/// <summary>Finds an order by the client's orderId with a point read: RK = <c>orderid-&lt;uuid&gt;</c>.</summary>
public sealed record ECardOrderIndexRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string OrderRowKey { get; set; } = "";
    public string Fingerprint { get; set; } = "";
}

/// <summary>
/// A certificate code in stock: PK = <c>&lt;ecard id&gt;|&lt;face value&gt;</c>, RK = SHA-256 of the code.
/// Available until one order claims it through the transition seam; a claimed code is never available again unless
/// its order is cancelled before delivery (or the claim was more than the order needed).
/// </summary>
public sealed record StockCodeRow : IStampedRow, IStatefulRow
{
    public const string Available = "available";
    public const string Assigned = "assigned";

    /// <summary>A code is claimed for an order, and given back only when that order will not deliver it.</summary>
    public static readonly StateMachine Machine = new("stock code", (Available, Assigned), (Assigned, Available));

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string Code { get; set; } = "";
    public string State { get; set; } = Available;
    public string? OrderKey { get; set; }
    public DateTimeOffset LoadedAt { get; set; }
    public DateTimeOffset? AssignedAt { get; set; }
    public string? OperationId { get; set; }

    string IStatefulRow.Status => State;

    StateMachine IStatefulRow.Moves => Machine;
}

/// <summary>Every code ever loaded, by hash (PK = first two hex digits, RK = hash): a code is loaded once, whatever its e-card.</summary>
public sealed record StockCodeIndexRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string Slot { get; set; } = "";
}

/// <summary>An order whose fulfilment is not finished: PK = <c>pending</c>, RK = <c>&lt;partner&gt;|&lt;order id&gt;</c>.</summary>
public sealed record PendingFulfilmentRow : ITableEntity
{
    public const string Partition = "pending";

    public string PartitionKey { get; set; } = Partition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string PartnerId { get; set; } = "";
    public string OrderId { get; set; } = "";
}
