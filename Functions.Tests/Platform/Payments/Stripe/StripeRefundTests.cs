using Serverless.Platform.Payments;

namespace Serverless.Tests.Platform.Payments.Stripe;

public sealed class StripeRefundTests : IAsyncLifetime
{
    private StripeTestbed _bed = null!;

    public async Task InitializeAsync() => _bed = await StripeTestbed.StartAsync();

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private async Task<string> PaymentIdAsync() => _bed.Fake.Session(await _bed.PaidSessionAsync()).PaymentIntentId!;

    private Task<ProviderRefund> RefundAsync(string paymentId, long amount = 49_900, string refundId = "rf_1", string? key = null,
        string reason = "Customer cancelled the order") =>
        _bed.Provider.RefundAsync(new RefundRequest(refundId, key ?? "refund-" + refundId, paymentId, amount, "INR", reason), CancellationToken.None);

    [Fact]
    public async Task A_refund_is_processed_with_our_refund_id_echoed()
    {
        var paymentId = await PaymentIdAsync();

        var refund = await RefundAsync(paymentId, 20_000);

        Assert.StartsWith("re_", refund.ProviderRefundId);
        Assert.Equal(new ProviderRefund(refund.ProviderRefundId, ProviderRefundState.Processed, paymentId, 20_000, "rf_1"), refund);
        var call = Assert.Single(_bed.Fake.CallsTo("POST", "/v1/refunds"));
        Assert.Equal(("refund-rf_1", "requested_by_customer", "rf_1"), (call.IdempotencyKey, call.Parameters["reason"], call.Parameters["metadata[refund_id]"]));
    }

    [Fact]
    public async Task A_refund_asked_twice_with_one_key_is_one_refund()
    {
        var paymentId = await PaymentIdAsync();

        var first = await RefundAsync(paymentId);
        var second = await RefundAsync(paymentId);

        Assert.Equal(first, second);
        Assert.Equal(1, _bed.Fake.RefundCount);
    }

    [Fact]
    public async Task A_refund_whose_answer_was_lost_is_one_refund()
    {
        var paymentId = await PaymentIdAsync();
        _bed.Fake.Script("POST", "/v1/refunds", StripeFault.DroppedConnection);

        var refund = await RefundAsync(paymentId);

        Assert.Equal(ProviderRefundState.Processed, refund.State);
        Assert.Equal(1, _bed.Fake.RefundCount);
    }

    [Fact]
    public async Task A_pending_refund_is_pending_until_stripe_settles_it()
    {
        var paymentId = await PaymentIdAsync();
        _bed.Fake.NewRefundStatus = "pending";
        var refund = await RefundAsync(paymentId);
        Assert.Equal(ProviderRefundState.Pending, refund.State);

        _bed.Fake.SetRefundStatus(refund.ProviderRefundId, "failed", "lost_or_stolen_card");
        var fetched = await _bed.Provider.FetchRefundAsync(refund.ProviderRefundId, CancellationToken.None);

        Assert.Equal((ProviderRefundState.Failed, "lost_or_stolen_card", "rf_1"), (fetched.State, fetched.FailureReason, fetched.RefundId));
    }

    [Theory]
    [InlineData("requires_action", ProviderRefundState.Pending)]
    [InlineData("succeeded", ProviderRefundState.Processed)]
    [InlineData("canceled", ProviderRefundState.Failed)]
    public async Task A_fetched_refund_reports_its_state(string stripeStatus, ProviderRefundState expected)
    {
        var refund = await RefundAsync(await PaymentIdAsync());
        _bed.Fake.SetRefundStatus(refund.ProviderRefundId, stripeStatus);

        Assert.Equal(expected, (await _bed.Provider.FetchRefundAsync(refund.ProviderRefundId, CancellationToken.None)).State);
    }

    [Fact]
    public async Task Refunding_more_than_was_paid_is_a_refusal_with_stripes_message()
    {
        var paymentId = await PaymentIdAsync();

        var ex = await Assert.ThrowsAsync<PaymentProviderException>(() => RefundAsync(paymentId, 50_000));

        Assert.Equal((false, 400), (ex.Transient, ex.Status));
        Assert.Contains("greater than unrefunded amount", ex.Message);
        Assert.Equal(0, _bed.Fake.RefundCount);
    }

    [Fact]
    public async Task A_second_refund_with_another_key_is_refused_once_all_is_refunded()
    {
        var paymentId = await PaymentIdAsync();
        await RefundAsync(paymentId, refundId: "rf_1");

        var ex = await Assert.ThrowsAsync<PaymentProviderException>(() => RefundAsync(paymentId, refundId: "rf_2"));

        Assert.False(ex.Transient);
        Assert.Equal(1, _bed.Fake.RefundCount);
    }

    [Fact]
    public async Task An_unknown_refund_is_a_refusal()
    {
        var ex = await Assert.ThrowsAsync<PaymentProviderException>(() => _bed.Provider.FetchRefundAsync("re_nope", CancellationToken.None));

        Assert.Equal((false, 404), (ex.Transient, ex.Status));
    }

    [Theory]
    [InlineData("Customer cancelled the order", "requested_by_customer")]
    [InlineData("requested_by_customer", "requested_by_customer")]
    [InlineData("duplicate", "duplicate")]
    [InlineData("fraud", "fraudulent")]
    [InlineData("Order expired before the payment arrived", null)]
    [InlineData("", null)]
    public void Our_reasons_map_to_stripes_where_they_fit(string reason, string? expected) =>
        Assert.Equal(expected, StripeProvider.StripeRefundReason(reason));
}
