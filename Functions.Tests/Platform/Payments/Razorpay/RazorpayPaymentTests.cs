using Microsoft.Extensions.DependencyInjection;
using Serverless.Platform.Payments;

namespace Serverless.Tests.Platform.Payments.Razorpay;

public sealed class RazorpayPaymentTests
{
    private static async Task<string> OrderAsync(RazorpayHarness rp, string intentId) =>
        (await rp.Provider.CreateCheckoutAsync(RazorpayHarness.Checkout(intentId), default)).OrderId;

    [Fact]
    public async Task An_order_without_payments_is_open()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        var orderId = await OrderAsync(rp, "pi_1001");

        var payment = await rp.Provider.FetchAsync(orderId, default);

        Assert.Equal(new ProviderPayment(orderId, ProviderPaymentState.Open, AmountMinor: 49_900, Currency: "INR", IntentId: "pi_1001"), payment);
    }

    [Fact]
    public async Task A_failed_attempt_then_a_captured_payment_is_succeeded_with_the_captured_one()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        var orderId = await OrderAsync(rp, "pi_1002");
        rp.Fake.Fail(orderId, "Payment was declined by the bank.");
        var paid = rp.Fake.Pay(orderId, "upi");

        var payment = await rp.Provider.FetchAsync(orderId, default);

        Assert.Equal(ProviderPaymentState.Succeeded, payment.State);
        Assert.Equal(paid, payment.PaymentId);
        Assert.Equal(49_900, payment.AmountMinor);
        Assert.Equal("INR", payment.Currency);
        Assert.Equal("upi", payment.Method);
        Assert.Null(payment.FailureReason);
        Assert.Equal("pi_1002", payment.IntentId);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds((long)rp.Fake.Payment(paid)["created_at"]!), payment.At);
    }

    [Fact]
    public async Task A_capture_beats_a_later_failed_attempt()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        var orderId = await OrderAsync(rp, "pi_1003");
        var paid = rp.Fake.Pay(orderId);
        rp.Fake.Fail(orderId, "Card expired.");

        var payment = await rp.Provider.FetchAsync(orderId, default);

        Assert.Equal((ProviderPaymentState.Succeeded, paid), (payment.State, payment.PaymentId));
    }

    [Fact]
    public async Task Only_failed_attempts_are_failed_with_Razorpays_error_description()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        var orderId = await OrderAsync(rp, "pi_1004");
        rp.Fake.Fail(orderId, "Payment was declined by the bank.");
        var last = rp.Fake.Fail(orderId, "Payment was cancelled by the customer.");

        var payment = await rp.Provider.FetchAsync(orderId, default);

        Assert.Equal(ProviderPaymentState.Failed, payment.State);
        Assert.Equal(last, payment.PaymentId);
        Assert.Equal("Payment was cancelled by the customer.", payment.FailureReason);
    }

    [Fact]
    public async Task An_authorised_payment_is_authorized()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        var orderId = await OrderAsync(rp, "pi_1005");
        var authorized = rp.Fake.Authorize(orderId);

        var payment = await rp.Provider.FetchAsync(orderId, default);

        Assert.Equal((ProviderPaymentState.Authorized, authorized, "card"), (payment.State, payment.PaymentId, payment.Method));
    }

    [Fact]
    public async Task Capturing_an_authorised_payment_succeeds_and_the_fake_holds_it_captured()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        var orderId = await OrderAsync(rp, "pi_1006");
        var paymentId = rp.Fake.Authorize(orderId);

        var payment = await rp.Provider.CaptureAsync(orderId, paymentId, 49_900, "INR", default);

        Assert.Equal((ProviderPaymentState.Succeeded, paymentId), (payment.State, payment.PaymentId));
        Assert.Equal("captured", (string)rp.Fake.Payment(paymentId)["status"]!);
        Assert.Equal("paid", (string)rp.Fake.Order(orderId)["status"]!);
        var capture = Assert.Single(rp.Fake.Calls, c => c.Route == $"POST /v1/payments/{paymentId}/capture");
        Assert.Equal("""{"amount":49900,"currency":"INR"}""", capture.Body);
    }

    [Fact]
    public async Task Capturing_a_captured_payment_answers_its_state_without_a_second_capture()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        var orderId = await OrderAsync(rp, "pi_1007");
        var paymentId = rp.Fake.Authorize(orderId);
        await rp.Provider.CaptureAsync(orderId, paymentId, 49_900, "INR", default);

        var again = await rp.Provider.CaptureAsync(orderId, paymentId, 49_900, "INR", default);

        Assert.Equal(ProviderPaymentState.Succeeded, again.State);
        Assert.Equal(1, rp.Fake.CallCount($"POST /v1/payments/{paymentId}/capture"));
    }

    [Fact]
    public async Task A_capture_whose_answer_was_dropped_is_succeeded_when_repeated()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        var orderId = await OrderAsync(rp, "pi_1008");
        var paymentId = rp.Fake.Authorize(orderId);
        rp.Fake.Script($"POST /v1/payments/{paymentId}/capture", RazorpayReply.DroppedConnection);

        var lost = await Assert.ThrowsAsync<PaymentProviderException>(() => rp.Provider.CaptureAsync(orderId, paymentId, 49_900, "INR", default));
        Assert.True(lost.Transient);
        Assert.Equal("captured", (string)rp.Fake.Payment(paymentId)["status"]!);

        var again = await rp.Provider.CaptureAsync(orderId, paymentId, 49_900, "INR", default);

        Assert.Equal(ProviderPaymentState.Succeeded, again.State);
        Assert.Equal(1, rp.Fake.CallCount($"POST /v1/payments/{paymentId}/capture"));
    }

    [Fact]
    public async Task A_capture_answered_500_is_transient_and_not_retried_by_the_client()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        var orderId = await OrderAsync(rp, "pi_1009");
        var paymentId = rp.Fake.Authorize(orderId);
        rp.Fake.Script($"POST /v1/payments/{paymentId}/capture", RazorpayReply.ServerError());

        var failure = await Assert.ThrowsAsync<PaymentProviderException>(() => rp.Provider.CaptureAsync(orderId, paymentId, 49_900, "INR", default));

        Assert.True(failure.Transient);
        Assert.Equal(500, failure.Status);
        Assert.Equal(1, rp.Fake.CallCount($"POST /v1/payments/{paymentId}/capture"));
        Assert.Equal("authorized", (string)rp.Fake.Payment(paymentId)["status"]!);
    }

    [Fact]
    public async Task A_capture_of_the_wrong_amount_is_refused_and_not_transient()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        var orderId = await OrderAsync(rp, "pi_1010");
        var paymentId = rp.Fake.Authorize(orderId);

        var failure = await Assert.ThrowsAsync<PaymentProviderException>(() => rp.Provider.CaptureAsync(orderId, paymentId, 100, "INR", default));

        Assert.False(failure.Transient);
        Assert.Contains("Capture amount must be equal to the amount authorized", failure.Message);
    }

    [Fact]
    public async Task A_fetch_answered_503_twice_is_retried_and_succeeds()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        var orderId = await OrderAsync(rp, "pi_1011");
        rp.Fake.Pay(orderId);
        rp.Fake.Script($"GET /v1/orders/{orderId}", RazorpayReply.ServerError(503), RazorpayReply.ServerError(503));

        var payment = await rp.Provider.FetchAsync(orderId, default);

        Assert.Equal(ProviderPaymentState.Succeeded, payment.State);
        Assert.Equal(3, rp.Fake.CallCount($"GET /v1/orders/{orderId}"));
    }

    [Fact]
    public async Task A_fetch_whose_connection_dropped_or_was_rate_limited_is_retried()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        var orderId = await OrderAsync(rp, "pi_1012");
        rp.Fake.Script($"GET /v1/orders/{orderId}/payments", RazorpayReply.DroppedConnection, RazorpayReply.TooManyRequests);

        var payment = await rp.Provider.FetchAsync(orderId, default);

        Assert.Equal(ProviderPaymentState.Open, payment.State);
        Assert.Equal(3, rp.Fake.CallCount($"GET /v1/orders/{orderId}/payments"));
    }

    [Fact]
    public async Task A_fetch_still_failing_after_the_retries_is_transient()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        var orderId = await OrderAsync(rp, "pi_1013");
        rp.Fake.Script($"GET /v1/orders/{orderId}", RazorpayReply.ServerError(503), RazorpayReply.ServerError(503), RazorpayReply.ServerError(503));

        var failure = await Assert.ThrowsAsync<PaymentProviderException>(() => rp.Provider.FetchAsync(orderId, default));

        Assert.True(failure.Transient);
        Assert.Equal(503, failure.Status);
        Assert.Equal(3, rp.Fake.CallCount($"GET /v1/orders/{orderId}"));
    }

    [Fact]
    public async Task Fetching_an_unknown_order_is_refused_and_not_transient()
    {
        await using var rp = await RazorpayHarness.StartAsync();

        var failure = await Assert.ThrowsAsync<PaymentProviderException>(() => rp.Provider.FetchAsync("order_Unknown0000000", default));

        Assert.False(failure.Transient);
        Assert.Equal(400, failure.Status);
        Assert.Equal("razorpay: GET /v1/orders/order_Unknown0000000: 400 BAD_REQUEST_ERROR: The id provided does not exist", failure.Message);
        Assert.Equal(1, rp.Fake.CallCount("GET /v1/orders/order_Unknown0000000"));
    }

    [Fact]
    public async Task Razorpay_unreachable_is_transient()
    {
        var settings = RazorpayHarness.Settings("http://127.0.0.1:9");
        settings["Payments:Razorpay:Retries"] = "0";
        await using var services = RazorpayHarness.Build(settings);

        var failure = await Assert.ThrowsAsync<PaymentProviderException>(
            () => services.GetRequiredService<RazorpayProvider>().FetchAsync("order_Any00000000000", default));

        Assert.True(failure.Transient);
        Assert.Null(failure.Status);
    }
}
