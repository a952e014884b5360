using System.Net;
using Serverless.Platform.Payments;
using Serverless.Tests.Platform.Payments.Razorpay;
using Serverless.Tests.PreOrders;

namespace Serverless.Tests.Faults;

/// <summary>
/// Gateway faults against a pre-order's payment on Razorpay, end to end (the app as
/// <see cref="RazorpayPreOrdersFactory"/> wires it to a loopback Razorpay). The pre-order is paid once, with one
/// <c>pre_order.paid</c>, however Razorpay's webhooks come, or do not; a payment it can no longer take is refunded once.
/// Covered elsewhere and not repeated here: a stalled order creation and the customer clicking again, a failed
/// payment then a captured one, and three concurrent webhooks (<see cref="PreOrderRazorpayTests"/>).
/// </summary>
public sealed class PreOrderRazorpayGatewayFaultTests(RazorpayPreOrdersFactory app) : IClassFixture<RazorpayPreOrdersFactory>
{
    private FakeRazorpay Razorpay => app.Razorpay;

    private Task<HttpResponseMessage> DeliverAsync((byte[] Body, string Signature, string EventId) webhook) =>
        GatewayTestSteps.WebhookAsync(app, "razorpay", webhook.Body, ("X-Razorpay-Signature", webhook.Signature), ("x-razorpay-event-id", webhook.EventId));

    private async Task<(HttpClient Merchant, string Id, string OrderId)> PayableAsync(TimeSpan expiresIn)
    {
        var (merchant, id) = await GatewayTestSteps.NewPreOrderAsync(app, expiresIn);
        var url = await GatewayTestSteps.CheckoutUrlAsync(app, id);
        return (merchant, id, url[RazorpayProvider.CheckoutPathPrefix.Length..]);
    }

    private async Task AssertPaidOnceAsync(HttpClient merchant, string id, string paymentId)
    {
        await app.DrainAsync();
        var order = await GatewayTestSteps.PreOrderAsync(merchant, id);
        Assert.Equal(("paid", paymentId), (order.GetProperty("status").GetString(),
            order.GetProperty("payment_details").GetProperty("transaction_id").GetString()));
        Assert.Equal(["pre_order.paid"], app.EventsFor(id).Select(e => e.GetProperty("event").GetString()));
        var intent = (await GatewayTestSteps.IntentAsync(app, id))!;
        Assert.Equal((IntentStatus.Succeeded, paymentId, 2, 0), (intent.Status, intent.PaymentId, intent.Sequence, intent.RefundCount));
        Assert.DoesNotContain(Razorpay.Refunds, r => (string)r["payment_id"]! == paymentId);
    }

    [Fact]
    public async Task Fifty_webhooks_about_one_payment_some_repeated_and_all_at_once_pay_the_pre_order_once()
    {
        var (merchant, id, orderId) = await PayableAsync(TimeSpan.FromDays(1));
        var paymentId = Razorpay.Pay(orderId);
        var captured = Razorpay.Webhook("payment.captured", paymentId, orderId);
        var paid = Razorpay.Webhook("order.paid", orderId, paymentId);
        // 30 deliveries of the same two events (Razorpay's retries) and 20 distinct ones.
        var deliveries = Enumerable.Range(0, 30).Select(i => i % 2 == 0 ? captured : paid)
            .Concat(Enumerable.Range(0, 20).Select(_ => Razorpay.Webhook("payment.captured", paymentId, orderId))).ToList();

        var responses = await Task.WhenAll(deliveries.Select(DeliverAsync));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        await AssertPaidOnceAsync(merchant, id, paymentId);
    }

    [Fact]
    public async Task A_captured_payment_whose_webhook_never_arrives_pays_the_pre_order_once_at_the_reconciliation_deadline()
    {
        var (merchant, id, orderId) = await PayableAsync(TimeSpan.FromDays(1));
        var paymentId = Razorpay.Pay(orderId);

        app.Time.Advance(PaymentIntents.FirstReconcile);
        await app.RunDeadlinesAsync();

        await AssertPaidOnceAsync(merchant, id, paymentId);
        await DeliverAsync(Razorpay.Webhook("payment.captured", paymentId, orderId));
        await AssertPaidOnceAsync(merchant, id, paymentId);
    }

    [Fact]
    public async Task A_payment_made_just_before_the_pre_order_expired_its_webhook_lost_is_refunded_once()
    {
        var (merchant, id, orderId) = await PayableAsync(TimeSpan.FromMinutes(7));
        app.Time.Advance(PaymentIntents.FirstReconcile);
        await app.RunDeadlinesAsync(); // nothing paid yet
        var paymentId = Razorpay.Pay(orderId);
        // At minute 7 the intent's look and the pre-order's expiry are both due; Razorpay does not answer the first look
        // (the call and its two retries), whichever of the two asks first.
        Razorpay.Script($"GET /v1/orders/{orderId}", RazorpayReply.ServerError(503), RazorpayReply.ServerError(503), RazorpayReply.ServerError(503));

        app.Time.Advance(TimeSpan.FromMinutes(2));
        await app.RunDeadlinesAsync();
        app.Time.Advance(PaymentIntents.FirstReconcile);
        await app.RunDeadlinesAsync();
        await app.DrainAsync();

        Assert.Equal("expired", (await GatewayTestSteps.PreOrderAsync(merchant, id)).GetProperty("status").GetString());
        Assert.Equal(["pre_order.expired"], app.EventsFor(id).Select(e => e.GetProperty("event").GetString()));
        var refund = Assert.Single(Razorpay.Refunds, r => (string)r["payment_id"]! == paymentId);
        Assert.Equal(100_00, (long)refund["amount"]!);
        var intent = (await GatewayTestSteps.IntentAsync(app, id))!;
        Assert.Equal((IntentStatus.Expired, paymentId, null), (intent.Status, intent.StrayPaymentId, intent.PaymentId));
        var recorded = Assert.Single(await app.Get<PaymentIntents>().RefundsAsync(intent.Id, default));
        Assert.Equal(("late_payment", RefundStatus.Pending), (recorded.Reason, recorded.Status));

        // The lost webhook arriving at last changes nothing.
        await DeliverAsync(Razorpay.Webhook("payment.captured", paymentId, orderId));
        await app.DrainAsync();
        Assert.Single(Razorpay.Refunds, r => (string)r["payment_id"]! == paymentId);
        Assert.Equal("expired", (await GatewayTestSteps.PreOrderAsync(merchant, id)).GetProperty("status").GetString());
    }
}
