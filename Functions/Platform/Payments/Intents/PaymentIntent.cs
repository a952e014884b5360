using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Payments;

/// <summary>The statuses of a payment intent (<see cref="PaymentIntent.Machine"/> declares the moves).</summary>
public static class IntentStatus
{
    /// <summary>The row exists; no provider order yet (or the last one expired and a new one may be opened).</summary>
    public const string Created = "created";

    /// <summary>A provider order or session exists: the customer can pay it.</summary>
    public const string Pending = "pending";

    public const string Succeeded = "succeeded";

    /// <summary>The last attempt failed; a later attempt on the same order may still succeed.</summary>
    public const string Failed = "failed";

    /// <summary>The surface's deadline passed unpaid.</summary>
    public const string Expired = "expired";

    /// <summary>The surface no longer wants the payment.</summary>
    public const string Cancelled = "cancelled";

    public const string PartiallyRefunded = "partially_refunded";

    public const string Refunded = "refunded";

    public static bool IsOpen(string status) => status is Created or Pending or Failed;

    /// <summary>Open, with no provider order the customer could pay: the next checkout asks the provider for one.</summary>
    public static bool NeedsOrder(PaymentIntent intent) => intent.Status is Created || (intent.Status is Failed && intent.ProviderOrderId is null);

    public static bool IsPaid(string status) => status is Succeeded or PartiallyRefunded or Refunded;
}

/// <summary>
/// One payment of one thing a surface sells (a pre-order, a payment order, a commerce order): PK = the intent id,
/// derived from the surface and its reference, so every click and retry for the same thing meets the same row and
/// the same provider order. Refund rows live in the same partition (<see cref="IntentRefund"/>).
/// </summary>
public sealed record PaymentIntent : IStampedRow, IStatefulRow
{
    public const string Row = "intent";

    public static readonly StateMachine Machine = new("payment intent",
        (IntentStatus.Created, IntentStatus.Pending),
        (IntentStatus.Created, IntentStatus.Succeeded),
        (IntentStatus.Created, IntentStatus.Expired),
        (IntentStatus.Created, IntentStatus.Cancelled),
        (IntentStatus.Pending, IntentStatus.Succeeded),
        (IntentStatus.Pending, IntentStatus.Failed),
        (IntentStatus.Pending, IntentStatus.Expired),
        (IntentStatus.Pending, IntentStatus.Cancelled),
        // The provider's checkout expired before the surface's deadline: a new one may be opened.
        (IntentStatus.Pending, IntentStatus.Created),
        (IntentStatus.Failed, IntentStatus.Succeeded),
        // The failure ended the provider's order: the customer's retry opens a new one.
        (IntentStatus.Failed, IntentStatus.Pending),
        (IntentStatus.Failed, IntentStatus.Created),
        (IntentStatus.Failed, IntentStatus.Expired),
        (IntentStatus.Failed, IntentStatus.Cancelled),
        (IntentStatus.Succeeded, IntentStatus.PartiallyRefunded),
        (IntentStatus.Succeeded, IntentStatus.Refunded),
        (IntentStatus.PartiallyRefunded, IntentStatus.Refunded),
        // A payment that arrived after the intent closed is refunded: recorded, never lost.
        (IntentStatus.Expired, IntentStatus.Refunded),
        (IntentStatus.Cancelled, IntentStatus.Refunded));

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = Row;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string? OperationId { get; set; }

    public string Id { get; set; } = "";
    public string Surface { get; set; } = "";
    public string Reference { get; set; } = "";
    public string Provider { get; set; } = "";
    public long AmountMinor { get; set; }
    public string Currency { get; set; } = "";
    public string Description { get; set; } = "";
    public string ReturnUrl { get; set; } = "";
    public string CancelUrl { get; set; } = "";
    public string? CustomerEmail { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public string Status { get; set; } = IntentStatus.Created;

    /// <summary>Counts the intent's moves; every callback is keyed by it, so forwarding one twice is one callback.</summary>
    public int Sequence { get; set; }

    /// <summary>Which provider order this is (a new one after the provider's checkout expired); part of its idempotency key.</summary>
    public int CheckoutAttempt { get; set; }

    /// <summary>Who is asking the provider for an order, until when: others wait rather than ask too.</summary>
    public string? OpeningBy { get; set; }
    public DateTimeOffset? OpeningUntil { get; set; }

    public string? ProviderOrderId { get; set; }
    public string? CheckoutUrl { get; set; }

    public string? PaymentId { get; set; }
    public string? PaymentMethod { get; set; }
    public DateTimeOffset? PaidAt { get; set; }
    public string? FailureReason { get; set; }

    /// <summary>A payment that arrived after the intent was closed (or a second payment of a paid one); it is refunded.</summary>
    public string? StrayPaymentId { get; set; }

    /// <summary>Refunds asked for and not failed (pending or processed).</summary>
    public long RefundReservedMinor { get; set; }

    /// <summary>Refunds the provider processed.</summary>
    public long RefundedMinor { get; set; }

    public int RefundCount { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    StateMachine IStatefulRow.Moves => Machine;

    /// <summary>What can still be refunded of the intent's own payment.</summary>
    public long Refundable => IntentStatus.IsPaid(Status) && PaymentId is not null ? AmountMinor - RefundReservedMinor : 0;

    public string CheckoutKey => Id + ":checkout:" + CheckoutAttempt.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The intent id of a surface's reference: <c>pi_</c> and 32 hex digits of SHA-256.</summary>
    public static string IdFor(string surface, string reference) =>
        "pi_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(surface + "\n" + reference)))[..32];

    public static bool LooksLikeId(string value) =>
        value.Length == 35 && value.StartsWith("pi_", StringComparison.Ordinal) && value.AsSpan(3).IndexOfAnyExcept("0123456789abcdef") < 0;

    /// <summary>A move to <paramref name="status"/>, counted.</summary>
    public PaymentIntent Moved(string status, DateTimeOffset now) => this with { Status = status, Sequence = Sequence + 1, UpdatedAt = now };
}

public static class RefundStatus
{
    /// <summary>Recorded; the provider has not answered yet.</summary>
    public const string Requested = "requested";

    public const string Pending = "pending";
    public const string Processed = "processed";
    public const string Failed = "failed";

    public static readonly StateMachine Machine = new("refund",
        (Requested, Pending), (Requested, Processed), (Requested, Failed), (Pending, Processed), (Pending, Failed));

    public static bool IsFinal(string status) => status is Processed or Failed;
}

/// <summary>
/// One refund of an intent, written (with the intent's reservation) before the provider is asked: RK =
/// <c>refund|&lt;key&gt;</c>, so asking twice with one key is one refund; <see cref="RefundId"/> is the idempotency
/// key the provider sees and the reference it echoes back.
/// </summary>
public sealed record IntentRefund : IStampedRow, IStatefulRow
{
    public const string Prefix = "refund|";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string? OperationId { get; set; }

    public string RefundId { get; set; } = "";
    public string IntentId { get; set; } = "";
    public string Key { get; set; } = "";
    public string PaymentId { get; set; } = "";
    public long AmountMinor { get; set; }
    public string Currency { get; set; } = "";
    public string Reason { get; set; } = "";

    /// <summary>A refund of a payment other than the intent's own (late or duplicate): it never counts against the intent.</summary>
    public bool Stray { get; set; }

    public string Status { get; set; } = RefundStatus.Requested;
    public string? ProviderRefundId { get; set; }
    public string? FailureReason { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    StateMachine IStatefulRow.Moves => RefundStatus.Machine;

    public static string RowKeyFor(string key) => Prefix + TableKeys.Escape(key);

    /// <summary><c>rf_</c> + the intent's hex + <c>_</c> + 16 hex of the key's hash: the intent is readable from the id.</summary>
    public static string IdFor(string intentId, string key) =>
        "rf_" + intentId[3..] + "_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];

    public static string? IntentOf(string? refundId) =>
        refundId is { Length: 3 + 32 + 1 + 16 } && refundId.StartsWith("rf_", StringComparison.Ordinal) && refundId[35] == '_'
            ? "pi_" + refundId[3..35]
            : null;
}

/// <summary>Finds an intent from its provider order: PK = <c>order|&lt;provider&gt;|&lt;order id&gt;</c>, written before the intent records the order.</summary>
public sealed record IntentOrderIndex : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string IntentId { get; set; } = "";

    public static string PartitionFor(string provider, string orderId) => "order|" + provider + "|" + TableKeys.Escape(orderId);
}
