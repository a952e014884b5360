using Serverless.Platform.Payments;

namespace Serverless.Tests.Platform.Payments.Stripe;

public sealed class StripeCheckoutTests : IAsyncLifetime
{
    private StripeTestbed _bed = null!;

    public async Task InitializeAsync() => _bed = await StripeTestbed.StartAsync();

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    [Fact]
    public async Task A_checkout_is_a_payment_session_for_the_intent_with_one_line_item()
    {
        var checkout = await _bed.CreateAsync(_bed.Checkout("int_42"));

        Assert.StartsWith("cs_test_", checkout.OrderId);
        Assert.Equal("https://checkout.stripe.com/c/pay/" + checkout.OrderId, checkout.CheckoutUrl);
        var session = _bed.Fake.Session(checkout.OrderId);
        Assert.Equal(("open", "unpaid", 49_900L, "inr", "Pre-order: 2 concert tickets"),
            (session.Status, session.PaymentStatus, session.AmountTotal, session.Currency, session.ProductName));
        Assert.Equal("int_42", session.ClientReferenceId);
        Assert.Equal("int_42", session.Metadata["intent_id"]);
        Assert.Equal("int_42", session.PaymentIntentMetadata["intent_id"]);
        Assert.Equal("https://shop.example.com/pay/return?session_id={CHECKOUT_SESSION_ID}", session.SuccessUrl);
        Assert.Equal("https://shop.example.com/pay/cancel", session.CancelUrl);
        Assert.Equal("asha@example.com", session.CustomerEmail);
        var call = Assert.Single(_bed.Fake.CallsTo("POST", "/v1/checkout/sessions"));
        Assert.Equal("checkout-int_42", call.IdempotencyKey);
        Assert.Equal("payment", call.Parameters["mode"]);
        Assert.Equal("1", call.Parameters["line_items[0][quantity]"]);
    }

    [Fact]
    public async Task A_checkout_without_an_email_sends_none()
    {
        var checkout = await _bed.CreateAsync(_bed.Checkout(email: null));

        Assert.Null(_bed.Fake.Session(checkout.OrderId).CustomerEmail);
        Assert.False(Assert.Single(_bed.Fake.CallsTo("POST", "/v1/checkout/sessions")).Parameters.ContainsKey("customer_email"));
    }

    [Fact]
    public async Task The_same_idempotency_key_twice_is_one_session()
    {
        var first = await _bed.CreateAsync(_bed.Checkout());
        var second = await _bed.CreateAsync(_bed.Checkout());

        Assert.Equal(first, second);
        Assert.Equal(1, _bed.Fake.SessionCount);
        Assert.Equal([false, true], _bed.Fake.CallsTo("POST", "/v1/checkout/sessions").Select(c => c.Replayed));
    }

    [Fact]
    public async Task Twenty_concurrent_creates_with_one_key_are_one_session()
    {
        var request = _bed.Checkout();

        var checkouts = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => _bed.CreateAsync(request))));

        Assert.Single(checkouts.Distinct());
        Assert.Equal(1, _bed.Fake.SessionCount);
        Assert.Equal(19, _bed.Fake.CallsTo("POST", "/v1/checkout/sessions").Count(c => c.Replayed));
    }

    [Fact]
    public async Task Different_intents_are_different_sessions()
    {
        var a = await _bed.CreateAsync(_bed.Checkout("int_a"));
        var b = await _bed.CreateAsync(_bed.Checkout("int_b"));

        Assert.NotEqual(a.OrderId, b.OrderId);
        Assert.Equal(2, _bed.Fake.SessionCount);
    }

    [Fact]
    public async Task A_key_reused_with_other_parameters_is_refused_for_good()
    {
        await _bed.CreateAsync(_bed.Checkout(key: "k1", amountMinor: 100));

        var ex = await Assert.ThrowsAsync<PaymentProviderException>(() => _bed.CreateAsync(_bed.Checkout(key: "k1", amountMinor: 200)));

        Assert.False(ex.Transient);
        Assert.Equal(400, ex.Status);
        Assert.Contains("same parameters", ex.Message);
        Assert.Equal(1, _bed.Fake.SessionCount);
    }

    [Fact]
    public async Task A_deadline_inside_stripes_window_is_the_sessions_expiry()
    {
        var checkout = await _bed.CreateAsync(_bed.Checkout(expiresIn: TimeSpan.FromHours(2)));

        var expected = new DateTimeOffset(2026, 11, 22, 14, 0, 0, TimeSpan.Zero);
        Assert.Equal(expected, checkout.ExpiresAt);
        Assert.Equal(expected, _bed.Fake.Session(checkout.OrderId).ExpiresAt);
    }

    [Fact]
    public async Task A_deadline_sooner_than_30_minutes_is_raised_into_stripes_window()
    {
        var checkout = await _bed.CreateAsync(_bed.Checkout(expiresIn: TimeSpan.FromMinutes(9)));

        // 12:00 + 30 min + a minute's margin, rounded up to the 10-minute grid.
        var expected = new DateTimeOffset(2026, 11, 22, 12, 40, 0, TimeSpan.Zero);
        Assert.Equal(expected, checkout.ExpiresAt);
        Assert.Equal(expected, _bed.Fake.Session(checkout.OrderId).ExpiresAt);
    }

    [Fact]
    public async Task A_deadline_days_away_is_lowered_into_stripes_window()
    {
        var checkout = await _bed.CreateAsync(_bed.Checkout(expiresIn: TimeSpan.FromDays(3)));

        // 12:00 + 24 h - a minute's margin, rounded down to the 10-minute grid.
        var expected = new DateTimeOffset(2026, 11, 23, 11, 50, 0, TimeSpan.Zero);
        Assert.Equal(expected, checkout.ExpiresAt);
        Assert.Equal(expected, _bed.Fake.Session(checkout.OrderId).ExpiresAt);
    }

    [Fact]
    public async Task A_retry_minutes_later_inside_the_grid_sends_the_same_parameters_and_is_one_session()
    {
        // The intent's deadline is 5 minutes away: both calls raise it to 12:40.
        var request = _bed.Checkout(expiresIn: TimeSpan.FromMinutes(5));
        var first = await _bed.CreateAsync(request);
        _bed.Time.Advance(TimeSpan.FromMinutes(4));

        var second = await _bed.CreateAsync(request);

        Assert.Equal(first.OrderId, second.OrderId);
        Assert.Equal(1, _bed.Fake.SessionCount);
    }

    [Theory]
    [InlineData("2026-11-22T12:00:00Z", "2026-11-22T12:09:00Z", "2026-11-22T12:40:00Z")]
    [InlineData("2026-11-22T12:09:00Z", "2026-11-22T12:09:00Z", "2026-11-22T12:40:00Z")]
    [InlineData("2026-11-22T12:09:01Z", "2026-11-22T12:09:00Z", "2026-11-22T12:50:00Z")]
    [InlineData("2026-11-22T12:00:00Z", "2026-11-22T12:45:30Z", "2026-11-22T12:45:30Z")]
    [InlineData("2026-11-22T12:00:00Z", "2026-11-23T11:59:00Z", "2026-11-23T11:50:00Z")]
    [InlineData("2026-11-22T12:00:00Z", "2026-11-22T11:00:00Z", "2026-11-22T12:40:00Z")]
    public void Session_expiry_is_the_deadline_clamped_into_stripes_window(string now, string deadline, string expected)
    {
        var expiry = StripeProvider.SessionExpiry(DateTimeOffset.Parse(deadline), DateTimeOffset.Parse(now));

        Assert.Equal(DateTimeOffset.Parse(expected), expiry);
        Assert.InRange(expiry, DateTimeOffset.Parse(now) + StripeProvider.ShortestSession, DateTimeOffset.Parse(now) + StripeProvider.LongestSession);
    }
}
