using Serverless.Platform.Payments;

namespace Serverless.Tests.Platform.Payments.Stripe;

public sealed class StripePaymentStateTests : IAsyncLifetime
{
    private StripeTestbed _bed = null!;

    public async Task InitializeAsync() => _bed = await StripeTestbed.StartAsync();

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private async Task<string> OpenSessionAsync(string intentId = "int_1") => (await _bed.CreateAsync(_bed.Checkout(intentId))).OrderId;

    private Task<ProviderPayment> FetchAsync(string sessionId) => _bed.Provider.FetchAsync(sessionId, CancellationToken.None);

    [Fact]
    public async Task An_unpaid_session_is_open()
    {
        var id = await OpenSessionAsync("int_7");

        var payment = await FetchAsync(id);

        Assert.Equal(new ProviderPayment(id, ProviderPaymentState.Open, AmountMinor: 49_900, Currency: "INR", Method: "card", IntentId: "int_7"), payment);
    }

    [Fact]
    public async Task A_paid_session_succeeded_with_its_payment_intent_and_method()
    {
        var id = await OpenSessionAsync("int_7");
        _bed.Fake.Complete(id, "upi");

        var payment = await FetchAsync(id);

        Assert.Equal(ProviderPaymentState.Succeeded, payment.State);
        Assert.Equal(_bed.Fake.Session(id).PaymentIntentId, payment.PaymentId);
        Assert.StartsWith("pi_", payment.PaymentId);
        Assert.Equal((49_900L, "INR", "upi", "int_7", (string?)null), (payment.AmountMinor, payment.Currency, payment.Method, payment.IntentId, payment.FailureReason));
        var call = Assert.Single(_bed.Fake.CallsTo("GET", "/v1/checkout/sessions/" + id));
        Assert.Contains("payment_intent", call.Parameters.Values);
    }

    [Fact]
    public async Task A_session_completed_with_a_delayed_method_is_open_until_the_money_arrives()
    {
        var id = await OpenSessionAsync();
        _bed.Fake.CompleteAsync(id);

        Assert.Equal(ProviderPaymentState.Open, (await FetchAsync(id)).State);

        _bed.Fake.AsyncSucceed(id);
        var paid = await FetchAsync(id);
        Assert.Equal((ProviderPaymentState.Succeeded, "us_bank_account"), (paid.State, paid.Method));
    }

    [Fact]
    public async Task A_delayed_payment_that_fails_is_failed_with_the_reason()
    {
        var id = await OpenSessionAsync();
        _bed.Fake.CompleteAsync(id);
        _bed.Fake.AsyncFail(id, "The account was closed.");

        var payment = await FetchAsync(id);

        Assert.Equal((ProviderPaymentState.Failed, "The account was closed."), (payment.State, payment.FailureReason));
    }

    [Fact]
    public async Task A_declined_attempt_on_an_open_session_is_failed_with_stripes_message()
    {
        var id = await OpenSessionAsync();
        _bed.Fake.FailPaymentAttempt(id, "Your card was declined.");

        var payment = await FetchAsync(id);

        Assert.Equal((ProviderPaymentState.Failed, "Your card was declined."), (payment.State, payment.FailureReason));
        Assert.StartsWith("pi_", payment.PaymentId);
    }

    [Fact]
    public async Task A_declined_attempt_then_a_payment_succeeded()
    {
        var id = await OpenSessionAsync();
        _bed.Fake.FailPaymentAttempt(id, "Your card was declined.");
        _bed.Fake.Complete(id);

        var payment = await FetchAsync(id);

        Assert.Equal((ProviderPaymentState.Succeeded, (string?)null), (payment.State, payment.FailureReason));
    }

    [Fact]
    public async Task An_expired_session_is_expired()
    {
        var id = await OpenSessionAsync();
        _bed.Fake.Expire(id);

        Assert.Equal(ProviderPaymentState.Expired, (await FetchAsync(id)).State);
    }

    [Fact]
    public async Task A_session_past_its_expires_at_is_expired()
    {
        var id = await OpenSessionAsync();
        _bed.Time.Advance(TimeSpan.FromHours(2));

        Assert.Equal(ProviderPaymentState.Expired, (await FetchAsync(id)).State);
    }

    [Fact]
    public async Task An_unknown_session_is_a_refusal_not_a_transient_failure()
    {
        var ex = await Assert.ThrowsAsync<PaymentProviderException>(() => FetchAsync("cs_test_nope"));

        Assert.Equal((false, 404, "stripe"), (ex.Transient, ex.Status, ex.Provider));
        Assert.Contains("No such checkout.session: 'cs_test_nope'", ex.Message);
    }

    [Fact]
    public async Task Capture_answers_the_sessions_state()
    {
        var id = await _bed.PaidSessionAsync();
        var paymentId = _bed.Fake.Session(id).PaymentIntentId!;

        var payment = await _bed.Provider.CaptureAsync(id, paymentId, 49_900, "INR", CancellationToken.None);

        Assert.Equal((ProviderPaymentState.Succeeded, paymentId), (payment.State, payment.PaymentId));
        Assert.DoesNotContain(_bed.Fake.Calls, c => c.Method == "POST" && c.Path != "/v1/checkout/sessions");
    }

    [Fact]
    public async Task Cancelling_an_open_session_expires_it()
    {
        var id = await OpenSessionAsync();

        await _bed.Provider.CancelAsync(id, CancellationToken.None);

        Assert.Equal("expired", _bed.Fake.Session(id).Status);
        Assert.Single(_bed.Fake.CallsTo("POST", $"/v1/checkout/sessions/{id}/expire"));
    }

    [Fact]
    public async Task Cancelling_a_session_paid_meanwhile_is_quiet_and_leaves_the_payment()
    {
        var id = await _bed.PaidSessionAsync();

        await _bed.Provider.CancelAsync(id, CancellationToken.None);

        Assert.Equal(("complete", "paid"), (_bed.Fake.Session(id).Status, _bed.Fake.Session(id).PaymentStatus));
    }

    [Fact]
    public async Task Cancelling_twice_is_quiet()
    {
        var id = await OpenSessionAsync();

        await _bed.Provider.CancelAsync(id, CancellationToken.None);
        await _bed.Provider.CancelAsync(id, CancellationToken.None);

        Assert.Equal("expired", _bed.Fake.Session(id).Status);
    }

    [Fact]
    public async Task Cancelling_an_unknown_session_is_a_refusal()
    {
        var ex = await Assert.ThrowsAsync<PaymentProviderException>(() => _bed.Provider.CancelAsync("cs_test_nope", CancellationToken.None));

        Assert.Equal((false, 404), (ex.Transient, ex.Status));
    }
}
