using System.Globalization;
using Serverless.Platform.Storage;

namespace Serverless.Commerce.Orders;

/// <summary>
/// Paid orders reach their delivery step through a queue: the transition that pays an order publishes a delivery
/// event on this outbox channel (so it exists exactly when the payment does), the channel puts the order's key on the
/// <c>commerce-delivery</c> queue, and <see cref="FunctionName"/> delivers it. The chain transfer to
/// <c>destinationWalletAddress</c> belongs in that step; here it records the transfer. Delivering twice is harmless.
/// </summary>
public sealed class OrderDelivery(StorageAccount storage) : IOutboxChannel
{
    public const string Channel = "commerce-delivery";
    public const string QueueName = "commerce-delivery";
    public const string FunctionName = "CommerceOrderDelivery";

    /// <summary>Queue messages live as long as the queue allows: a delivery is never dropped for age.</summary>
    private static readonly TimeSpan NeverExpires = TimeSpan.FromSeconds(-1);

    public string Name => Channel;

    public static OutboxEvent Event(CommerceOrder order) =>
        new(Channel, "commerce-delivery:" + order.Id, CommerceOrders.WebhookOwner(order.CompanyId), "deliver", CommerceOrders.Key(order));

    public Task DeliverAsync(OutboxEvent message, CancellationToken cancellationToken) =>
        storage.Queue(QueueName).SendMessageAsync(message.Body, TimeSpan.Zero, NeverExpires, cancellationToken);

    /// <summary>The queue function: one order's delivery step.</summary>
    public static Task HandleAsync(Platform.Hosting.QueueInvocation invocation)
    {
        if (CommerceOrders.ParseKey(invocation.Message) is not var (partition, id))
            return Task.CompletedTask;
        return invocation.Services.GetRequiredService<CommerceOrders>().DeliverAsync(partition, id, invocation.CancellationToken);
    }
}

/// <summary>Order rows to the document's shapes.</summary>
public static class OrderViews
{
    /// <summary>ISO 8601 in UTC with milliseconds, as the original's JSON dates read.</summary>
    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static OrderResponse Response(CommerceOrder order, DateTimeOffset now)
    {
        var code = order.CurrencyCode;
        string Money(long minor) => CommerceOrders.Money(minor, code);
        var info = new PaymentInfoResponse(OrderStatus.IsUnpaid(order.EffectiveStatus(now)) ? order.PaymentUrl : null);
        var products = order.Lines()
            .Select(l => new OrderProductResponse(l.ProductId, l.ProductTokenId, l.ProductName, l.TokenNumber, order.CurrencyId, Money(l.PriceMinor)))
            .ToList();
        return new OrderResponse(order.Id, Time(order.CreatedAt), Time(order.UpdatedAt), order.CompanyId, order.UserId,
            order.DestinationWalletAddress, order.EffectiveStatus(now), Time(order.ExpiresAt), order.DeliverId, products,
            [new OrderPaymentResponse(order.CurrencyId, code, Money(order.TotalMinor), order.PaymentMethod, order.PaymentProvider, info)],
            order.CurrencyId, Money(order.CartMinor), order.PaymentProvider, order.PaymentMethod, info, Money(order.GasFeeMinor),
            Money(order.ServiceFeeMinor), Money(order.DiscountMinor), order.CouponCode, Money(order.TotalMinor), order.FailReason);
    }
}
