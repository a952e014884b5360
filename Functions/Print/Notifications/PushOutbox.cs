using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;

namespace Serverless.Print.Notifications;

/// <summary>One push kept by the development outbox. Key design: PK <c>push-{user id:D19}</c>, RK newest first + a random tail.</summary>
public sealed record OutboxPushRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public long UserId { get; set; }

    /// <summary>The device's id (<see cref="PrintDevices.DeviceId"/>), not its token.</summary>
    public string DeviceId { get; set; } = "";
    public string Title { get; set; } = "";
    public string Body { get; set; } = "";

    /// <summary>The data payload as JSON.</summary>
    public string Data { get; set; } = "{}";
    public DateTimeOffset CreatedAt { get; set; }
}

public sealed record OutboxPushResponse(
    [property: JsonPropertyName("user_id")] long UserId,
    [property: JsonPropertyName("device_id")] string DeviceId,
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("body")] string Body,
    [property: JsonPropertyName("data")] IReadOnlyDictionary<string, string> Data,
    [property: JsonPropertyName("created_at")] string CreatedAt);

/// <summary>
/// Where pushes go without FCM settings (<c>Print:Fcm:ProjectId</c>, <c>Print:Fcm:ServiceAccountJson</c>): stored, never
/// sent, never failing; <c>GET /dev/outbox/push</c> lists them beside the email outbox (<c>GET /dev/outbox</c>),
/// under the same rule for when development routes exist.
/// </summary>
public sealed class PushOutbox(StorageAccount storage, TimeProvider time) : IPushSender
{
    public const string TableName = "pushoutbox";
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    private TableClient Table => storage.Table(TableName);

    public static string Partition(long userId) => "push-" + TableKeys.Number(userId);

    public async Task<PushOutcome> SendAsync(long userId, string deviceToken, PushMessage message, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await Table.AddEntityAsync(new OutboxPushRow
        {
            PartitionKey = Partition(userId),
            RowKey = TableKeys.NewestFirst(now) + "-" + Guid.NewGuid().ToString("N")[..8],
            UserId = userId,
            DeviceId = PrintDevices.DeviceId(deviceToken),
            Title = message.Title,
            Body = message.Body,
            Data = JsonSerializer.Serialize(message.Data),
            CreatedAt = now,
        }, cancellationToken);
        return PushOutcome.Sent;
    }

    /// <summary>Pushes newest first, to one user or (a scan: development only) to everyone.</summary>
    public async Task<IReadOnlyList<OutboxPushResponse>> ListAsync(long? userId, int limit = DefaultLimit, CancellationToken cancellationToken = default)
    {
        var filter = userId is { } id ? TableClient.CreateQueryFilter($"PartitionKey eq {Partition(id)}") : null;
        var rows = new List<OutboxPushRow>();
        await foreach (var row in Table.QueryAsync<OutboxPushRow>(filter, cancellationToken: cancellationToken))
            rows.Add(row);
        return rows.OrderByDescending(r => r.CreatedAt).ThenBy(r => r.RowKey, StringComparer.Ordinal).Take(Math.Clamp(limit, 1, MaxLimit))
            .Select(r => new OutboxPushResponse(r.UserId, r.DeviceId, r.Title, r.Body,
                JsonSerializer.Deserialize<Dictionary<string, string>>(r.Data) ?? [], PrintTimes.Format(r.CreatedAt)))
            .ToList();
    }
}
