using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Serverless.Checkout.Stores;
using Serverless.Platform.Storage;
using Serverless.Platform.Webhooks;

namespace Serverless.Checkout.Orders;

/// <summary>
/// The callbacks of checkout orders: on every status change the order's <c>callbackUrl</c> receives the document's
/// body, signed <c>x-webhook-signature</c> = base64(HMAC-SHA256(body, the store's webhook secret)). A transition
/// publishes the callback through the outbox in its own write, keyed by the order and its move count, so a change
/// that arrives twice is one move and one callback; the platform's webhooks then deliver it (retries with backoff,
/// the delivery log, redelivery). The body is fixed when the move is stored; the secret is the store's when the
/// callback is forwarded, so callbacks published after a rotation are signed with the new one.
/// </summary>
public sealed class CheckoutCallbacks(WebhookPublisher publisher, CheckoutStores stores) : IOutboxChannel
{
    public const string ChannelName = "checkout-callback";

    public string Name => ChannelName;

    /// <summary>The webhook owner of a store's callbacks: where their deliveries are logged.</summary>
    public static string Owner(string storeId) => "checkout-store:" + storeId;

    /// <summary>The callback of the move that brought <paramref name="order"/> to its status.</summary>
    public static OutboxEvent Event(CheckoutOrder order)
    {
        var body = new JsonObject
        {
            ["message"] = Message(order),
            ["status"] = order.Status,
            ["orderId"] = order.Id,
            ["ecommerceOrderId"] = order.EcommerceOrderId,
            ["storeId"] = order.StoreId,
            ["transactions"] = JsonSerializer.SerializeToNode(order.Transactions),
            ["updatedProducts"] = null,
        };
        var envelope = new Envelope(order.CallbackUrl, body.ToJsonString());
        return new OutboxEvent(ChannelName, $"checkout:{order.Id}:{order.Version}", Owner(order.StoreId), "order." + order.Status,
            JsonSerializer.Serialize(envelope));
    }

    private static string Message(CheckoutOrder order) =>
        order is { Status: PaymentStatus.Cancelled, Reason: CheckoutOrders.ExpiredReason } ? "Order expired without payment" : PaymentStatus.Message(order.Status);

    public async Task DeliverAsync(OutboxEvent message, CancellationToken cancellationToken)
    {
        var envelope = JsonSerializer.Deserialize<Envelope>(message.Body)
                       ?? throw new InvalidOperationException($"Checkout callback '{message.Key}' has no body.");
        var storeId = message.Owner[(Owner("").Length)..];
        var store = await stores.FindAsync(storeId, cancellationToken)
                    ?? throw new InvalidOperationException($"Checkout callback '{message.Key}' names store '{storeId}', which does not exist.");
        var secret = stores.WebhookSecret(store)
                     ?? throw new InvalidOperationException($"The webhook secret of store '{storeId}' cannot be opened (sealed under another Jwt__SigningKey).");
        await publisher.PublishToAsync(new WebhookTarget(envelope.Url, secret, WebhookSchemes.BodyHmac), message.Owner, message.Type,
            BinaryData.FromString(envelope.Body), message.Key, cancellationToken);
    }

    /// <summary>What the outbox carries: the target and the exact body bytes (as a string) to sign and send.</summary>
    private sealed record Envelope(
        [property: JsonPropertyName("url")] string Url,
        [property: JsonPropertyName("body")] string Body);
}
