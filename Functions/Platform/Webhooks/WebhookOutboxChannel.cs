using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Webhooks;

/// <summary>
/// The outbox channel of the platform's webhooks: an event a transition published becomes a webhook to its owner's
/// endpoint, under its event key (so forwarding it twice is one webhook).
/// </summary>
public sealed class WebhookOutboxChannel(WebhookPublisher publisher) : IOutboxChannel
{
    public const string ChannelName = "webhook";

    public string Name => ChannelName;

    /// <summary>An event for the owner's webhook endpoint, to publish through <see cref="Change{T}.Publish"/>.</summary>
    public static OutboxEvent Event(string ownerId, string eventType, JsonNode payload, string eventKey) =>
        new(ChannelName, eventKey, ownerId, eventType, JsonSerializer.Serialize(payload));

    public Task DeliverAsync(OutboxEvent message, CancellationToken cancellationToken) =>
        publisher.PublishAsync(message.Owner, message.Type, BinaryData.FromString(message.Body), message.Key, cancellationToken);
}
