using Serverless.Platform.Storage;

namespace Serverless.Platform.Email;

/// <summary>
/// What surfaces call to send an email (sign-up codes, referral invites, e-card codes). It never talks to the
/// provider: it stores the email and queues its id, and the <c>SendEmail</c> function does the sending, so a slow
/// or failing provider never slows or fails a request.
/// </summary>
public sealed class Mailer(EmailStore emails, StorageAccount storage, TimeProvider time, ILogger<Mailer> logger)
{
    public const string QueueName = "emails";

    /// <summary>
    /// Validates and queues <paramref name="message"/>; returns the email's id. With an
    /// <paramref name="idempotencyKey"/>, calling again with the same key queues nothing new and returns the same id
    /// (the first message wins), so a retried request sends one email. Throws <see cref="ArgumentException"/> for a
    /// message that could never be sent (bad address, no body), before anything is stored.
    /// Keys are global to the app: make them say whose and what, e.g. <c>sign-up-otp/{user id}/{attempt}</c>.
    /// </summary>
    public async Task<string> EnqueueAsync(EmailMessage message, string? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        message.Validate();
        if (idempotencyKey is { Length: 0 or > 1000 })
            throw new ArgumentException("An idempotency key must be 1 to 1000 characters.", nameof(idempotencyKey));

        message = message with { To = message.To.Select(a => a.Trim()).ToList(), ReplyTo = message.ReplyTo?.Trim() };

        var id = EmailStore.NewId(idempotencyKey);
        var record = new EmailRecord
        {
            PartitionKey = id,
            Id = id,
            To = string.Join(',', message.To),
            Subject = message.Subject,
            Status = EmailStatus.Queued,
            CreatedAt = time.GetUtcNow(),
        };
        if (!await emails.TryAddAsync(record, message, cancellationToken))
        {
            // Seen this key before. Queue it again only if it has not gone out yet: the first caller may have
            // stored it and failed before queueing, and a second message for a pending email is harmless.
            var existing = await emails.FindAsync(id, cancellationToken);
            if (existing is null || EmailStatus.IsFinal(existing.Status))
                return id;
        }
        await storage.Queue(QueueName).SendMessageAsync(id, cancellationToken);
        logger.LogDebug("Queued email {EmailId}", id);
        return id;
    }
}
