using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;

namespace Serverless.Tests.Platform.Payments;

/// <summary>
/// Payment intents through the asynchronous sandbox: the intent before the provider, one provider order per intent,
/// confirmations from any source in any order any number of times, late payments refunded, refunds once per key.
/// Every test ends by checking money and state: the intent, its refunds, the provider's orders, the surface's moves.
/// </summary>
public sealed class PaymentIntentTests(PaymentIntentFactory app) : IClassFixture<PaymentIntentFactory>
{
    [Fact]
    public async Task Twenty_concurrent_checkouts_of_one_reference_share_one_intent_and_one_provider_order_and_it_is_paid_once()
    {
        var reference = PaymentIntentFactory.NewReference();
        var before = app.Provider.Checkouts;
        app.Provider.HoldUntil(20);

        var checkouts = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => app.Intents.CheckoutAsync(app.Request(reference), CancellationToken.None)));
        app.Provider.HoldUntil(0);

        var intent = Assert.Single(checkouts.Select(c => c.Intent.Id).Distinct());
        Assert.Single(checkouts.Select(c => c.CheckoutUrl).Distinct());
        Assert.Equal(1, app.Provider.Checkouts - before); // the others waited for the one asking
        Assert.Single(await app.SandboxOrdersAsync(intent));

        var deliveries = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => app.CustomerAsync(checkouts[0].Intent)));
        foreach (var response in await Task.WhenAll(deliveries.Select(d => app.DeliverAsync(d))))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var paid = await app.IntentAsync(intent);
        Assert.Equal(IntentStatus.Succeeded, paid.Status);
        Assert.StartsWith("sbpay_", paid.PaymentId);
        Assert.Equal([IntentStatus.Pending, IntentStatus.Succeeded], app.Surface.MovesOf(intent));
        Assert.Empty(await app.RefundsAsync(intent));
    }

    [Fact]
    public async Task The_same_webhook_delivered_fifty_times_concurrently_is_stored_once_and_moves_the_intent_once()
    {
        var intent = await app.OpenAsync(PaymentIntentFactory.NewReference());
        var delivery = await app.CustomerAsync(intent);

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => app.DeliverAsync(delivery)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var receipts = await Task.WhenAll(responses.Select(r => r.Content.ReadFromJsonAsync<JsonElement>()));
        Assert.Single(receipts, r => r.GetProperty("status").GetString() == "stored");
        Assert.Equal(49, receipts.Count(r => r.GetProperty("status").GetString() == "duplicate"));
        var after = await app.IntentAsync(intent.Id);
        Assert.Equal(IntentStatus.Succeeded, after.Status);
        Assert.Equal(2, after.Sequence);
        Assert.Equal([IntentStatus.Pending, IntentStatus.Succeeded], app.Surface.MovesOf(intent.Id));
        var stored = await app.Get<InboundEvents>().FindAsync(SandboxProvider.ProviderName, delivery.EventId, CancellationToken.None);
        Assert.Equal(InboundStatus.Processed, stored!.Status);
        Assert.Equal(intent.Id, stored.IntentId);
    }

    [Fact]
    public async Task A_failed_payment_then_a_captured_one_for_the_same_order_ends_paid_and_a_late_failure_changes_nothing()
    {
        var intent = await app.OpenAsync(PaymentIntentFactory.NewReference());
        var failure = await app.CustomerAsync(intent, pays: false);
        Assert.Equal(HttpStatusCode.OK, (await app.DeliverAsync(failure)).StatusCode);
        Assert.Equal(IntentStatus.Failed, (await app.IntentAsync(intent.Id)).Status);

        var success = await app.CustomerAsync(intent);
        await app.DeliverAsync(success);
        // The failure again, after the success (a provider retrying an old event): it changes nothing.
        await app.DeliverAsync(app.Sandbox.Sign(new SandboxEvent("sbevt_late_failure_" + intent.Id[3..15], "payment.failed", intent.ProviderOrderId!,
            intent.Id, null, intent.AmountMinor, intent.Currency, null, "declined", app.Time.GetUtcNow().ToUnixTimeSeconds())));

        var after = await app.IntentAsync(intent.Id);
        Assert.Equal(IntentStatus.Succeeded, after.Status);
        Assert.Null(after.FailureReason);
        Assert.Equal([IntentStatus.Pending, IntentStatus.Failed, IntentStatus.Succeeded], app.Surface.MovesOf(intent.Id));
    }

    [Fact]
    public async Task A_webhook_for_an_unknown_order_is_stored_answered_200_and_flagged_unmatched()
    {
        var delivery = app.Sandbox.Sign(new SandboxEvent("sbevt_unknown_" + Guid.NewGuid().ToString("N")[..8], "payment.succeeded",
            "sbo_000000000000000000000000", "pi_00000000000000000000000000000000", "sbpay_x_1", 100, "INR", "upi", null,
            app.Time.GetUtcNow().ToUnixTimeSeconds()));

        var response = await app.DeliverAsync(delivery);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stored = await app.Get<InboundEvents>().FindAsync(SandboxProvider.ProviderName, delivery.EventId, CancellationToken.None);
        Assert.Equal(InboundStatus.Unmatched, stored!.Status);
        Assert.Contains("sbo_000000000000000000000000", stored.Note);
    }

    [Fact]
    public async Task A_webhook_with_a_bad_signature_is_400_and_stores_nothing()
    {
        var intent = await app.OpenAsync(PaymentIntentFactory.NewReference());
        var delivery = await app.CustomerAsync(intent);
        var forged = delivery with { Signature = new string('0', 64) };
        var tampered = delivery with { Body = [.. delivery.Body, (byte)' '] };

        var responses = new[]
        {
            await app.DeliverAsync(forged), await app.DeliverAsync(tampered),
            await app.DeliverAsync(delivery with { Signature = "not-hex-at-all" }),
        };

        foreach (var response in responses)
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var text = await response.Content.ReadAsStringAsync();
            Assert.Contains("invalid_signature", text);
            Assert.DoesNotContain("   at ", text);
        }
        Assert.Null(await app.Get<InboundEvents>().FindAsync(SandboxProvider.ProviderName, delivery.EventId, CancellationToken.None));
        Assert.Equal(IntentStatus.Pending, (await app.IntentAsync(intent.Id)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await app.CreateClient().PostAsync("/payments/webhooks/paypal", new StringContent("{}"))).StatusCode);
    }

    [Fact]
    public async Task The_provider_timing_out_on_order_creation_and_the_client_retrying_makes_one_order()
    {
        var reference = PaymentIntentFactory.NewReference();
        app.Provider.LoseCheckoutAnswers(1);

        await Assert.ThrowsAsync<PaymentProviderException>(() => app.Intents.CheckoutAsync(app.Request(reference), CancellationToken.None));
        var retried = await app.Intents.CheckoutAsync(app.Request(reference), CancellationToken.None);

        Assert.Equal(IntentStatus.Pending, retried.Intent.Status);
        Assert.NotNull(retried.CheckoutUrl);
        var order = Assert.Single(await app.SandboxOrdersAsync(retried.Intent.Id));
        Assert.Equal(order.PartitionKey, retried.Intent.ProviderOrderId);
    }

    [Fact]
    public async Task A_capture_arriving_after_the_intent_expired_is_refunded_and_recorded()
    {
        var intent = await app.OpenAsync(PaymentIntentFactory.NewReference(), expiresIn: TimeSpan.FromMinutes(10));
        // The customer paid just in time; the provider's webhook is late.
        var delivery = await app.CustomerAsync(intent);
        app.Time.Advance(TimeSpan.FromMinutes(10));
        await app.Intents.CloseAsync(intent.Surface, intent.Reference, IntentStatus.Expired, CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, (await app.DeliverAsync(delivery)).StatusCode);

        var after = await app.IntentAsync(intent.Id);
        Assert.Equal(IntentStatus.Refunded, after.Status);
        Assert.Null(after.PaymentId);
        Assert.StartsWith("sbpay_", after.StrayPaymentId);
        var refund = Assert.Single(await app.RefundsAsync(intent.Id));
        Assert.Equal((RefundStatus.Processed, "late_payment", intent.AmountMinor, after.StrayPaymentId), (refund.Status, refund.Reason, refund.AmountMinor, refund.PaymentId));
        Assert.Equal(intent.AmountMinor, (await app.SandboxOrdersAsync(intent.Id)).Single().RefundedMinor);
        Assert.Equal([IntentStatus.Pending, IntentStatus.Expired, IntentStatus.Refunded], app.Surface.MovesOf(intent.Id));
    }

    [Fact]
    public async Task A_success_the_surface_refuses_is_refunded_in_full()
    {
        var reference = PaymentIntentFactory.NewReference();
        app.Surface.Refused[reference] = true;
        var intent = await app.OpenAsync(reference);

        await app.DeliverAsync(await app.CustomerAsync(intent));

        var after = await app.IntentAsync(intent.Id);
        Assert.Equal(IntentStatus.Refunded, after.Status);
        Assert.Equal(intent.AmountMinor, after.RefundedMinor);
        var refund = Assert.Single(await app.RefundsAsync(intent.Id));
        Assert.Equal(("refused_by_" + RecordingSurface.Name, RefundStatus.Processed), (refund.Reason, refund.Status));
    }

    [Fact]
    public async Task A_success_whose_callback_failed_is_refunded_once_when_the_surface_abandons_it_and_again_when_the_callback_comes()
    {
        var reference = PaymentIntentFactory.NewReference();
        var intent = await app.OpenAsync(reference);
        app.Surface.Broken[reference] = true;
        await app.DeliverAsync(await app.CustomerAsync(intent));
        Assert.Equal(IntentStatus.Succeeded, (await app.IntentAsync(intent.Id)).Status);

        // The surface's order expired meanwhile: it abandons the payment, which has succeeded, so it is refunded.
        var abandoned = await app.Intents.AbandonAsync(RecordingSurface.Name, reference, IntentStatus.Expired, CancellationToken.None);
        // Then the callback is forwarded at last (the outbox's recovery), and the surface refuses it.
        app.Surface.Broken.TryRemove(reference, out _);
        app.Surface.Refused[reference] = true;
        var outbox = app.Get<Outbox>();
        var table = app.Get<StorageAccount>().Table(PaymentIntents.TableName);
        foreach (var operation in (await outbox.PendingAsync(table, intent.Id)).Select(r => r.RowKey[OutboxRow.Prefix.Length..r.RowKey.LastIndexOf('|')]).Distinct())
            await outbox.RecoverAsync(new OutboxRecoveryMessage(table.Name, intent.Id, operation), CancellationToken.None);

        Assert.Equal(IntentStatus.Refunded, abandoned!.Status);
        var refund = Assert.Single(await app.RefundsAsync(intent.Id));
        Assert.Equal((RefundStatus.Processed, intent.AmountMinor), (refund.Status, refund.AmountMinor));
        Assert.Equal(intent.AmountMinor, (await app.SandboxOrdersAsync(intent.Id)).Single().RefundedMinor);
        Assert.Empty(await outbox.PendingAsync(table, intent.Id));
    }

    [Fact]
    public async Task A_refund_asked_twice_with_one_key_and_concurrently_is_one_refund()
    {
        var intent = await app.OpenAsync(PaymentIntentFactory.NewReference(), amountMinor: 100_00);
        await app.DeliverAsync(await app.CustomerAsync(intent));
        var admin = app.CreateClientAs(1, Serverless.Platform.Identity.Roles.Admin);
        HttpRequestMessage Refund(string key, long amount) => new(HttpMethod.Post, $"/platform/payments/intents/{intent.Id}/refunds")
        {
            Content = JsonContent.Create(new { amount_minor = amount, reason = "customer asked" }), Headers = { { "Idempotency-Key", key } },
        };

        var first = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => admin.SendAsync(Refund("refund-1", 30_00))));
        var again = await admin.SendAsync(Refund("refund-1", 30_00));
        var otherAmount = await admin.SendAsync(Refund("refund-1", 40_00));
        var tooMuch = await admin.SendAsync(Refund("refund-2", 80_00));
        var rest = await admin.SendAsync(Refund("refund-3", 70_00));

        Assert.All(first.Append(again), r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        Assert.Equal(HttpStatusCode.Conflict, otherAmount.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, tooMuch.StatusCode);
        Assert.Equal(HttpStatusCode.Created, rest.StatusCode);
        var refunds = await app.RefundsAsync(intent.Id);
        Assert.Equal([30_00L, 70_00L], refunds.Select(r => r.AmountMinor));
        Assert.All(refunds, r => Assert.Equal(RefundStatus.Processed, r.Status));
        var after = await app.IntentAsync(intent.Id);
        Assert.Equal((IntentStatus.Refunded, 100_00L, 100_00L), (after.Status, after.RefundedMinor, after.RefundReservedMinor));
        Assert.Equal(100_00, (await app.SandboxOrdersAsync(intent.Id)).Single().RefundedMinor);
        Assert.Equal([IntentStatus.Pending, IntentStatus.Succeeded, IntentStatus.PartiallyRefunded, IntentStatus.Refunded], app.Surface.MovesOf(intent.Id));
        var view = await admin.GetFromJsonAsync<JsonElement>($"/platform/payments/intents/{intent.Id}");
        Assert.Equal(2, view.GetProperty("refunds").GetArrayLength());
    }

    [Fact]
    public async Task An_operator_refreshes_an_intent_whose_webhook_is_late_and_reads_the_event_when_it_comes()
    {
        var intent = await app.OpenAsync(PaymentIntentFactory.NewReference());
        var delivery = await app.CustomerAsync(intent); // paid at the provider; its webhook has not arrived yet
        var admin = app.CreateClientAs(1, Serverless.Platform.Identity.Roles.Admin);

        var refreshed = await admin.PostAsync($"/platform/payments/intents/{intent.Id}/refresh", null);
        var again = await admin.PostAsync($"/platform/payments/intents/{intent.Id}/refresh", null);
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        Assert.Equal(IntentStatus.Succeeded, (await refreshed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.Equal(IntentStatus.Succeeded, (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.Equal([IntentStatus.Pending, IntentStatus.Succeeded], app.Surface.MovesOf(intent.Id));

        // The webhook comes late: stored, and it changes nothing.
        Assert.Equal(HttpStatusCode.OK, (await app.DeliverAsync(delivery)).StatusCode);
        var stored = await admin.GetFromJsonAsync<JsonElement>($"/platform/payments/events/{SandboxProvider.ProviderName}/{delivery.EventId}");
        Assert.Equal(intent.Id, stored.GetProperty("intent_id").GetString());
        Assert.Equal([IntentStatus.Pending, IntentStatus.Succeeded], app.Surface.MovesOf(intent.Id));
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/platform/payments/events/{SandboxProvider.ProviderName}/evt_unknown")).StatusCode);
    }

    [Fact]
    public async Task A_lost_webhook_is_made_good_by_the_reconciliation_deadline()
    {
        var intent = await app.OpenAsync(PaymentIntentFactory.NewReference());
        await app.CustomerAsync(intent); // paid at the provider; its webhook never arrives

        await app.RunDeadlinesAsync();
        Assert.Equal(IntentStatus.Pending, (await app.IntentAsync(intent.Id)).Status);
        app.Time.Advance(PaymentIntents.FirstReconcile);
        await app.RunDeadlinesAsync();

        var after = await app.IntentAsync(intent.Id);
        Assert.Equal(IntentStatus.Succeeded, after.Status);
        Assert.Equal([IntentStatus.Pending, IntentStatus.Succeeded], app.Surface.MovesOf(intent.Id));
    }

    [Fact]
    public async Task An_intent_left_unpaid_past_its_deadline_is_expired_and_its_provider_order_closed()
    {
        var intent = await app.OpenAsync(PaymentIntentFactory.NewReference(), expiresIn: TimeSpan.FromMinutes(3));

        app.Time.Advance(TimeSpan.FromMinutes(3));
        await app.RunDeadlinesAsync();

        Assert.Equal(IntentStatus.Expired, (await app.IntentAsync(intent.Id)).Status);
        Assert.Equal("closed", (await app.SandboxOrdersAsync(intent.Id)).Single().Status);
        Assert.Null((await app.Intents.CheckoutAsync(app.Request(intent.Reference), CancellationToken.None)).CheckoutUrl);
    }

    [Fact]
    public async Task A_checkout_for_the_same_reference_at_another_price_is_refused()
    {
        var reference = PaymentIntentFactory.NewReference();
        await app.OpenAsync(reference, amountMinor: 10_00);

        await Assert.ThrowsAsync<ArgumentException>(() => app.Intents.CheckoutAsync(app.Request(reference, amountMinor: 11_00), CancellationToken.None));
    }

    [Fact]
    public async Task Payouts_are_recorded_before_the_provider_is_asked_and_a_repeat_of_the_key_is_the_same_payout()
    {
        var payouts = app.Get<Payouts>();
        var order = new PayoutOrder(RecordingSurface.Name, "shop-7", "week-48", 1234_00, "INR",
            new PayoutBankAccount("Shop Seven", "HDFC0001234", "001122334455"), "Shop Seven", "owner@shop.test");

        var results = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => payouts.RequestAsync(order, CancellationToken.None)));
        var otherAmount = await payouts.RequestAsync(order with { AmountMinor = 1 }, CancellationToken.None);

        Assert.All(results, r => Assert.Equal(PayoutOutcome.Requested, r.Outcome));
        var payout = Assert.Single(results.Select(r => r.Payout!.PayoutId).Distinct());
        var stored = await payouts.FindAsync(payout, CancellationToken.None);
        Assert.Equal((PayoutStatus.Processed, "4455"), (stored!.Status, stored.AccountLast4));
        Assert.DoesNotContain("001122334455", JsonSerializer.Serialize(stored));
        Assert.Equal(PayoutOutcome.KeyReused, otherAmount.Outcome);
    }
}
