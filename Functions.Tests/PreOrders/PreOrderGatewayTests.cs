using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Serverless.Platform.Payments;
using Serverless.PreOrders;
using Serverless.Tests.Platform.Payments.Razorpay;
using Serverless.Tests.Platform.Payments.Stripe;

namespace Serverless.Tests.PreOrders;

/// <summary>The pre-orders app paying through Razorpay, its API a fake on loopback that speaks Razorpay's protocol.</summary>
public sealed class RazorpayPreOrdersFactory : PreOrdersFactory
{
    public FakeRazorpay Razorpay { get; } = new();

    public override async Task InitializeAsync()
    {
        await Razorpay.StartAsync();
        foreach (var (key, value) in Razorpay.Settings)
            With(key, value);
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Razorpay.DisposeAsync();
    }
}

/// <summary>The pre-orders app paying through Stripe Checkout, Stripe's API a fake on loopback; both on the test clock.</summary>
public sealed class StripePreOrdersFactory : PreOrdersFactory
{
    public StripePreOrdersFactory() => Stripe = new FakeStripe(Time);

    public FakeStripe Stripe { get; }

    public override async Task InitializeAsync()
    {
        await Stripe.StartAsync();
        foreach (var (key, value) in Stripe.Settings)
            With(key, value);
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Stripe.DisposeAsync();
    }
}

/// <summary>Helpers both gateways' tests use: the pay button, a provider's webhook, the pre-order and its intent.</summary>
internal static class GatewayTestSteps
{
    public static async Task<(HttpClient Merchant, string Id)> NewPreOrderAsync(PreOrdersFactory app, TimeSpan expiresIn)
    {
        var merchant = await app.MerchantClientAsync();
        return (merchant, (await app.CreateAsync(merchant, expiresIn)).GetProperty("id").GetString()!);
    }

    public static async Task<string> CheckoutUrlAsync(PreOrdersFactory app, string id)
    {
        var response = await app.CreateClient().PostAsync($"/pay/{id}/checkout", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("checkout_url").GetString()!;
    }

    public static Task<HttpResponseMessage> WebhookAsync(PreOrdersFactory app, string provider, byte[] body, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/payments/webhooks/{provider}") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        foreach (var (name, value) in headers)
            request.Headers.TryAddWithoutValidation(name, value);
        return app.CreateClient().SendAsync(request);
    }

    public static async Task<JsonElement> PreOrderAsync(HttpClient merchant, string id) =>
        await merchant.GetFromJsonAsync<JsonElement>($"/api/pre-orders/{id}");

    public static Task<PaymentIntent?> IntentAsync(PreOrdersFactory app, string id) =>
        app.Get<PaymentIntents>().FindAsync(PreOrderService.PaymentSurface, PreOrderService.Partition(PreOrdersFactory.Merchant) + "|" + id, default);
}

public sealed class PreOrderRazorpayTests(RazorpayPreOrdersFactory app) : IClassFixture<RazorpayPreOrdersFactory>
{
    private FakeRazorpay Razorpay => app.Razorpay;

    private Task<HttpResponseMessage> DeliverAsync((byte[] Body, string Signature, string EventId) webhook) =>
        GatewayTestSteps.WebhookAsync(app, "razorpay", webhook.Body, ("X-Razorpay-Signature", webhook.Signature), ("x-razorpay-event-id", webhook.EventId));

    private static string OrderOf(string checkoutUrl) => checkoutUrl[RazorpayProvider.CheckoutPathPrefix.Length..];

    [Fact]
    public async Task A_pre_order_paid_on_Razorpay_is_paid_by_the_captured_webhook_once()
    {
        var (merchant, id) = await GatewayTestSteps.NewPreOrderAsync(app, TimeSpan.FromDays(1));
        var ordersBefore = Razorpay.CallCount("POST /v1/orders");
        var checkoutUrl = await GatewayTestSteps.CheckoutUrlAsync(app, id);
        Assert.StartsWith(RazorpayProvider.CheckoutPathPrefix, checkoutUrl);
        var orderId = OrderOf(checkoutUrl);
        var page = await app.CreateClient().GetStringAsync(checkoutUrl);
        Assert.Contains(FakeRazorpay.KeyId, page);
        Assert.Contains(orderId, page);
        Assert.Equal(100_00, (long)Razorpay.Order(orderId)["amount"]!);

        var paymentId = Razorpay.Pay(orderId);
        var captured = Razorpay.Webhook("payment.captured", paymentId, orderId);
        var responses = await Task.WhenAll(DeliverAsync(captured), DeliverAsync(captured), DeliverAsync(Razorpay.Webhook("order.paid", orderId, paymentId)));
        await app.DrainAsync();

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var order = await GatewayTestSteps.PreOrderAsync(merchant, id);
        Assert.Equal("paid", order.GetProperty("status").GetString());
        Assert.Equal(paymentId, order.GetProperty("payment_details").GetProperty("transaction_id").GetString());
        Assert.Equal(["pre_order.paid"], app.EventsFor(id).Select(e => e.GetProperty("event").GetString()));
        Assert.Equal(1, Razorpay.CallCount("POST /v1/orders") - ordersBefore);
    }

    [Fact]
    public async Task The_checkout_callback_signature_confirms_the_payment_and_a_forged_one_is_refused()
    {
        var (merchant, id) = await GatewayTestSteps.NewPreOrderAsync(app, TimeSpan.FromDays(1));
        var orderId = OrderOf(await GatewayTestSteps.CheckoutUrlAsync(app, id));
        var paymentId = Razorpay.Pay(orderId);
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        FormUrlEncodedContent Form(string signature) => new(new Dictionary<string, string>
        {
            ["razorpay_payment_id"] = paymentId, ["razorpay_order_id"] = orderId, ["razorpay_signature"] = signature,
        });

        var forged = await client.PostAsync("/payments/razorpay/callback", Form(FakeRazorpay.CheckoutSignature(orderId, paymentId, "not-the-key-secret")));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal("pending", (await GatewayTestSteps.PreOrderAsync(merchant, id)).GetProperty("status").GetString());

        var callback = await client.PostAsync("/payments/razorpay/callback", Form(FakeRazorpay.CheckoutSignature(orderId, paymentId)));
        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        Assert.Equal($"{PreOrdersFactory.BaseUrl}/pay/{id}", callback.Headers.Location!.ToString());
        // The webhook comes later and changes nothing.
        await DeliverAsync(Razorpay.Webhook("payment.captured", paymentId, orderId));
        await app.DrainAsync();

        Assert.Equal(paymentId, (await GatewayTestSteps.PreOrderAsync(merchant, id)).GetProperty("payment_details").GetProperty("transaction_id").GetString());
        Assert.Equal(["pre_order.paid"], app.EventsFor(id).Select(e => e.GetProperty("event").GetString()));
    }

    [Fact]
    public async Task Twenty_concurrent_pay_clicks_make_one_Razorpay_order()
    {
        var (_, id) = await GatewayTestSteps.NewPreOrderAsync(app, TimeSpan.FromDays(1));
        var before = Razorpay.CallCount("POST /v1/orders");

        var urls = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => GatewayTestSteps.CheckoutUrlAsync(app, id)));

        Assert.Single(urls.Distinct());
        Assert.Equal(1, Razorpay.CallCount("POST /v1/orders") - before);
    }

    [Fact]
    public async Task A_failed_payment_then_a_captured_one_pays_the_pre_order()
    {
        var (merchant, id) = await GatewayTestSteps.NewPreOrderAsync(app, TimeSpan.FromDays(1));
        var orderId = OrderOf(await GatewayTestSteps.CheckoutUrlAsync(app, id));

        var failed = Razorpay.Fail(orderId, "Payment was declined by the bank.");
        await DeliverAsync(Razorpay.Webhook("payment.failed", failed, orderId));
        Assert.Equal(IntentStatus.Failed, (await GatewayTestSteps.IntentAsync(app, id))!.Status);
        var paid = Razorpay.Pay(orderId);
        await DeliverAsync(Razorpay.Webhook("payment.captured", paid, orderId));
        await app.DrainAsync();

        Assert.Equal(paid, (await GatewayTestSteps.PreOrderAsync(merchant, id)).GetProperty("payment_details").GetProperty("transaction_id").GetString());
        Assert.Equal(["pre_order.paid"], app.EventsFor(id).Select(e => e.GetProperty("event").GetString()));
    }

    [Fact]
    public async Task An_authorised_payment_is_captured_by_the_platform()
    {
        var (merchant, id) = await GatewayTestSteps.NewPreOrderAsync(app, TimeSpan.FromDays(1));
        var orderId = OrderOf(await GatewayTestSteps.CheckoutUrlAsync(app, id));

        var paymentId = Razorpay.Authorize(orderId);
        await DeliverAsync(Razorpay.Webhook("payment.authorized", paymentId, orderId));

        Assert.Equal("captured", (string)Razorpay.Payment(paymentId)["status"]!);
        Assert.Equal("paid", (await GatewayTestSteps.PreOrderAsync(merchant, id)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_capture_after_the_pre_order_expired_is_refunded_at_Razorpay_and_recorded()
    {
        var (merchant, id) = await GatewayTestSteps.NewPreOrderAsync(app, TimeSpan.FromMinutes(10));
        var orderId = OrderOf(await GatewayTestSteps.CheckoutUrlAsync(app, id));
        app.Time.Advance(TimeSpan.FromMinutes(10));
        await app.RunDeadlinesAsync();
        Assert.Equal(IntentStatus.Expired, (await GatewayTestSteps.IntentAsync(app, id))!.Status);

        // Razorpay orders cannot be closed: the customer still pays.
        var paymentId = Razorpay.Pay(orderId);
        Assert.Equal(HttpStatusCode.OK, (await DeliverAsync(Razorpay.Webhook("payment.captured", paymentId, orderId))).StatusCode);

        var refund = Assert.Single(Razorpay.Refunds, r => (string)r["payment_id"]! == paymentId);
        Assert.Equal(100_00, (long)refund["amount"]!);
        Razorpay.ProcessRefund((string)refund["id"]!);
        await DeliverAsync(Razorpay.Webhook("refund.processed", (string)refund["id"]!, paymentId));
        await app.DrainAsync();

        var intent = await GatewayTestSteps.IntentAsync(app, id);
        Assert.Equal((IntentStatus.Refunded, paymentId), (intent!.Status, intent.StrayPaymentId));
        var recorded = Assert.Single(await app.Get<PaymentIntents>().RefundsAsync(intent.Id, default));
        Assert.Equal((RefundStatus.Processed, "late_payment", (string)refund["id"]!), (recorded.Status, recorded.Reason, recorded.ProviderRefundId));
        Assert.Equal("expired", (await GatewayTestSteps.PreOrderAsync(merchant, id)).GetProperty("status").GetString());
        Assert.Equal(["pre_order.expired"], app.EventsFor(id).Select(e => e.GetProperty("event").GetString()));
    }

    [Fact]
    public async Task A_refund_Razorpay_leaves_pending_is_confirmed_by_a_fetch_when_its_webhook_never_comes()
    {
        var (_, id) = await GatewayTestSteps.NewPreOrderAsync(app, TimeSpan.FromDays(1));
        var orderId = OrderOf(await GatewayTestSteps.CheckoutUrlAsync(app, id));
        var paymentId = Razorpay.Pay(orderId);
        await DeliverAsync(Razorpay.Webhook("payment.captured", paymentId, orderId));
        var intent = await GatewayTestSteps.IntentAsync(app, id);

        var refund = await app.Get<PaymentIntents>().RefundAsync(intent!.Id, "goodwill", 40_00, "goodwill", default);
        var again = await app.Get<PaymentIntents>().RefundAsync(intent.Id, "goodwill", 40_00, "goodwill", default);
        Assert.Equal((RefundStatus.Pending, RefundStatus.Pending), (refund.Refund!.Status, again.Refund!.Status));
        var atRazorpay = Assert.Single(Razorpay.Refunds, r => (string)r["payment_id"]! == paymentId);
        Razorpay.ProcessRefund((string)atRazorpay["id"]!);

        app.Time.Advance(TimeSpan.FromMinutes(5));
        await app.RunDeadlinesAsync();

        var after = await GatewayTestSteps.IntentAsync(app, id);
        Assert.Equal((IntentStatus.PartiallyRefunded, 40_00L), (after!.Status, after.RefundedMinor));
        var recorded = Assert.Single(await app.Get<PaymentIntents>().RefundsAsync(intent.Id, default));
        Assert.Equal((RefundStatus.Processed, (string)atRazorpay["id"]!), (recorded.Status, recorded.ProviderRefundId));
    }

    [Fact]
    public async Task Razorpay_timing_out_on_order_creation_and_the_customer_clicking_again_makes_one_order()
    {
        var (_, id) = await GatewayTestSteps.NewPreOrderAsync(app, TimeSpan.FromDays(1));
        var before = Razorpay.Orders.Count;
        Razorpay.Script("POST /v1/orders", RazorpayReply.Stalled);

        var first = await app.CreateClient().PostAsync($"/pay/{id}/checkout", null);
        var url = await GatewayTestSteps.CheckoutUrlAsync(app, id);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        Assert.Equal(before + 1, Razorpay.Orders.Count);
        Assert.Equal((string)Razorpay.Orders[^1]["id"]!, OrderOf(url));
    }

    [Fact]
    public async Task A_webhook_with_a_bad_signature_is_refused_and_one_for_an_unknown_order_is_stored_and_flagged()
    {
        var (_, id) = await GatewayTestSteps.NewPreOrderAsync(app, TimeSpan.FromDays(1));
        var orderId = OrderOf(await GatewayTestSteps.CheckoutUrlAsync(app, id));
        var paymentId = Razorpay.Pay(orderId);
        var webhook = Razorpay.Webhook("payment.captured", paymentId, orderId);

        var forged = await DeliverAsync(webhook with { Signature = FakeRazorpay.Sign(webhook.Body, "another-secret") });
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Null(await app.Get<InboundEvents>().FindAsync("razorpay", webhook.EventId, default));

        var stranger = Razorpay.Webhook("payment.captured", Razorpay.Pay(
            (string)(await app.Get<PaymentProviders>().Resolve("razorpay").CreateCheckoutAsync(new CheckoutRequest("pi_notours", "k", 500, "INR",
                "made elsewhere", "https://x.test", "https://x.test", app.Time.GetUtcNow().AddHours(1)), default)).OrderId));
        Assert.Equal(HttpStatusCode.OK, (await DeliverAsync(stranger)).StatusCode);
        Assert.Equal(InboundStatus.Unmatched, (await app.Get<InboundEvents>().FindAsync("razorpay", stranger.EventId, default))!.Status);
    }
}

public sealed class PreOrderStripeTests(StripePreOrdersFactory app) : IClassFixture<StripePreOrdersFactory>
{
    private FakeStripe Stripe => app.Stripe;

    private Task<HttpResponseMessage> DeliverAsync((string Json, string SignatureHeader, string EventId) stripeEvent) =>
        GatewayTestSteps.WebhookAsync(app, "stripe", System.Text.Encoding.UTF8.GetBytes(stripeEvent.Json), ("Stripe-Signature", stripeEvent.SignatureHeader));

    private static async Task<string> SessionOfAsync(PreOrdersFactory app, string id) =>
        (await GatewayTestSteps.IntentAsync(app, id))!.ProviderOrderId!;

    [Fact]
    public async Task A_pre_order_paid_on_Stripe_Checkout_is_paid_by_the_completed_event_once()
    {
        var (merchant, id) = await GatewayTestSteps.NewPreOrderAsync(app, TimeSpan.FromDays(1));
        var checkoutUrl = await GatewayTestSteps.CheckoutUrlAsync(app, id);
        var sessionId = await SessionOfAsync(app, id);
        Assert.Equal("https://checkout.stripe.com/c/pay/" + sessionId, checkoutUrl);
        Assert.Equal(100_00, Stripe.Session(sessionId).AmountTotal);

        Stripe.Complete(sessionId);
        var completed = Stripe.Event("checkout.session.completed", sessionId);
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => DeliverAsync(completed)));
        await app.DrainAsync();

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var order = await GatewayTestSteps.PreOrderAsync(merchant, id);
        Assert.Equal("paid", order.GetProperty("status").GetString());
        Assert.StartsWith("pi_", order.GetProperty("payment_details").GetProperty("transaction_id").GetString());
        Assert.Equal(["pre_order.paid"], app.EventsFor(id).Select(e => e.GetProperty("event").GetString()));
        Assert.Equal(1, Stripe.SessionCount);
    }

    [Fact]
    public async Task An_asynchronous_payment_is_pending_until_Stripe_says_it_succeeded()
    {
        var (merchant, id) = await GatewayTestSteps.NewPreOrderAsync(app, TimeSpan.FromDays(1));
        await GatewayTestSteps.CheckoutUrlAsync(app, id);
        var sessionId = await SessionOfAsync(app, id);

        Stripe.CompleteAsync(sessionId);
        await DeliverAsync(Stripe.Event("checkout.session.completed", sessionId));
        Assert.Equal("pending", (await GatewayTestSteps.PreOrderAsync(merchant, id)).GetProperty("status").GetString());
        Stripe.AsyncSucceed(sessionId);
        await DeliverAsync(Stripe.Event("checkout.session.async_payment_succeeded", sessionId));

        Assert.Equal("paid", (await GatewayTestSteps.PreOrderAsync(merchant, id)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_delayed_payment_that_failed_ends_its_session_and_the_customer_pays_on_a_new_one()
    {
        var (merchant, id) = await GatewayTestSteps.NewPreOrderAsync(app, TimeSpan.FromDays(1));
        var first = await GatewayTestSteps.CheckoutUrlAsync(app, id);
        var firstSession = await SessionOfAsync(app, id);
        Stripe.CompleteAsync(firstSession);
        Stripe.AsyncFail(firstSession);
        await DeliverAsync(Stripe.Event("checkout.session.async_payment_failed", firstSession));
        Assert.Equal(IntentStatus.Failed, (await GatewayTestSteps.IntentAsync(app, id))!.Status);

        var second = await GatewayTestSteps.CheckoutUrlAsync(app, id);
        var secondSession = await SessionOfAsync(app, id);
        Stripe.Complete(secondSession);
        await DeliverAsync(Stripe.Event("checkout.session.completed", secondSession));

        Assert.NotEqual(first, second);
        Assert.NotEqual(firstSession, secondSession);
        Assert.Equal("paid", (await GatewayTestSteps.PreOrderAsync(merchant, id)).GetProperty("status").GetString());
        Assert.Equal(Stripe.Session(secondSession).PaymentIntentId,
            (await GatewayTestSteps.PreOrderAsync(merchant, id)).GetProperty("payment_details").GetProperty("transaction_id").GetString());
    }

    [Fact]
    public async Task A_pre_order_expiring_before_Stripe_allows_a_session_to_expire_has_its_session_expired_at_its_own_deadline()
    {
        var (merchant, id) = await GatewayTestSteps.NewPreOrderAsync(app, TimeSpan.FromMinutes(9));
        await GatewayTestSteps.CheckoutUrlAsync(app, id);
        var sessionId = await SessionOfAsync(app, id);

        app.Time.Advance(TimeSpan.FromMinutes(9));
        await app.RunDeadlinesAsync();

        Assert.Equal("expired", Stripe.Session(sessionId).Status);
        Assert.Equal(IntentStatus.Expired, (await GatewayTestSteps.IntentAsync(app, id))!.Status);
        Assert.Equal("expired", (await GatewayTestSteps.PreOrderAsync(merchant, id)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_completion_reported_after_the_pre_order_was_cancelled_is_refunded_at_Stripe()
    {
        var (merchant, id) = await GatewayTestSteps.NewPreOrderAsync(app, TimeSpan.FromDays(1));
        await GatewayTestSteps.CheckoutUrlAsync(app, id);
        var sessionId = await SessionOfAsync(app, id);
        Stripe.Complete(sessionId);
        var completed = Stripe.Event("checkout.session.completed", sessionId);
        var refundsBefore = Stripe.RefundCount;
        // The cancel looks at Stripe once more after closing the session, finds the payment, and refunds it.
        Assert.Equal(HttpStatusCode.OK, (await merchant.PostAsync($"/api/pre-orders/{id}/cancel", null)).StatusCode);
        Assert.Equal(refundsBefore + 1, Stripe.RefundCount);

        // Its event, arriving afterwards, is the same payment: no second refund.
        Assert.Equal(HttpStatusCode.OK, (await DeliverAsync(completed)).StatusCode);
        await app.DrainAsync();

        Assert.Equal(refundsBefore + 1, Stripe.RefundCount);
        var intent = await GatewayTestSteps.IntentAsync(app, id);
        Assert.Equal(IntentStatus.Refunded, intent!.Status);
        Assert.Equal("cancelled", (await GatewayTestSteps.PreOrderAsync(merchant, id)).GetProperty("status").GetString());
        Assert.Equal(["pre_order.cancelled"], app.EventsFor(id).Select(e => e.GetProperty("event").GetString()));
    }

    [Fact]
    public async Task A_Stripe_event_with_a_stale_or_forged_signature_is_refused()
    {
        var (_, id) = await GatewayTestSteps.NewPreOrderAsync(app, TimeSpan.FromDays(1));
        await GatewayTestSteps.CheckoutUrlAsync(app, id);
        var sessionId = await SessionOfAsync(app, id);
        Stripe.Complete(sessionId);

        var stale = Stripe.Event("checkout.session.completed", sessionId, at: app.Time.GetUtcNow().AddHours(-1));
        var forged = Stripe.Event("checkout.session.completed", sessionId) is var e ? e with { Json = e.Json.Replace("\"paid\"", "\"unpaid\"") } : default;

        Assert.Equal(HttpStatusCode.BadRequest, (await DeliverAsync(stale)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await DeliverAsync(forged)).StatusCode);
        Assert.Equal(IntentStatus.Pending, (await GatewayTestSteps.IntentAsync(app, id))!.Status);
    }
}
