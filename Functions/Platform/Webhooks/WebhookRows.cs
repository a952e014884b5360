using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Webhooks;

/// <summary>
/// Key design of the one <c>webhooks</c> table: everything about one owner (a merchant, a store, a partner) lives in
/// that owner's partition, so publishing is one entity-group transaction and listing deliveries is one query.
/// <code>
/// PK = owner id (escaped)
///   RK "endpoint"                          the owner's endpoint: URL, signing secret, enabled
///   RK "msg_&lt;32 hex&gt;"                    an event: type and the exact body bytes; the id is the webhook-id
///   RK "dlv_&lt;newest-first ticks&gt;_&lt;6 hex&gt;"   a delivery of an event to one target: state and schedule
///   RK "&lt;delivery id&gt;-&lt;attempt, 4 digits&gt;"    one attempt of that delivery (sorts right after it)
/// </code>
/// </summary>
public static class WebhookKeys
{
    public const string TableName = "webhooks";
    public const string QueueName = "webhooks";
    public const string EndpointRow = "endpoint";
    public const string EventPrefix = "msg_";
    public const string DeliveryPrefix = "dlv_";

    /// <summary>Payloads are stored in one binary column, whose limit is 64 KiB.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    public static string Partition(string ownerId) => TableKeys.Escape(ownerId);

    /// <summary>
    /// The event id (sent as <c>webhook-id</c>). With the caller's event key it is derived from owner and key, so
    /// publishing the same key twice lands on the same row; without one it is random.
    /// </summary>
    public static string EventId(string ownerId, string? eventKey) =>
        EventPrefix + (eventKey is null
            ? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))
            : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ownerId + "\n" + eventKey)).AsSpan(0, 16)));

    public static string NewDeliveryId(DateTimeOffset at) =>
        DeliveryPrefix + TableKeys.NewestFirst(at) + "_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));

    public static bool IsDeliveryId(string value) =>
        value.Length == DeliveryPrefix.Length + 19 + 1 + 6 && value.StartsWith(DeliveryPrefix, StringComparison.Ordinal)
        && !value.AsSpan(DeliveryPrefix.Length).ContainsAnyExcept("0123456789abcdef_");

    public static string AttemptRow(string deliveryId, int attempt) =>
        deliveryId + "-" + attempt.ToString("D4", CultureInfo.InvariantCulture);

    /// <summary>Every delivery and attempt row of a partition, newest delivery first: RK in [<c>dlv_</c>, <c>dlv`</c>).</summary>
    public static string DeliveriesFilter(string ownerId) =>
        TableClient.CreateQueryFilter($"PartitionKey eq {Partition(ownerId)} and RowKey ge {DeliveryPrefix} and RowKey lt {"dlv`"}");
}

/// <summary>Where an owner's events go. One per owner; a 410 from the target disables it.</summary>
public sealed record WebhookEndpoint : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = WebhookKeys.EndpointRow;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string OwnerId { get; set; } = "";
    public string Url { get; set; } = "";

    /// <summary>The <c>whsec_</c> signing key. Kept (it signs every delivery, like a JWT key), never logged, shown once.</summary>
    public string Secret { get; set; } = "";

    public bool Enabled { get; set; } = true;
    public string? DisabledReason { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>One logical event of an owner: what happened and the exact bytes every delivery of it sends.</summary>
public sealed record WebhookEventRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string OwnerId { get; set; } = "";
    public string EventType { get; set; } = "";
    public byte[] Body { get; set; } = [];
    public string? EventKey { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The deliveries created with the event, comma-separated (a repeated publish re-queues them).</summary>
    public string DeliveryIds { get; set; } = "";
}

public static class WebhookDeliveryStates
{
    /// <summary>Waiting for its next attempt at <see cref="WebhookDelivery.NextAttemptAt"/>.</summary>
    public const string Pending = "pending";

    /// <summary>An attempt is in flight until <see cref="WebhookDelivery.LeaseUntil"/>.</summary>
    public const string Sending = "sending";

    public const string Delivered = "delivered";
    public const string Failed = "failed";
}

/// <summary>
/// One event on its way to one target. Its state changes only through ETag-conditional transitions, and only the
/// queue message carrying the current <see cref="Sequence"/> may act on it, so a duplicate or stale message
/// cannot send it twice.
/// </summary>
public sealed record WebhookDelivery : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string OwnerId { get; set; } = "";
    public string EventId { get; set; } = "";
    public string EventType { get; set; } = "";

    /// <summary>The signer's scheme (<see cref="WebhookSchemes"/>).</summary>
    public string Scheme { get; set; } = WebhookSchemes.Standard;

    /// <summary>An explicit target (a checkout callback URL), or null for the owner's endpoint as it is at send time.</summary>
    public string? TargetUrl { get; set; }

    /// <summary>The explicit target's signing secret; null for the owner's endpoint.</summary>
    public string? TargetSecret { get; set; }

    public string State { get; set; } = WebhookDeliveryStates.Pending;

    /// <summary>Which queue message may act on the delivery: bumped each time a new message is scheduled.</summary>
    public int Sequence { get; set; } = 1;

    /// <summary>Attempts started so far.</summary>
    public int Attempts { get; set; }

    public DateTimeOffset NextAttemptAt { get; set; }
    public DateTimeOffset? LeaseUntil { get; set; }
    public string? LeaseId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    public int? LastStatusCode { get; set; }
    public string? LastError { get; set; }

    /// <summary>The delivery this one re-sends, for a redelivery.</summary>
    public string? RedeliveryOf { get; set; }

    /// <summary>The operation id of the last "retry now" that made the delivery due (recognises its own lost answer).</summary>
    public string? RetryOperationId { get; set; }

    public string Id => RowKey;

    public bool IsFinished => State is WebhookDeliveryStates.Delivered or WebhookDeliveryStates.Failed;
}

/// <summary>What one attempt saw: status code or error, and how long it took.</summary>
public sealed record WebhookAttempt : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string DeliveryId { get; set; } = "";
    public int Attempt { get; set; }
    public DateTimeOffset At { get; set; }
    public string Url { get; set; } = "";
    public int? StatusCode { get; set; }
    public long DurationMs { get; set; }
    public string? Error { get; set; }
    public string Outcome { get; set; } = "";
    public DateTimeOffset? NextAttemptAt { get; set; }
}
