using System.Text;
using Serverless.Platform.Payments;

namespace Serverless.Tests.Platform.Payments.Razorpay;

public sealed class RazorpayCheckoutTests
{
    [Fact]
    public async Task A_checkout_is_one_order_with_the_intent_as_receipt_and_note_and_a_checkout_page_of_ours()
    {
        await using var rp = await RazorpayHarness.StartAsync();

        var checkout = await rp.Provider.CreateCheckoutAsync(RazorpayHarness.Checkout("pi_0001"), default);

        var order = Assert.Single(rp.Fake.Orders);
        Assert.Equal((string)order["id"]!, checkout.OrderId);
        Assert.StartsWith("order_", checkout.OrderId);
        Assert.Equal("/payments/razorpay/checkout/" + checkout.OrderId, checkout.CheckoutUrl);
        Assert.Equal(49_900, (long)order["amount"]!);
        Assert.Equal("INR", (string)order["currency"]!);
        Assert.Equal("pi_0001", (string)order["receipt"]!);
        Assert.Equal("pi_0001", (string)order["notes"]!["intent_id"]!);
        var create = Assert.Single(rp.Fake.Calls, c => c.Route == "POST /v1/orders");
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{FakeRazorpay.KeyId}:{FakeRazorpay.KeySecret}")), create.Authorization);
        Assert.Contains("\"receipt\":\"pi_0001\"", create.Body);
        // The lookup by receipt comes first: Razorpay orders take no idempotency key.
        Assert.Equal("GET /v1/orders", rp.Fake.Calls.First().Route);
        Assert.Equal("?receipt=pi_0001", rp.Fake.Calls.First().Query);
    }

    [Fact]
    public async Task Asking_again_for_the_same_intent_answers_the_same_order()
    {
        await using var rp = await RazorpayHarness.StartAsync();

        var first = await rp.Provider.CreateCheckoutAsync(RazorpayHarness.Checkout("pi_0002"), default);
        var second = await rp.Provider.CreateCheckoutAsync(RazorpayHarness.Checkout("pi_0002"), default);

        Assert.Equal(first, second);
        Assert.Single(rp.Fake.Orders);
        Assert.Equal(1, rp.Fake.CallCount("POST /v1/orders"));
    }

    [Fact]
    public async Task An_order_whose_answer_was_dropped_is_found_by_its_receipt_when_the_call_is_repeated()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        rp.Fake.Script("POST /v1/orders", RazorpayReply.DroppedConnection);

        var lost = await Assert.ThrowsAsync<PaymentProviderException>(() => rp.Provider.CreateCheckoutAsync(RazorpayHarness.Checkout("pi_0003"), default));
        Assert.True(lost.Transient);
        var created = Assert.Single(rp.Fake.Orders);

        var checkout = await rp.Provider.CreateCheckoutAsync(RazorpayHarness.Checkout("pi_0003"), default);

        Assert.Equal((string)created["id"]!, checkout.OrderId);
        Assert.Single(rp.Fake.Orders);
        Assert.Equal(1, rp.Fake.CallCount("POST /v1/orders"));
    }

    [Fact]
    public async Task An_order_whose_answer_outlived_the_timeout_is_found_by_its_receipt_when_the_call_is_repeated()
    {
        await using var rp = await RazorpayHarness.StartAsync(s => s["Payments:Razorpay:Timeout"] = "00:00:00.300");
        rp.Fake.Script("POST /v1/orders", RazorpayReply.Stalled);

        var lost = await Assert.ThrowsAsync<PaymentProviderException>(() => rp.Provider.CreateCheckoutAsync(RazorpayHarness.Checkout("pi_0004"), default));
        Assert.True(lost.Transient);
        Assert.Contains("no answer within 0.3 s", lost.Message);
        var created = Assert.Single(rp.Fake.Orders);

        var checkout = await rp.Provider.CreateCheckoutAsync(RazorpayHarness.Checkout("pi_0004"), default);

        Assert.Equal((string)created["id"]!, checkout.OrderId);
        Assert.Single(rp.Fake.Orders);
        Assert.Equal(1, rp.Fake.CallCount("POST /v1/orders"));
    }

    [Fact]
    public async Task Twenty_concurrent_calls_after_the_first_order_all_answer_that_order()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        var first = await rp.Provider.CreateCheckoutAsync(RazorpayHarness.Checkout("pi_0005"), default);

        var checkouts = await Task.WhenAll(Enumerable.Range(0, 20)
            .Select(_ => Task.Run(() => rp.Provider.CreateCheckoutAsync(RazorpayHarness.Checkout("pi_0005"), default))));

        Assert.All(checkouts, c => Assert.Equal(first, c));
        Assert.Single(rp.Fake.Orders);
        Assert.Equal(1, rp.Fake.CallCount("POST /v1/orders"));
    }

    [Fact]
    public async Task Order_creation_is_not_retried_by_the_client_on_503_and_the_caller_retry_creates_one_order()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        rp.Fake.Script("POST /v1/orders", RazorpayReply.ServerError(503));

        var failure = await Assert.ThrowsAsync<PaymentProviderException>(() => rp.Provider.CreateCheckoutAsync(RazorpayHarness.Checkout("pi_0006"), default));

        Assert.True(failure.Transient);
        Assert.Equal(503, failure.Status);
        Assert.Equal(1, rp.Fake.CallCount("POST /v1/orders"));
        Assert.Empty(rp.Fake.Orders);

        var checkout = await rp.Provider.CreateCheckoutAsync(RazorpayHarness.Checkout("pi_0006"), default);
        Assert.Equal((string)Assert.Single(rp.Fake.Orders)["id"]!, checkout.OrderId);
    }

    [Fact]
    public async Task Order_creation_answered_429_is_transient_and_not_retried()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        rp.Fake.Script("POST /v1/orders", RazorpayReply.TooManyRequests);

        var failure = await Assert.ThrowsAsync<PaymentProviderException>(() => rp.Provider.CreateCheckoutAsync(RazorpayHarness.Checkout("pi_0007"), default));

        Assert.True(failure.Transient);
        Assert.Equal(429, failure.Status);
        Assert.Equal(1, rp.Fake.CallCount("POST /v1/orders"));
    }

    [Fact]
    public async Task A_refused_order_is_not_transient_and_carries_Razorpays_description()
    {
        await using var rp = await RazorpayHarness.StartAsync();

        var failure = await Assert.ThrowsAsync<PaymentProviderException>(
            () => rp.Provider.CreateCheckoutAsync(RazorpayHarness.Checkout("pi_0008", amountMinor: 50), default));

        Assert.False(failure.Transient);
        Assert.Equal(400, failure.Status);
        Assert.Equal("razorpay", failure.Provider);
        Assert.Equal("razorpay: POST /v1/orders: 400 BAD_REQUEST_ERROR: The amount must be atleast INR 1.00", failure.Message);
        Assert.Empty(rp.Fake.Orders);
    }

    [Fact]
    public async Task An_intent_id_longer_than_a_receipt_is_stored_as_a_digest_and_still_found_again()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        var intentId = "pi_" + new string('x', 60);

        var first = await rp.Provider.CreateCheckoutAsync(RazorpayHarness.Checkout(intentId), default);
        var second = await rp.Provider.CreateCheckoutAsync(RazorpayHarness.Checkout(intentId), default);

        Assert.Equal(first, second);
        var order = Assert.Single(rp.Fake.Orders);
        Assert.Equal(40, ((string)order["receipt"]!).Length);
        Assert.Equal(intentId, (string)order["notes"]!["intent_id"]!);
    }

    [Fact]
    public async Task An_existing_order_for_the_intent_with_another_amount_is_refused_rather_than_reused()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        await rp.Provider.CreateCheckoutAsync(RazorpayHarness.Checkout("pi_0009", amountMinor: 10_000), default);

        var failure = await Assert.ThrowsAsync<PaymentProviderException>(
            () => rp.Provider.CreateCheckoutAsync(RazorpayHarness.Checkout("pi_0009", amountMinor: 20_000), default));

        Assert.False(failure.Transient);
        Assert.Single(rp.Fake.Orders);
    }

    [Fact]
    public async Task Wrong_keys_are_refused_with_401_and_the_secret_is_not_in_the_message()
    {
        await using var rp = await RazorpayHarness.StartAsync(s => s["Payments:Razorpay:KeySecret"] = "not_the_secret_123");

        var failure = await Assert.ThrowsAsync<PaymentProviderException>(() => rp.Provider.CreateCheckoutAsync(RazorpayHarness.Checkout("pi_0010"), default));

        Assert.False(failure.Transient);
        Assert.Equal(401, failure.Status);
        Assert.Contains("Authentication failed", failure.Message);
        Assert.DoesNotContain("not_the_secret_123", failure.ToString());
    }

    [Fact]
    public async Task Cancelling_an_order_makes_no_call_because_Razorpay_orders_cannot_be_closed()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        var checkout = await rp.Provider.CreateCheckoutAsync(RazorpayHarness.Checkout("pi_0011"), default);
        var calls = rp.Fake.Calls.Count;

        await rp.Provider.CancelAsync(checkout.OrderId, default);

        Assert.Equal(calls, rp.Fake.Calls.Count);
    }
}
