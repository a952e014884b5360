using System.Text;
using Serverless.Platform.Payments;

namespace Serverless.Tests.Platform.Payments.Razorpay;

public sealed class RazorpayWebhookTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static async Task<(RazorpayHarness Rp, string OrderId)> OrderAsync(string intentId)
    {
        var rp = await RazorpayHarness.StartAsync();
        return (rp, (await rp.Provider.CreateCheckoutAsync(RazorpayHarness.Checkout(intentId), default)).OrderId);
    }

    [Fact]
    public async Task A_webhook_signed_by_Razorpay_is_accepted_with_its_event_id()
    {
        var (rp, orderId) = await OrderAsync("pi_3001");
        await using var _ = rp;
        var (body, signature, eventId) = rp.Fake.Webhook("payment.captured", rp.Fake.Pay(orderId));

        var verification = rp.Provider.Verify(RazorpayHarness.WebhookHeaders(signature, eventId), body, Now);

        Assert.Equal(InboundVerification.Ok(eventId), verification);
    }

    [Fact]
    public async Task A_tampered_body_a_wrong_secret_and_missing_or_garbled_headers_are_refused_without_exceptions()
    {
        var (rp, orderId) = await OrderAsync("pi_3002");
        await using var _ = rp;
        var (body, signature, eventId) = rp.Fake.Webhook("payment.captured", rp.Fake.Pay(orderId));
        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("\"amount\":49900", "\"amount\":1"));
        Assert.NotEqual(body, tampered);

        InboundVerification Verify(string? sig, string? id, byte[]? raw = null) =>
            rp.Provider.Verify(RazorpayHarness.WebhookHeaders(sig, id), raw ?? body, Now);

        var refusals = new[]
        {
            Verify(signature, eventId, tampered),
            Verify(FakeRazorpay.Sign(body, "another_webhook_secret"), eventId),
            Verify(null, eventId),
            Verify("", eventId),
            Verify(signature[..40], eventId),
            Verify(new string('z', 64), eventId),
            Verify(signature + "00", eventId),
            Verify("sha256=" + signature[7..], eventId),
            Verify(signature, null),
        };

        Assert.All(refusals, r => Assert.False(r.Valid));
        Assert.All(refusals, r => Assert.Null(r.EventId));
        Assert.Contains("does not match", refusals[0].Problem);
        Assert.Contains("does not match", refusals[1].Problem);
        Assert.Equal("X-Razorpay-Signature is missing.", refusals[2].Problem);
        Assert.Equal("X-Razorpay-Signature is missing.", refusals[3].Problem);
        Assert.All(refusals[4..8], r => Assert.Contains("not a hex HMAC-SHA256", r.Problem));
        Assert.Contains("x-razorpay-event-id is missing", refusals[8].Problem);
    }

    [Fact]
    public async Task An_uppercase_hex_signature_is_the_same_signature()
    {
        var (rp, orderId) = await OrderAsync("pi_3003");
        await using var _ = rp;
        var (body, signature, eventId) = rp.Fake.Webhook("payment.captured", rp.Fake.Pay(orderId));

        Assert.True(rp.Provider.Verify(RazorpayHarness.WebhookHeaders(signature.ToUpperInvariant(), eventId), body, Now).Valid);
    }

    [Fact]
    public async Task Payment_events_are_payments_with_the_order_payment_amount_method_time_and_intent()
    {
        var (rp, orderId) = await OrderAsync("pi_3004");
        await using var _ = rp;
        var authorized = rp.Fake.Authorize(orderId, "card");
        var failed = rp.Fake.Fail(orderId, "Payment was declined by the bank.");
        var captured = rp.Fake.Pay(orderId, "upi");
        var at = DateTimeOffset.FromUnixTimeSeconds((long)rp.Fake.Payment(captured)["created_at"]!);

        ProviderEvent Parse(string type, params string[] ids)
        {
            var (body, _, eventId) = rp.Fake.Webhook(type, ids);
            var parsed = rp.Provider.Parse(eventId, body);
            Assert.Equal((eventId, type, ProviderEventKind.Payment), (parsed.EventId, parsed.Type, parsed.Kind));
            return parsed;
        }

        var capturedEvent = Parse("payment.captured", captured, orderId).Payment;
        var authorizedEvent = Parse("payment.authorized", authorized).Payment!;
        var failedEvent = Parse("payment.failed", failed).Payment!;
        var paidEvent = Parse("order.paid", captured, orderId).Payment;

        var expected = new ProviderPayment(orderId, ProviderPaymentState.Succeeded, captured, 49_900, "INR", "upi", null, at, "pi_3004");
        Assert.Equal(expected, capturedEvent);
        Assert.Equal(expected, paidEvent);
        Assert.Equal((orderId, ProviderPaymentState.Authorized, authorized, "card", (string?)null),
            (authorizedEvent.OrderId, authorizedEvent.State, authorizedEvent.PaymentId, authorizedEvent.Method, authorizedEvent.IntentId));
        Assert.Equal((ProviderPaymentState.Failed, failed, "Payment was declined by the bank."),
            (failedEvent.State, failedEvent.PaymentId, failedEvent.FailureReason));
    }

    [Fact]
    public async Task Refund_events_are_refunds_with_our_refund_id()
    {
        var (rp, orderId) = await OrderAsync("pi_3005");
        await using var _ = rp;
        var paymentId = rp.Fake.Pay(orderId);
        var refund = await rp.Provider.RefundAsync(new RefundRequest("rf_3005", "refund-key-3005", paymentId, 49_900, "INR", "Cancelled"), default);

        ProviderRefund? Parse(string type)
        {
            var (body, _, eventId) = rp.Fake.Webhook(type, refund.ProviderRefundId, paymentId);
            var parsed = rp.Provider.Parse(eventId, body);
            Assert.Equal(ProviderEventKind.Refund, parsed.Kind);
            return parsed.Refund;
        }

        var created = Parse("refund.created")!;
        rp.Fake.ProcessRefund(refund.ProviderRefundId);
        var processed = Parse("refund.processed")!;
        var failed = Parse("refund.failed")!;

        Assert.Equal(new ProviderRefund(refund.ProviderRefundId, ProviderRefundState.Pending, paymentId, 49_900, "rf_3005"), created);
        Assert.Equal(new ProviderRefund(refund.ProviderRefundId, ProviderRefundState.Processed, paymentId, 49_900, "rf_3005"), processed);
        Assert.Equal((ProviderRefundState.Failed, "rf_3005"), (failed.State, failed.RefundId));
        Assert.NotNull(failed.FailureReason);
    }

    [Fact]
    public async Task Payout_events_are_payouts_with_their_status_and_our_payout_id()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        var payout = await rp.Provider.CreatePayoutAsync(new PayoutRequest("po_3006", "payout-key-3006", 100_000, "INR",
            new PayoutBankAccount("Asha Printers", "HDFC0001234", "50100012345678"), "Asha Printers", null, "IMPS", "payout", "June"), default);

        ProviderPayout Parse(string type)
        {
            var (body, _, eventId) = rp.Fake.Webhook(type, payout.ProviderPayoutId);
            var parsed = rp.Provider.Parse(eventId, body);
            Assert.Equal(ProviderEventKind.Payout, parsed.Kind);
            return parsed.Payout!;
        }

        var processing = Parse("payout.processing");
        rp.Fake.ProcessPayout(payout.ProviderPayoutId);
        var processed = Parse("payout.processed");
        rp.Fake.ReversePayout(payout.ProviderPayoutId);
        var reversed = Parse("payout.reversed");
        rp.Fake.FailPayout(payout.ProviderPayoutId, "Beneficiary account is closed.");
        var failed = Parse("payout.failed");

        Assert.Equal(("processing", "po_3006"), (processing.Status, processing.PayoutId));
        Assert.Equal(("processed", (string?)null), (processed.Status, processed.FailureReason));
        Assert.NotNull(processed.Utr);
        Assert.Equal(("reversed", "The beneficiary bank returned the payout."), (reversed.Status, reversed.FailureReason));
        Assert.Equal(("failed", "Beneficiary account is closed."), (failed.Status, failed.FailureReason));
    }

    [Fact]
    public async Task Other_events_and_malformed_bodies_are_other_and_never_throw()
    {
        var (rp, orderId) = await OrderAsync("pi_3007");
        await using var _ = rp;
        var (dispute, _, disputeId) = rp.Fake.Webhook("payment.dispute.created", rp.Fake.Pay(orderId));

        var bodies = new (string Body, string Type)[]
        {
            (Encoding.UTF8.GetString(dispute), "payment.dispute.created"),
            ("{not json", ""),
            ("[]", ""),
            ("""{"entity":"event"}""", ""),
            ("""{"event":"payment.captured","payload":{"payment":{"entity":{"id":"pay_X","amount":"lots"}}}}""", "payment.captured"),
            ("""{"event":"payment.captured","payload":{"payment":"nope"}}""", "payment.captured"),
            ("""{"event":"refund.processed","payload":{}}""", "refund.processed"),
            ("""{"event":"payout.failed","payload":{"payout":{"entity":{"id":null}}}}""", "payout.failed"),
        };

        foreach (var (body, type) in bodies)
        {
            var parsed = rp.Provider.Parse(disputeId, Encoding.UTF8.GetBytes(body));
            Assert.Equal(new ProviderEvent(disputeId, type, ProviderEventKind.Other), parsed);
        }
    }
}
