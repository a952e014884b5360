using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Platform.Payments;
using Serverless.Tests.Platform.Payments.Razorpay;
using Serverless.Tests.Print;

namespace Serverless.Tests.Faults;

/// <summary>
/// Gateway faults against a print wallet top-up paid on Razorpay, end to end: the app over HTTP, Razorpay a loopback
/// fake that stalls, fails and delivers its signed webhooks late, repeatedly, out of order or never. Whatever happens,
/// the wallet is credited exactly once for a captured payment and never for a failed one.
/// </summary>
public sealed class TopupGatewayFaultTests(PrintRazorpayFactory app) : IClassFixture<PrintRazorpayFactory>
{
    private FakeRazorpay Razorpay => app.Razorpay;

    private async Task<HttpResponseMessage> StartTopupAsync(PrintAccount customer, decimal amount, string? idempotencyKey = null)
    {
        var request = PrintFactory.Json(HttpMethod.Post, "/wallet/topup", new { amount }, customer.Token);
        if (idempotencyKey is not null)
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await app.CreateClient().SendAsync(request);
    }

    /// <summary>A top-up the customer starts, and the Razorpay order it answers.</summary>
    private async Task<string> TopupOrderAsync(PrintAccount customer, decimal amount, string? idempotencyKey = null)
    {
        var response = await StartTopupAsync(customer, amount, idempotencyKey);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Equal(FakeRazorpay.KeyId, body.GetProperty("key_id").GetString());
        var orderId = body.GetProperty("order_id").GetString()!;
        Assert.EndsWith("/payments/razorpay/checkout/" + orderId, body.GetProperty("checkout_url").GetString());
        Assert.Equal((long)(amount * 100), (long)Razorpay.Order(orderId)["amount"]!);
        return orderId;
    }

    private async Task<PaymentIntent> IntentAsync(string orderId) => (await app.IntentOfOrderAsync(orderId))!;

    private async Task AssertCreditedOnceAsync(PrintAccount customer, string orderId, string paymentId, decimal amount)
    {
        await app.AssertWalletAsync(customer, amount);
        var credit = Assert.Single(await app.TransactionsAsync(customer));
        Assert.Equal(("topup", amount), (credit.GetProperty("type").GetString(), credit.GetProperty("amount").GetDecimal()));
        var intent = await IntentAsync(orderId);
        Assert.Equal((IntentStatus.Succeeded, paymentId, 0), (intent.Status, intent.PaymentId, intent.RefundCount));
        // created → pending → succeeded: the success was one move, whatever else arrived.
        Assert.Equal(2, intent.Sequence);
        Assert.DoesNotContain(Razorpay.Refunds, r => (string)r["payment_id"]! == paymentId);
    }

    // ---- 1 and 2: order creation fails at the gateway, the customer tries again ----

    [Fact]
    public async Task Order_creation_timing_out_then_the_customer_retrying_credits_once_from_the_one_order_paid()
    {
        var customer = await app.SignUpAsync();
        var ordersBefore = Razorpay.Orders.Count;
        Razorpay.Script("POST /v1/orders", RazorpayReply.Stalled);

        // The first attempt's order is made at Razorpay, but its answer never comes.
        var first = await StartTopupAsync(customer, 500, "topup-retry-1");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        Assert.Equal(ordersBefore + 1, Razorpay.Orders.Count);
        // The customer's app retries with the same key and gets a payable order.
        var orderId = await TopupOrderAsync(customer, 500, "topup-retry-1");
        var paymentId = Razorpay.Pay(orderId);
        Assert.Equal(HttpStatusCode.OK, (await app.DeliverAsync(Razorpay.Webhook("payment.captured", paymentId, orderId))).StatusCode);

        await AssertCreditedOnceAsync(customer, orderId, paymentId, 500);
        // Nothing was shown for the stalled order, so nothing can be paid on it: one order is used, once.
        var paidOrders = Razorpay.Orders.Skip(ordersBefore).Where(o => (string)o["status"]! == "paid").ToList();
        Assert.Equal(orderId, (string)Assert.Single(paidOrders)["id"]!);
    }

    [Fact]
    public async Task Server_errors_on_order_creation_then_success_credit_once_and_retried_lookups_make_no_second_order()
    {
        var customer = await app.SignUpAsync();
        var ordersBefore = Razorpay.Orders.Count;
        var postsBefore = Razorpay.CallCount("POST /v1/orders");
        Razorpay.Script("POST /v1/orders", RazorpayReply.ServerError(500));

        var first = await StartTopupAsync(customer, 250);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        Assert.Equal(ordersBefore, Razorpay.Orders.Count); // a 500 before anything happened: no order

        // Razorpay's order lookup answers 502 and 503 first: a read is retried inside the one request.
        Razorpay.Script("GET /v1/orders", RazorpayReply.ServerError(502), RazorpayReply.ServerError(503));
        var orderId = await TopupOrderAsync(customer, 250);
        Assert.Equal(ordersBefore + 1, Razorpay.Orders.Count);
        Assert.Equal(2, Razorpay.CallCount("POST /v1/orders") - postsBefore);

        var paymentId = Razorpay.Pay(orderId);
        await app.DeliverAsync(Razorpay.Webhook("payment.captured", paymentId, orderId));
        await AssertCreditedOnceAsync(customer, orderId, paymentId, 250);
    }

    // ---- 3: the webhook delivered 50 times ----

    [Fact]
    public async Task The_captured_webhook_delivered_fifty_times_one_after_another_credits_once()
    {
        var customer = await app.SignUpAsync();
        var orderId = await TopupOrderAsync(customer, 300);
        var paymentId = Razorpay.Pay(orderId);
        var captured = Razorpay.Webhook("payment.captured", paymentId, orderId);

        var statuses = new List<string>();
        for (var i = 0; i < 50; i++)
        {
            var response = await app.DeliverAsync(captured, printPath: i % 2 == 0);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            statuses.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString()!);
        }

        Assert.Equal(["stored", .. Enumerable.Repeat("duplicate", 49)], statuses);
        await AssertCreditedOnceAsync(customer, orderId, paymentId, 300);
        Assert.Equal(InboundStatus.Processed, (await app.Get<InboundEvents>().FindAsync("razorpay", captured.EventId, default))!.Status);
    }

    [Fact]
    public async Task The_captured_webhook_delivered_fifty_times_at_once_credits_once()
    {
        var customer = await app.SignUpAsync();
        var orderId = await TopupOrderAsync(customer, 400);
        var paymentId = Razorpay.Pay(orderId);
        var captured = Razorpay.Webhook("payment.captured", paymentId, orderId);

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => app.DeliverAsync(captured)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var statuses = await Task.WhenAll(responses.Select(async r => (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString()));
        Assert.Equal(1, statuses.Count(s => s == "stored"));
        await AssertCreditedOnceAsync(customer, orderId, paymentId, 400);
    }

    [Fact]
    public async Task Fifty_different_events_about_one_payment_arriving_together_credit_once()
    {
        var customer = await app.SignUpAsync();
        var orderId = await TopupOrderAsync(customer, 150);
        var paymentId = Razorpay.Pay(orderId);
        // Each its own event id (Razorpay's captured and order.paid, and its retries as new events): nothing de-duplicates them but the payment.
        var events = Enumerable.Range(0, 50)
            .Select(i => i % 2 == 0 ? Razorpay.Webhook("payment.captured", paymentId, orderId) : Razorpay.Webhook("order.paid", orderId, paymentId)).ToList();

        var responses = await Task.WhenAll(events.Select(e => app.DeliverAsync(e)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        await AssertCreditedOnceAsync(customer, orderId, paymentId, 150);
        foreach (var e in events)
            Assert.Equal(InboundStatus.Processed, (await app.Get<InboundEvents>().FindAsync("razorpay", e.EventId, default))!.Status);
    }

    // ---- 4: webhooks out of order ----

    [Fact]
    public async Task A_failed_attempts_webhook_arriving_after_the_capture_changes_nothing()
    {
        var customer = await app.SignUpAsync();
        var orderId = await TopupOrderAsync(customer, 200);
        var failed = Razorpay.Fail(orderId, "Payment was declined by the bank.");
        var failedEvent = Razorpay.Webhook("payment.failed", failed, orderId);
        var paymentId = Razorpay.Pay(orderId);

        await app.DeliverAsync(Razorpay.Webhook("payment.captured", paymentId, orderId));
        await app.DeliverAsync(failedEvent);
        await app.DeliverAsync(failedEvent);

        await AssertCreditedOnceAsync(customer, orderId, paymentId, 200);
        Assert.Null((await IntentAsync(orderId)).FailureReason);
    }

    [Fact]
    public async Task A_payment_that_failed_and_was_then_captured_credits_once_whichever_webhook_comes_first()
    {
        var customer = await app.SignUpAsync();
        var orderId = await TopupOrderAsync(customer, 120);
        var failed = Razorpay.Fail(orderId, "Payment was declined by the bank.");
        var failedEvent = Razorpay.Webhook("payment.failed", failed, orderId);

        await app.DeliverAsync(failedEvent);
        Assert.Equal(IntentStatus.Failed, (await IntentAsync(orderId)).Status);
        await app.AssertWalletAsync(customer, 0);
        var paymentId = Razorpay.Pay(orderId);
        await app.DeliverAsync(Razorpay.Webhook("order.paid", orderId, paymentId));
        await app.DeliverAsync(failedEvent with { EventId = "evt_retried_" + failed });

        await app.AssertWalletAsync(customer, 120);
        var intent = await IntentAsync(orderId);
        // created → pending → failed → succeeded.
        Assert.Equal((IntentStatus.Succeeded, paymentId, 3), (intent.Status, intent.PaymentId, intent.Sequence));
    }

    [Fact]
    public async Task Order_paid_before_payment_authorized_and_captured_credits_once_and_the_stale_authorisation_is_not_captured_again()
    {
        var customer = await app.SignUpAsync();
        var orderId = await TopupOrderAsync(customer, 600);
        var paymentId = Razorpay.Authorize(orderId);
        var authorized = Razorpay.Webhook("payment.authorized", paymentId, orderId);
        await app.CaptureAtRazorpayAsync(paymentId, 600_00); // Razorpay's automatic capture
        var captured = Razorpay.Webhook("payment.captured", paymentId, orderId);
        var paid = Razorpay.Webhook("order.paid", orderId, paymentId);

        await app.DeliverAsync(paid);
        await app.DeliverAsync(authorized);
        await app.DeliverAsync(captured);

        await AssertCreditedOnceAsync(customer, orderId, paymentId, 600);
        Assert.Equal(1, Razorpay.Calls.Count(c => c.Route == $"POST /v1/payments/{paymentId}/capture")); // Razorpay's own only
    }

    [Fact]
    public async Task An_authorisation_reported_after_its_capture_is_only_fetched_and_credits_once()
    {
        var customer = await app.SignUpAsync();
        var orderId = await TopupOrderAsync(customer, 700);
        var paymentId = Razorpay.Authorize(orderId);
        var authorized = Razorpay.Webhook("payment.authorized", paymentId, orderId);
        await app.CaptureAtRazorpayAsync(paymentId, 700_00);

        // The stale authorisation first: the platform asks Razorpay, finds it captured, and does not capture it again.
        await app.DeliverAsync(authorized);
        await app.DeliverAsync(Razorpay.Webhook("payment.captured", paymentId, orderId));

        await AssertCreditedOnceAsync(customer, orderId, paymentId, 700);
        Assert.Equal(1, Razorpay.Calls.Count(c => c.Route == $"POST /v1/payments/{paymentId}/capture"));
    }

    [Fact]
    public async Task A_second_payment_is_refunded_once_and_its_capture_arriving_after_the_refund_event_credits_nothing()
    {
        var customer = await app.SignUpAsync();
        var orderId = await TopupOrderAsync(customer, 100);
        var first = Razorpay.Pay(orderId);
        var second = Razorpay.Pay(orderId); // two payment attempts that both went through
        var secondCaptured = Razorpay.Webhook("payment.captured", second, orderId);
        await app.DeliverAsync(Razorpay.Webhook("payment.captured", first, orderId));
        await app.DeliverAsync(Razorpay.Webhook("order.paid", orderId, second));

        var refund = Assert.Single(Razorpay.Refunds, r => (string)r["payment_id"]! == second);
        Assert.Equal(100_00, (long)refund["amount"]!);
        Razorpay.ProcessRefund((string)refund["id"]!);
        await app.DeliverAsync(Razorpay.Webhook("refund.processed", (string)refund["id"]!, second));
        // Then the second payment's own capture event, late.
        await app.DeliverAsync(secondCaptured);
        await app.DeliverAsync(Razorpay.Webhook("payment.captured", first, orderId));

        await app.AssertWalletAsync(customer, 100);
        Assert.Single(Razorpay.Refunds, r => (string)r["payment_id"]! == second);
        Assert.DoesNotContain(Razorpay.Refunds, r => (string)r["payment_id"]! == first);
        var intent = await IntentAsync(orderId);
        Assert.Equal((IntentStatus.Succeeded, first, second, 0L), (intent.Status, intent.PaymentId, intent.StrayPaymentId, intent.RefundedMinor));
        var recorded = Assert.Single(await app.Get<PaymentIntents>().RefundsAsync(intent.Id, default));
        Assert.Equal((RefundStatus.Processed, "duplicate_payment", second), (recorded.Status, recorded.Reason, recorded.PaymentId));
    }

    // ---- 5: the webhook never arrives ----

    [Fact]
    public async Task A_captured_payment_whose_webhook_never_arrives_is_credited_once_by_the_reconciliation_deadline()
    {
        var customer = await app.SignUpAsync();
        var orderId = await TopupOrderAsync(customer, 800);
        var paymentId = Razorpay.Pay(orderId);
        var fetchesBefore = Razorpay.CallCount($"GET /v1/orders/{orderId}/payments");

        await app.RunDeadlinesAsync();
        await app.AssertWalletAsync(customer, 0); // nothing is due yet
        app.Time.Advance(PaymentIntents.FirstReconcile);
        await app.RunDeadlinesAsync();

        await AssertCreditedOnceAsync(customer, orderId, paymentId, 800);
        Assert.Equal(1, Razorpay.CallCount($"GET /v1/orders/{orderId}/payments") - fetchesBefore);
        // The webhook that finally comes, and later deadlines, change nothing.
        await app.DeliverAsync(Razorpay.Webhook("payment.captured", paymentId, orderId));
        app.Time.Advance(TimeSpan.FromHours(1));
        await app.RunDeadlinesAsync();
        await AssertCreditedOnceAsync(customer, orderId, paymentId, 800);
        Assert.Equal(1, Razorpay.CallCount($"GET /v1/orders/{orderId}/payments") - fetchesBefore);
    }

    [Fact]
    public async Task A_failed_payment_whose_webhook_never_arrives_ends_failed_then_expired_with_no_money()
    {
        var customer = await app.SignUpAsync();
        var orderId = await TopupOrderAsync(customer, 900);
        Razorpay.Fail(orderId, "Payment was declined by the bank.");

        app.Time.Advance(PaymentIntents.FirstReconcile);
        await app.RunDeadlinesAsync();
        var failed = await IntentAsync(orderId);
        Assert.Equal((IntentStatus.Failed, "Payment was declined by the bank."), (failed.Status, failed.FailureReason));
        await app.AssertWalletAsync(customer, 0);

        // Nobody pays; past the top-up's lifetime the intent is over.
        app.Time.Advance(TimeSpan.FromHours(1));
        await app.RunDeadlinesAsync();
        var over = await IntentAsync(orderId);
        Assert.Equal((IntentStatus.Expired, null), (over.Status, over.PaymentId));
        await app.AssertWalletAsync(customer, 0);
        Assert.Empty(await app.TransactionsAsync(customer));
        Assert.DoesNotContain(Razorpay.Refunds, r => (string)Razorpay.Payment((string)r["payment_id"]!)["order_id"]! == orderId);
    }

    [Fact]
    public async Task Razorpay_down_at_reconciliation_is_asked_again_later_and_the_payment_credited_once()
    {
        var customer = await app.SignUpAsync();
        var orderId = await TopupOrderAsync(customer, 350);
        var paymentId = Razorpay.Pay(orderId);
        // Every attempt of the first look fails (the first try and the client's two retries).
        Razorpay.Script($"GET /v1/orders/{orderId}", RazorpayReply.ServerError(503), RazorpayReply.ServerError(503), RazorpayReply.ServerError(503));

        app.Time.Advance(PaymentIntents.FirstReconcile);
        await app.RunDeadlinesAsync();
        await app.AssertWalletAsync(customer, 0);
        Assert.Equal(IntentStatus.Pending, (await IntentAsync(orderId)).Status);

        app.Time.Advance(PaymentIntents.FirstReconcile);
        await app.RunDeadlinesAsync();
        await AssertCreditedOnceAsync(customer, orderId, paymentId, 350);
    }
}
