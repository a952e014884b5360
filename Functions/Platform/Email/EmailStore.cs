using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Email;

/// <summary>Where an email is in its life. Stored as strings.</summary>
public static class EmailStatus
{
    /// <summary>Waiting for the SendEmail function (first time, or again after a retryable failure).</summary>
    public const string Queued = "queued";

    /// <summary>Claimed by one delivery that is talking to the provider right now.</summary>
    public const string Sending = "sending";

    /// <summary>Accepted by the provider; <see cref="EmailRecord.ProviderId"/> is its id.</summary>
    public const string Sent = "sent";

    /// <summary>Rejected for good (a 4xx other than 429) or given up after the last retry; see <see cref="EmailRecord.Error"/>.</summary>
    public const string Failed = "failed";

    /// <summary>No provider is configured: delivered to the development outbox instead.</summary>
    public const string Outbox = "outbox";

    public static bool IsFinal(string status) => status is Sent or Failed or Outbox;
}

/// <summary>The state of one email: the row every transition reads and writes with its ETag.</summary>
public sealed record EmailRecord : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = EmailStore.StateRow;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string Id { get; set; } = "";

    /// <summary>Comma-separated, as Table storage has no list type (addresses never hold a comma).</summary>
    public string To { get; set; } = "";
    public string Subject { get; set; } = "";
    public string Status { get; set; } = EmailStatus.Queued;
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Calls to the provider so far.</summary>
    public int Attempts { get; set; }

    /// <summary>Times the provider asked us to come back later (429).</summary>
    public int Deferrals { get; set; }

    /// <summary>When a deferred email is due to be tried again.</summary>
    public DateTimeOffset? NextAttemptAt { get; set; }

    /// <summary>Until when the <see cref="EmailStatus.Sending"/> claim holds; a crashed sender's claim lapses.</summary>
    public DateTimeOffset? ClaimedUntil { get; set; }
    public string? ProviderId { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }

    /// <summary>The last failure, as the provider described it (never contains the API key).</summary>
    public string? Error { get; set; }

    [System.Runtime.Serialization.IgnoreDataMember]
    public IReadOnlyList<string> Recipients => To.Split(',', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>
/// Emails in Table storage. Key design: one partition per email (PK = email id), holding the state row
/// (<c>state</c>) and the content row (<c>content</c>: the message as UTF-8 JSON in binary chunks, as a body may be
/// larger than a queue message or a string property). Both are inserted in one transaction, so an email exists
/// whole or not at all. An email sent with an idempotency key gets its id from a hash of the key: inserting it a
/// second time fails, which is what makes the key work.
/// </summary>
public sealed class EmailStore(StorageAccount storage)
{
    public const string TableName = "emails";
    public const string StateRow = "state";
    public const string ContentRow = "content";

    /// <summary>Largest message (as JSON) an email may carry: well inside one entity's 1 MiB.</summary>
    public const int MaxContentBytes = 480 * 1024;
    private const string BodyProperty = "Body";

    private TableClient Table => storage.Table(TableName);

    /// <summary>A new random id, or the id an idempotency key always maps to.</summary>
    public static string NewId(string? idempotencyKey) =>
        "em_" + (idempotencyKey is null
            ? Guid.NewGuid().ToString("N")
            : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyKey)))[..32]);

    /// <summary>A string that could be an id this store handed out (queue messages are checked before use).</summary>
    public static bool IsId(string value) =>
        value.Length == 35 && value.StartsWith("em_", StringComparison.Ordinal) && value[3..].All(char.IsAsciiHexDigitLower);

    /// <summary>Stores a new email; false when one with this id exists already.</summary>
    public async Task<bool> TryAddAsync(EmailRecord record, EmailMessage message, CancellationToken cancellationToken)
    {
        var content = new TableEntity(record.PartitionKey, ContentRow);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(message);
        if (bytes.Length > MaxContentBytes)
            throw new ArgumentException($"The email is {bytes.Length} bytes; at most {MaxContentBytes} bytes are allowed.", nameof(message));
        TableChunks.Write(content, BodyProperty, bytes);
        try
        {
            await Table.SubmitTransactionAsync(
                [new(TableTransactionActionType.Add, record), new(TableTransactionActionType.Add, content)], cancellationToken);
            return true;
        }
        catch (TableTransactionFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    public Task<EmailRecord?> FindAsync(string id, CancellationToken cancellationToken = default) =>
        Table.FindAsync<EmailRecord>(id, StateRow, cancellationToken);

    /// <summary>The message as it was enqueued, or null once it has been sent (the body is not kept after that).</summary>
    public async Task<EmailMessage?> ReadContentAsync(string id, CancellationToken cancellationToken = default)
    {
        var row = await Table.FindAsync<TableEntity>(id, ContentRow, cancellationToken);
        if (row is null)
            return null;
        return JsonSerializer.Deserialize<EmailMessage>(TableChunks.Read(row, BodyProperty));
    }

    /// <summary>
    /// Drops the body of a sent email: it may hold one-time codes, and nothing needs it once the provider has it.
    /// </summary>
    public async Task ForgetContentAsync(string id, CancellationToken cancellationToken = default)
    {
        try
        {
            await Table.DeleteEntityAsync(id, ContentRow, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }
    }

    /// <summary>An ETag-conditional change of the state row (see <see cref="TableTransitions"/>).</summary>
    public Task<EmailRecord?> TransitionAsync(string id, Func<EmailRecord, EmailRecord?> transition, CancellationToken cancellationToken = default) =>
        Table.TransitionAsync(id, StateRow, transition, cancellationToken);

    /// <summary>
    /// Every email's state, newest first, optionally only those to one address. A scan of the table: this serves
    /// the development outbox only, never a production request.
    /// </summary>
    public async Task<IReadOnlyList<EmailRecord>> ListAsync(string? to, int limit, CancellationToken cancellationToken = default)
    {
        var records = new List<EmailRecord>();
        var filter = TableClient.CreateQueryFilter($"RowKey eq {StateRow}");
        await foreach (var record in Table.QueryAsync<EmailRecord>(filter, cancellationToken: cancellationToken))
        {
            if (to is null || record.Recipients.Contains(to.Trim(), StringComparer.OrdinalIgnoreCase))
                records.Add(record);
        }
        return records.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Timestamp).Take(limit).ToList();
    }
}
