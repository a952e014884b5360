using Serverless.Platform.Payments;

namespace Serverless.Tests.Platform.Payments.Stripe;

/// <summary>
/// Stripe.net retries network failures and 5xx (twice, with the same idempotency key); what is left over reaches
/// the platform as a transient <see cref="PaymentProviderException"/>, a refusal as a non-transient one.
/// </summary>
public sealed class StripeFailureTests : IAsyncLifetime
{
    private const string Sessions = "/v1/checkout/sessions";
    private StripeTestbed _bed = null!;

    // A short attempt timeout, so a lost answer costs a second, not ten.
    public async Task InitializeAsync() => _bed = await StripeTestbed.StartAsync(timeout: TimeSpan.FromSeconds(1));

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    [Fact]
    public async Task A_session_created_whose_answer_was_lost_is_answered_by_the_librarys_retry()
    {
        _bed.Fake.Script("POST", Sessions, StripeFault.AnswerLost);

        var checkout = await _bed.CreateAsync(_bed.Checkout());

        Assert.Equal(1, _bed.Fake.SessionCount);
        Assert.Equal(checkout.OrderId, _bed.Fake.Session(checkout.OrderId).Id);
        var calls = _bed.Fake.CallsTo("POST", Sessions);
        Assert.Equal([false, true], calls.Select(c => c.Replayed));
        Assert.Single(calls.Select(c => c.IdempotencyKey).Distinct());
    }

    [Fact]
    public async Task A_session_created_whose_answers_were_all_lost_is_found_by_the_platforms_retry()
    {
        _bed.Fake.Script("POST", Sessions, StripeFault.AnswerLost, StripeFault.AnswerLost, StripeFault.AnswerLost);

        var ex = await Assert.ThrowsAsync<PaymentProviderException>(() => _bed.CreateAsync(_bed.Checkout()));
        Assert.True(ex.Transient);
        Assert.Contains("did not answer", ex.Message);
        Assert.Equal(1, _bed.Fake.SessionCount);

        var checkout = await _bed.CreateAsync(_bed.Checkout());

        Assert.Equal(1, _bed.Fake.SessionCount);
        Assert.Equal("open", _bed.Fake.Session(checkout.OrderId).Status);
        // Three attempts by the library (the first did the work), then the platform's call, answered from the record.
        Assert.Equal([false, true, true, true], _bed.Fake.CallsTo("POST", Sessions).Select(c => c.Replayed));
    }

    [Fact]
    public async Task A_dropped_connection_is_retried_by_the_library()
    {
        _bed.Fake.Script("POST", Sessions, StripeFault.DroppedConnection);

        await _bed.CreateAsync(_bed.Checkout());

        Assert.Equal(2, _bed.Fake.CallsTo("POST", Sessions).Count);
        Assert.Equal(1, _bed.Fake.SessionCount);
    }

    [Fact]
    public async Task Connections_that_keep_dropping_are_transient()
    {
        _bed.Fake.Script("POST", Sessions, StripeFault.DroppedConnection, StripeFault.DroppedConnection, StripeFault.DroppedConnection);

        var ex = await Assert.ThrowsAsync<PaymentProviderException>(() => _bed.CreateAsync(_bed.Checkout()));

        Assert.Equal((true, (int?)null), (ex.Transient, ex.Status));
        Assert.Equal(0, _bed.Fake.SessionCount);
    }

    [Fact]
    public async Task A_server_error_is_retried_by_the_library()
    {
        _bed.Fake.Script("POST", Sessions, StripeFault.ServerError);

        await _bed.CreateAsync(_bed.Checkout());

        Assert.Equal(2, _bed.Fake.CallsTo("POST", Sessions).Count);
        Assert.Equal(1, _bed.Fake.SessionCount);
    }

    [Fact]
    public async Task Server_errors_that_persist_are_transient()
    {
        _bed.Fake.Script("POST", Sessions, StripeFault.ServerError, StripeFault.ServerError, StripeFault.ServerError);

        var ex = await Assert.ThrowsAsync<PaymentProviderException>(() => _bed.CreateAsync(_bed.Checkout()));

        Assert.Equal((true, (int?)500), (ex.Transient, ex.Status));
        Assert.Equal(3, _bed.Fake.CallsTo("POST", Sessions).Count);
    }

    [Fact]
    public async Task Too_many_requests_is_transient()
    {
        _bed.Fake.Script("POST", Sessions, StripeFault.TooManyRequests);

        var ex = await Assert.ThrowsAsync<PaymentProviderException>(() => _bed.CreateAsync(_bed.Checkout()));

        Assert.Equal((true, (int?)429), (ex.Transient, ex.Status));
        Assert.Contains("Too many requests", ex.Message);
    }

    [Fact]
    public async Task A_fetch_whose_connection_drops_is_retried_and_answers()
    {
        var id = (await _bed.CreateAsync(_bed.Checkout())).OrderId;
        _bed.Fake.Script("GET", $"{Sessions}/{id}", StripeFault.DroppedConnection, StripeFault.ServerError);

        var payment = await _bed.Provider.FetchAsync(id, CancellationToken.None);

        Assert.Equal(ProviderPaymentState.Open, payment.State);
        Assert.Equal(3, _bed.Fake.CallsTo("GET", $"{Sessions}/{id}").Count);
    }

    [Fact]
    public async Task A_request_stripe_refuses_is_not_transient_and_carries_stripes_message()
    {
        var ex = await Assert.ThrowsAsync<PaymentProviderException>(() => _bed.CreateAsync(_bed.Checkout(amountMinor: 0)));

        Assert.Equal((false, (int?)400), (ex.Transient, ex.Status));
        Assert.Equal("stripe: Invalid integer: unit_amount must be a positive integer.", ex.Message);
        Assert.Single(_bed.Fake.CallsTo("POST", Sessions));
    }

    [Fact]
    public async Task A_wrong_api_key_is_not_transient()
    {
        await using var bed = await StripeTestbed.StartAsync(secretKey: "sk_test_not_this_account");

        var ex = await Assert.ThrowsAsync<PaymentProviderException>(() => bed.CreateAsync(bed.Checkout()));

        Assert.Equal((false, (int?)401), (ex.Transient, ex.Status));
        Assert.Equal(0, bed.Fake.SessionCount);
    }

    [Fact]
    public async Task A_call_the_caller_cancels_is_a_cancellation_not_a_provider_failure()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _bed.Provider.CreateCheckoutAsync(_bed.Checkout(), cancelled.Token));
    }
}
