using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Hosting;

namespace Serverless.Platform.Storage;

/// <summary>
/// An event a transition publishes: which channel carries it (<c>webhook</c>: the platform's outbound webhooks), a
/// key that makes forwarding it twice one event, the owner and type it is for, and its body (JSON).
/// </summary>
public sealed record OutboxEvent(string Channel, string Key, string Owner, string Type, string Body);

/// <summary>Where events of one channel go once their transition is stored. Delivering one event twice must be harmless (the key).</summary>
public interface IOutboxChannel
{
    string Name { get; }

    Task DeliverAsync(OutboxEvent message, CancellationToken cancellationToken);
}

/// <summary>An event waiting in its aggregate's partition: RK = <c>outbox|&lt;operation id&gt;|&lt;nn&gt;</c>.</summary>
public sealed record OutboxRow : ITableEntity
{
    public const string Prefix = "outbox|";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string Channel { get; set; } = "";
    public string EventKey { get; set; } = "";
    public string Owner { get; set; } = "";
    public string Type { get; set; } = "";
    public string Body { get; set; } = "";

    public OutboxEvent ToEvent() => new(Channel, EventKey, Owner, Type, Body);
}

/// <summary>The message that forwards a transition's events if the transition itself could not.</summary>
public sealed record OutboxRecoveryMessage(
    [property: JsonPropertyName("table")] string Table,
    [property: JsonPropertyName("partition")] string Partition,
    [property: JsonPropertyName("operation")] string Operation);

/// <summary>A scheduled recovery message, deleted once the transition has forwarded its events itself.</summary>
public sealed record OutboxRecovery(string MessageId, string PopReceipt);

/// <summary>
/// No event is lost between a state change and its delivery. A transition that publishes writes its events as
/// outbox rows in its own entity-group transaction, so they exist exactly when the change does. Before that
/// transaction, a recovery message is put on the <c>outbox</c> queue, invisible for <see cref="RecoveryDelay"/>;
/// after it, the transition forwards the events to their channels, deletes the rows and the message. When the
/// transition is cut short (a crash, a failed forward), the message surfaces and <see cref="RecoverAsync"/>
/// forwards whatever rows the operation left. Channels de-duplicate by event key, so forwarding twice is harmless.
/// </summary>
public sealed class Outbox(StorageAccount storage, IEnumerable<IOutboxChannel> channels, ILogger<Outbox> logger)
{
    public const string QueueName = "outbox";
    public const string FunctionName = "OutboxRecovery";

    /// <summary>Longer than any transition takes; short enough that a cut-short event arrives within minutes.</summary>
    public static readonly TimeSpan RecoveryDelay = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan NeverExpires = TimeSpan.FromSeconds(-1);
    private readonly Dictionary<string, IOutboxChannel> _channels = channels.ToDictionary(c => c.Name, StringComparer.Ordinal);

    internal static IEnumerable<OutboxRow> Rows(string partitionKey, string operationId, IReadOnlyList<OutboxEvent> events) =>
        events.Select((e, i) => new OutboxRow
        {
            PartitionKey = partitionKey,
            RowKey = OutboxRow.Prefix + operationId + "|" + i.ToString("D2", System.Globalization.CultureInfo.InvariantCulture),
            Channel = e.Channel, EventKey = e.Key, Owner = e.Owner, Type = e.Type, Body = e.Body,
        });

    internal async Task<OutboxRecovery> ScheduleRecoveryAsync(TableClient table, string partitionKey, string operationId,
        CancellationToken cancellationToken)
    {
        var message = JsonSerializer.Serialize(new OutboxRecoveryMessage(table.Name, partitionKey, operationId));
        var receipt = await storage.Queue(QueueName).SendMessageAsync(message, RecoveryDelay, NeverExpires, cancellationToken);
        return new OutboxRecovery(receipt.Value.MessageId, receipt.Value.PopReceipt);
    }

    internal async Task CancelRecoveryAsync(OutboxRecovery recovery)
    {
        try
        {
            await storage.Queue(QueueName).DeleteMessageAsync(recovery.MessageId, recovery.PopReceipt, CancellationToken.None);
        }
        catch (RequestFailedException ex)
        {
            // It will surface, find no rows and be done: a few requests later, no harm.
            logger.LogDebug("An outbox recovery message could not be withdrawn ({Status})", ex.Status);
        }
    }

    /// <summary>Right after the transition: forward, then tidy up. A failure leaves the rows to the recovery message.</summary>
    internal async Task ForwardAsync(TableClient table, string partitionKey, string operationId, IReadOnlyList<OutboxEvent> events,
        OutboxRecovery recovery, CancellationToken cancellationToken)
    {
        try
        {
            foreach (var message in events)
                await ChannelOf(message).DeliverAsync(message, cancellationToken);
            await DeleteRowsAsync(table, Rows(partitionKey, operationId, events).ToList(), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The change is stored; its events are safe in the outbox and the recovery message will forward them.
            logger.LogWarning("Forwarding the events of operation {Operation} failed ({Error}); they will be forwarded within {Delay}",
                operationId, ex.GetType().Name, RecoveryDelay);
            return;
        }
        await CancelRecoveryAsync(recovery);
    }

    /// <summary>The <c>OutboxRecovery</c> queue function: forwards what an operation left in its partition's outbox.</summary>
    public static async Task RecoverAsync(QueueInvocation invocation)
    {
        var outbox = invocation.Services.GetRequiredService<Outbox>();
        OutboxRecoveryMessage? message;
        try
        {
            message = JsonSerializer.Deserialize<OutboxRecoveryMessage>(invocation.Message);
        }
        catch (JsonException)
        {
            message = null;
        }
        if (message is not { Table.Length: > 0, Partition.Length: > 0, Operation.Length: > 0 })
        {
            invocation.Services.GetRequiredService<ILogger<Outbox>>().LogError("Discarding malformed outbox message {MessageId}", invocation.MessageId);
            return;
        }
        await outbox.RecoverAsync(message, invocation.CancellationToken);
    }

    public async Task<int> RecoverAsync(OutboxRecoveryMessage message, CancellationToken cancellationToken)
    {
        var table = storage.Tables.GetTableClient(message.Table);
        var from = OutboxRow.Prefix + message.Operation + "|";
        var rows = new List<OutboxRow>();
        await foreach (var row in table.QueryAsync<OutboxRow>(
                           TableClient.CreateQueryFilter($"PartitionKey eq {message.Partition} and RowKey ge {from} and RowKey lt {from + "~"}"),
                           cancellationToken: cancellationToken))
            rows.Add(row);
        foreach (var row in rows)
            await ChannelOf(row.ToEvent()).DeliverAsync(row.ToEvent(), cancellationToken);
        await DeleteRowsAsync(table, rows, cancellationToken);
        if (rows.Count > 0)
            logger.LogInformation("Forwarded {Count} outbox events of operation {Operation}", rows.Count, message.Operation);
        return rows.Count;
    }

    /// <summary>Every event still waiting in one partition (for checks and tests).</summary>
    public async Task<IReadOnlyList<OutboxRow>> PendingAsync(TableClient table, string partitionKey, CancellationToken cancellationToken = default)
    {
        var rows = new List<OutboxRow>();
        await foreach (var row in table.QueryAsync<OutboxRow>(
                           TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey} and RowKey ge {OutboxRow.Prefix} and RowKey lt {"outbox}"}"),
                           cancellationToken: cancellationToken))
            rows.Add(row);
        return rows;
    }

    private IOutboxChannel ChannelOf(OutboxEvent message) =>
        _channels.TryGetValue(message.Channel, out var channel)
            ? channel
            : throw new InvalidOperationException($"No outbox channel is registered for '{message.Channel}'.");

    private static async Task DeleteRowsAsync(TableClient table, IReadOnlyList<OutboxRow> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
            return;
        try
        {
            if (rows.Count == 1)
                await table.DeleteEntityAsync(rows[0].PartitionKey, rows[0].RowKey, ETag.All, cancellationToken);
            else
                await table.SubmitTransactionAsync(rows.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, r, ETag.All)), cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Deleted already (a recovery and the transition racing): nothing left to do.
        }
    }
}

public static class OutboxRegistration
{
    public static IServiceCollection AddOutbox(this IServiceCollection services)
    {
        services.AddSingleton<Outbox>();
        services.AddSingleton<Transitions>();
        services.AddQueueTrigger(Outbox.FunctionName, Outbox.QueueName, Outbox.RecoverAsync);
        return services;
    }
}
