using System.Text;
using Microsoft.AspNetCore.Http;
using Serverless.Platform.Payments;

namespace Serverless.Tests.Platform.Payments.Stripe;

public sealed class StripeWebhookTests : IAsyncLifetime
{
    private StripeTestbed _bed = null!;

    public async Task InitializeAsync() => _bed = await StripeTestbed.StartAsync();

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private static HeaderDictionary Headers(string? signature) =>
        signature is null ? new HeaderDictionary() : new HeaderDictionary { ["Stripe-Signature"] = signature };

    private InboundVerification Verify(string json, string? signature, IPaymentProvider? provider = null) =>
        (provider ?? _bed.Provider).Verify(Headers(signature), Encoding.UTF8.GetBytes(json), _bed.Time.GetUtcNow());

    private ProviderEvent Parse(string eventId, string json) => _bed.Provider.Parse(eventId, Encoding.UTF8.GetBytes(json));

    private async Task<string> OpenSessionAsync(string intentId = "int_9") => (await _bed.CreateAsync(_bed.Checkout(intentId))).OrderId;

    [Fact]
    public async Task An_event_signed_by_stripe_is_verified_and_its_id_returned()
    {
        var (json, signature, eventId) = _bed.Fake.Event("checkout.session.completed", await _bed.PaidSessionAsync());

        Assert.Equal(InboundVerification.Ok(eventId), Verify(json, signature));
    }

    [Fact]
    public async Task A_tampered_body_is_refused()
    {
        var (json, signature, _) = _bed.Fake.Event("checkout.session.completed", await _bed.PaidSessionAsync());

        var verification = Verify(json.Replace("49900", "100"), signature);

        Assert.False(verification.Valid);
        Assert.Null(verification.EventId);
        Assert.Contains("expected signature was not found", verification.Problem);
    }

    [Fact]
    public async Task An_event_signed_with_another_secret_is_refused()
    {
        await using var other = await StripeTestbed.StartAsync(webhookSecret: "whsec_someone_elses_endpoint");
        var (json, signature, _) = _bed.Fake.Event("checkout.session.completed", await _bed.PaidSessionAsync());

        var verification = Verify(json, signature, other.Provider);

        Assert.False(verification.Valid);
        Assert.Contains("expected signature was not found", verification.Problem);
    }

    [Fact]
    public async Task An_event_signed_more_than_the_tolerance_ago_is_refused_by_our_clock()
    {
        var (json, signature, eventId) = _bed.Fake.Event("checkout.session.completed", await _bed.PaidSessionAsync());

        _bed.Time.Advance(TimeSpan.FromSeconds(300));
        Assert.Equal(InboundVerification.Ok(eventId), Verify(json, signature));

        _bed.Time.Advance(TimeSpan.FromSeconds(1));
        var stale = Verify(json, signature);
        Assert.False(stale.Valid);
        Assert.Contains("outside of the allowed tolerance", stale.Problem);
    }

    [Fact]
    public async Task An_event_signed_in_the_future_beyond_the_tolerance_is_refused()
    {
        var (json, signature, _) = _bed.Fake.Event("checkout.session.completed", await _bed.PaidSessionAsync(),
            at: _bed.Time.GetUtcNow().AddMinutes(6));

        Assert.False(Verify(json, signature).Valid);
    }

    [Theory]
    [InlineData(null, "missing")]
    [InlineData("", "missing")]
    [InlineData("garbage", "format")]
    [InlineData("t=,v1=", "signature")]
    [InlineData("t=99999999999,v1=abc", "signature")]
    public async Task A_missing_or_garbled_signature_header_is_refused_with_a_problem(string? header, string problem)
    {
        var (json, _, _) = _bed.Fake.Event("checkout.session.completed", await _bed.PaidSessionAsync());

        var verification = Verify(json, header);

        Assert.False(verification.Valid);
        Assert.Contains(problem, verification.Problem, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_validly_signed_timestamp_the_library_cannot_read_is_refused_not_thrown()
    {
        const string json = """{"id":"evt_1","object":"event"}""";
        var signature = EventUtilitySigner.Sign(json, _bed.Fake.WebhookSecret, new DateTimeOffset(2100, 1, 1, 0, 0, 0, TimeSpan.Zero));

        var verification = Verify(json, signature);

        Assert.False(verification.Valid);
        Assert.Contains("format", verification.Problem);
    }

    [Fact]
    public void A_signed_body_that_is_not_an_event_is_refused()
    {
        const string json = """{"object":"event"}""";
        var signature = EventUtilitySigner.Sign(json, _bed.Fake.WebhookSecret, _bed.Time.GetUtcNow());

        Assert.Equal(InboundVerification.Refused("The signed body is not a Stripe event (it has no id)."), Verify(json, signature));
    }

    [Fact]
    public async Task A_completed_and_paid_session_is_a_succeeded_payment()
    {
        var id = await _bed.PaidSessionAsync("int_9");
        var (json, _, eventId) = _bed.Fake.Event("checkout.session.completed", id);

        var parsed = Parse(eventId, json);

        Assert.Equal((eventId, "checkout.session.completed", ProviderEventKind.Payment), (parsed.EventId, parsed.Type, parsed.Kind));
        Assert.Equal(new ProviderPayment(id, ProviderPaymentState.Succeeded, _bed.Fake.Session(id).PaymentIntentId, 49_900, "INR", "card",
            At: _bed.Time.GetUtcNow(), IntentId: "int_9"), parsed.Payment);
    }

    [Fact]
    public async Task A_completed_but_unpaid_session_is_open_and_its_async_results_follow()
    {
        var id = await OpenSessionAsync();
        _bed.Fake.CompleteAsync(id);
        Assert.Equal(ProviderPaymentState.Open, Parse("evt_1", _bed.Fake.Event("checkout.session.completed", id).Json).Payment!.State);

        _bed.Fake.AsyncSucceed(id);
        var succeeded = Parse("evt_2", _bed.Fake.Event("checkout.session.async_payment_succeeded", id).Json);
        Assert.Equal((ProviderEventKind.Payment, ProviderPaymentState.Succeeded, "int_9"), (succeeded.Kind, succeeded.Payment!.State, succeeded.Payment.IntentId));
    }

    [Fact]
    public async Task An_async_payment_failure_is_a_failed_payment()
    {
        var id = await OpenSessionAsync();
        _bed.Fake.CompleteAsync(id);
        _bed.Fake.AsyncFail(id);

        var parsed = Parse("evt_1", _bed.Fake.Event("checkout.session.async_payment_failed", id).Json);

        Assert.Equal((ProviderPaymentState.Failed, id, "int_9"), (parsed.Payment!.State, parsed.Payment.OrderId, parsed.Payment.IntentId));
        Assert.NotNull(parsed.Payment.FailureReason);
    }

    [Fact]
    public async Task An_expired_session_is_an_expired_payment()
    {
        var id = await OpenSessionAsync();
        _bed.Fake.Expire(id);

        var parsed = Parse("evt_1", _bed.Fake.Event("checkout.session.expired", id).Json);

        Assert.Equal((ProviderEventKind.Payment, ProviderPaymentState.Expired, id, (string?)null), (parsed.Kind, parsed.Payment!.State, parsed.Payment.OrderId, parsed.Payment.PaymentId));
    }

    [Theory]
    [InlineData("refund.created", "succeeded", ProviderRefundState.Processed)]
    [InlineData("refund.updated", "succeeded", ProviderRefundState.Processed)]
    [InlineData("refund.failed", "failed", ProviderRefundState.Failed)]
    [InlineData("charge.refund.updated", "pending", ProviderRefundState.Pending)]
    public async Task Refund_events_are_refunds_with_our_refund_id(string type, string status, ProviderRefundState expected)
    {
        var paymentId = _bed.Fake.Session(await _bed.PaidSessionAsync()).PaymentIntentId!;
        var refund = await _bed.Provider.RefundAsync(new RefundRequest("rf_5", "refund-rf_5", paymentId, 1_000, "INR", "duplicate"), CancellationToken.None);
        _bed.Fake.SetRefundStatus(refund.ProviderRefundId, status, status == "failed" ? "expired_or_canceled_card" : null);

        var parsed = Parse("evt_1", _bed.Fake.Event(type, refund.ProviderRefundId).Json);

        Assert.Equal((ProviderEventKind.Refund, type), (parsed.Kind, parsed.Type));
        Assert.Equal((refund.ProviderRefundId, expected, "rf_5", paymentId, 1_000L),
            (parsed.Refund!.ProviderRefundId, parsed.Refund.State, parsed.Refund.RefundId, parsed.Refund.PaymentId, parsed.Refund.AmountMinor));
    }

    [Fact]
    public async Task Other_event_types_are_other()
    {
        var parsed = Parse("evt_1", _bed.Fake.Event("checkout.session.created", await OpenSessionAsync()).Json);

        Assert.Equal(new ProviderEvent("evt_1", "checkout.session.created", ProviderEventKind.Other), parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("{}")]
    [InlineData("[1,2]")]
    [InlineData("""{"id":"evt_1","object":"event","type":"checkout.session.completed","data":{"object":{"object":"refund","id":"re_1"}}}""")]
    [InlineData("""{"id":"evt_1","object":"event","type":"checkout.session.completed","data":{"object":42}}""")]
    public void A_body_that_does_not_parse_is_other_and_never_throws(string body)
    {
        var parsed = Parse("evt_1", body);

        Assert.Equal(("evt_1", ProviderEventKind.Other), (parsed.EventId, parsed.Kind));
    }
}

/// <summary>Signs an arbitrary body the way Stripe does (Stripe.net's helper), for bodies the fake would never send.</summary>
internal static class EventUtilitySigner
{
    public static string Sign(string json, string secret, DateTimeOffset at) =>
        global::Stripe.EventUtility.GenerateSignatureHeader(json, secret, at.ToUnixTimeSeconds());
}
