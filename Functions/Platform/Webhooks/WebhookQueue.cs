using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Webhooks;

/// <summary>
/// A message on the <c>webhooks</c> queue: which delivery, and the <see cref="WebhookDelivery.Sequence"/> it was
/// scheduled under. Never the payload (a queue message holds 64 KB at most; the body stays in the table).
/// </summary>
public sealed record WebhookQueueMessage(
    [property: JsonPropertyName("owner")] string Owner,
    [property: JsonPropertyName("delivery")] string Delivery,
    [property: JsonPropertyName("sequence")] int Sequence);

/// <summary>Puts delivery messages on the queue, made visible when the delivery is due (within the queue's limit).</summary>
public sealed class WebhookQueue(StorageAccount storage, IOptions<WebhookOptions> options)
{
    // The queue refuses a visibility beyond the message's expiry, so messages never expire; handled ones are deleted.
    private static readonly TimeSpan NeverExpires = TimeSpan.FromSeconds(-1);

    public Task SendAsync(WebhookDelivery delivery, TimeSpan delay, CancellationToken cancellationToken) =>
        SendAsync(new WebhookQueueMessage(delivery.OwnerId, delivery.Id, delivery.Sequence), delay, cancellationToken);

    public async Task SendAsync(WebhookQueueMessage message, TimeSpan delay, CancellationToken cancellationToken)
    {
        // Never before the delivery is due; a wait beyond the cap surfaces early and goes back for the rest.
        await storage.Queue(WebhookKeys.QueueName).SendMessageAsync(
            JsonSerializer.Serialize(message), QueueDelays.Visibility(delay, options.Value.MaxVisibilityDelay), NeverExpires, cancellationToken);
    }

    /// <summary>Reads a message; a message of another shape is a bug, so it fails (and ends in the poison queue).</summary>
    public static WebhookQueueMessage Parse(string text)
    {
        try
        {
            var message = JsonSerializer.Deserialize<WebhookQueueMessage>(text);
            if (message is { Owner.Length: > 0, Delivery.Length: > 0 })
                return message;
        }
        catch (JsonException)
        {
        }
        throw new FormatException("Not a webhook delivery message: " + (text.Length > 200 ? text[..200] + "..." : text));
    }
}
