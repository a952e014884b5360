using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Platform.Payments;

namespace Serverless.Tests.Platform.Payments.Razorpay;

public sealed class RazorpayRefundAndPayoutTests
{
    private static async Task<string> PaidAsync(RazorpayHarness rp, string intentId)
    {
        var orderId = (await rp.Provider.CreateCheckoutAsync(RazorpayHarness.Checkout(intentId), default)).OrderId;
        return rp.Fake.Pay(orderId);
    }

    private static RefundRequest Refund(string paymentId, string refundId = "rf_0001", long amountMinor = 49_900) =>
        new(refundId, "refund-key-" + refundId, paymentId, amountMinor, "INR", "Pre-order cancelled");

    private static PayoutRequest Payout(string payoutId = "po_0001", string accountNumber = "50100012345678", string ifsc = "HDFC0001234") => new(
        payoutId, "payout-key-" + payoutId, 125_000, "INR", new PayoutBankAccount("Asha Printers", ifsc, accountNumber),
        "Asha Printers", "asha@example.test", "IMPS", "payout", "Print shop payout June");

    [Fact]
    public async Task A_refund_carries_our_refund_id_in_notes_and_the_idempotency_header()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        var paymentId = await PaidAsync(rp, "pi_2001");

        var refund = await rp.Provider.RefundAsync(Refund(paymentId), default);

        Assert.StartsWith("rfnd_", refund.ProviderRefundId);
        Assert.Equal(new ProviderRefund(refund.ProviderRefundId, ProviderRefundState.Pending, paymentId, 49_900, "rf_0001"), refund);
        var call = Assert.Single(rp.Fake.Calls, c => c.Route == $"POST /v1/payments/{paymentId}/refund");
        Assert.Equal("refund-key-rf_0001", call.IdempotencyKey);
        var stored = rp.Fake.Refund(refund.ProviderRefundId);
        Assert.Equal("rf_0001", (string)stored["notes"]!["refund_id"]!);
        Assert.Equal("rf_0001", (string)stored["receipt"]!);
    }

    [Fact]
    public async Task Refunding_twice_with_the_same_key_is_one_refund()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        var paymentId = await PaidAsync(rp, "pi_2002");

        var first = await rp.Provider.RefundAsync(Refund(paymentId), default);
        var second = await rp.Provider.RefundAsync(Refund(paymentId), default);

        Assert.Equal(first, second);
        Assert.Single(rp.Fake.Refunds);
        Assert.Equal(49_900, (long)rp.Fake.Payment(paymentId)["amount_refunded"]!);
    }

    [Fact]
    public async Task A_refund_whose_answer_was_dropped_is_one_refund_when_repeated()
    {
        await using var rp = await RazorpayHarness.StartAsync(s => s["Payments:Razorpay:Retries"] = "0");
        var paymentId = await PaidAsync(rp, "pi_2003");
        rp.Fake.Script($"POST /v1/payments/{paymentId}/refund", RazorpayReply.DroppedConnection);

        var lost = await Assert.ThrowsAsync<PaymentProviderException>(() => rp.Provider.RefundAsync(Refund(paymentId), default));
        Assert.True(lost.Transient);
        var created = Assert.Single(rp.Fake.Refunds);

        var refund = await rp.Provider.RefundAsync(Refund(paymentId), default);

        Assert.Equal((string)created["id"]!, refund.ProviderRefundId);
        Assert.Single(rp.Fake.Refunds);
    }

    [Fact]
    public async Task A_refund_answered_503_is_retried_under_its_idempotency_key_and_is_one_refund()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        var paymentId = await PaidAsync(rp, "pi_2004");
        rp.Fake.Script($"POST /v1/payments/{paymentId}/refund", RazorpayReply.ServerError(503));

        var refund = await rp.Provider.RefundAsync(Refund(paymentId), default);

        Assert.Equal(ProviderRefundState.Pending, refund.State);
        Assert.Equal(2, rp.Fake.CallCount($"POST /v1/payments/{paymentId}/refund"));
        Assert.Single(rp.Fake.Refunds);
    }

    [Fact]
    public async Task A_key_Razorpay_would_not_accept_is_sent_as_a_stable_digest()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        var paymentId = await PaidAsync(rp, "pi_2005");
        var request = Refund(paymentId) with { IdempotencyKey = "refund:pi_2005:1" };

        await rp.Provider.RefundAsync(request, default);
        await rp.Provider.RefundAsync(request, default);

        var keys = rp.Fake.Calls.Where(c => c.Route == $"POST /v1/payments/{paymentId}/refund").Select(c => c.IdempotencyKey).ToList();
        Assert.Equal(2, keys.Count);
        Assert.Equal(keys[0], keys[1]);
        Assert.Matches("^k_[0-9a-f]{34}$", keys[0]);
        Assert.Single(rp.Fake.Refunds);
    }

    [Fact]
    public async Task A_refund_beyond_what_was_captured_is_refused_with_Razorpays_description()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        var paymentId = await PaidAsync(rp, "pi_2006");

        var failure = await Assert.ThrowsAsync<PaymentProviderException>(() => rp.Provider.RefundAsync(Refund(paymentId, amountMinor: 50_000), default));

        Assert.False(failure.Transient);
        Assert.Contains("The refund amount provided is greater than amount captured", failure.Message);
        Assert.Empty(rp.Fake.Refunds);
    }

    [Fact]
    public async Task A_fetched_refund_reports_processed_or_failed_as_Razorpay_settles_it()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        var paymentId = await PaidAsync(rp, "pi_2007");
        var processed = await rp.Provider.RefundAsync(Refund(paymentId, "rf_0007a", 20_000), default);
        var failed = await rp.Provider.RefundAsync(Refund(paymentId, "rf_0007b", 10_000), default);
        rp.Fake.ProcessRefund(processed.ProviderRefundId);
        rp.Fake.FailRefund(failed.ProviderRefundId);

        var first = await rp.Provider.FetchRefundAsync(processed.ProviderRefundId, default);
        var second = await rp.Provider.FetchRefundAsync(failed.ProviderRefundId, default);

        Assert.Equal(new ProviderRefund(processed.ProviderRefundId, ProviderRefundState.Processed, paymentId, 20_000, "rf_0007a"), first);
        Assert.Equal((ProviderRefundState.Failed, "rf_0007b"), (second.State, second.RefundId));
        Assert.NotNull(second.FailureReason);
    }

    [Fact]
    public async Task A_payout_goes_to_a_contact_and_fund_account_from_the_configured_account_with_the_idempotency_header()
    {
        await using var rp = await RazorpayHarness.StartAsync();

        var payout = await rp.Provider.CreatePayoutAsync(Payout(), default);

        Assert.StartsWith("pout_", payout.ProviderPayoutId);
        Assert.Equal(new ProviderPayout(payout.ProviderPayoutId, "processing", "po_0001"), payout);
        var call = Assert.Single(rp.Fake.Calls, c => c.Route == "POST /v1/payouts");
        Assert.Equal("payout-key-po_0001", call.IdempotencyKey);
        using var body = JsonDocument.Parse(call.Body);
        Assert.Equal(FakeRazorpay.PayoutAccountNumber, body.RootElement.GetProperty("account_number").GetString());
        Assert.Equal(125_000, body.RootElement.GetProperty("amount").GetInt64());
        Assert.Equal("IMPS", body.RootElement.GetProperty("mode").GetString());
        Assert.Equal("payout", body.RootElement.GetProperty("purpose").GetString());
        Assert.Equal("po_0001", body.RootElement.GetProperty("reference_id").GetString());
        Assert.Equal("Print shop payout June", body.RootElement.GetProperty("narration").GetString());
        var fundAccount = Assert.Single(rp.Fake.FundAccounts);
        Assert.Equal((string)fundAccount["id"]!, body.RootElement.GetProperty("fund_account_id").GetString());
        Assert.Equal("50100012345678", (string)fundAccount["bank_account"]!["account_number"]!);
        Assert.Equal("HDFC0001234", (string)fundAccount["bank_account"]!["ifsc"]!);
        Assert.Equal("Asha Printers", (string)Assert.Single(rp.Fake.Contacts)["name"]!);
    }

    [Fact]
    public async Task A_payout_asked_twice_with_the_same_key_is_one_payout()
    {
        await using var rp = await RazorpayHarness.StartAsync();

        var first = await rp.Provider.CreatePayoutAsync(Payout(), default);
        var second = await rp.Provider.CreatePayoutAsync(Payout(), default);

        Assert.Equal(first, second);
        Assert.Single(rp.Fake.Payouts);
        Assert.Single(rp.Fake.Contacts);
        Assert.Single(rp.Fake.FundAccounts);
    }

    [Fact]
    public async Task A_payout_answered_503_or_dropped_is_retried_under_its_key_and_is_one_payout()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        rp.Fake.Script("POST /v1/payouts", RazorpayReply.ServerError(503), RazorpayReply.DroppedConnection);

        var payout = await rp.Provider.CreatePayoutAsync(Payout(), default);

        Assert.Equal(3, rp.Fake.CallCount("POST /v1/payouts"));
        Assert.Equal(payout.ProviderPayoutId, (string)Assert.Single(rp.Fake.Payouts)["id"]!);
    }

    [Fact]
    public async Task A_fetched_payout_reports_processed_failed_or_reversed()
    {
        await using var rp = await RazorpayHarness.StartAsync();
        var processed = await rp.Provider.CreatePayoutAsync(Payout("po_0002"), default);
        var failed = await rp.Provider.CreatePayoutAsync(Payout("po_0003"), default);
        var reversed = await rp.Provider.CreatePayoutAsync(Payout("po_0004"), default);
        rp.Fake.ProcessPayout(processed.ProviderPayoutId);
        rp.Fake.FailPayout(failed.ProviderPayoutId, "Beneficiary bank is offline.");
        rp.Fake.ReversePayout(reversed.ProviderPayoutId);

        var first = await rp.Provider.FetchPayoutAsync(processed.ProviderPayoutId, default);
        var second = await rp.Provider.FetchPayoutAsync(failed.ProviderPayoutId, default);
        var third = await rp.Provider.FetchPayoutAsync(reversed.ProviderPayoutId, default);

        Assert.Equal(("processed", "po_0002", (string?)null), (first.Status, first.PayoutId, first.FailureReason));
        Assert.Equal((string)rp.Fake.Payout(processed.ProviderPayoutId)["utr"]!, first.Utr);
        Assert.Equal(new ProviderPayout(failed.ProviderPayoutId, "failed", "po_0003", "Beneficiary bank is offline."), second);
        Assert.Equal(("reversed", "The beneficiary bank returned the payout."), (third.Status, third.FailureReason));
    }

    [Fact]
    public async Task Payouts_without_a_payout_account_are_refused_before_any_call()
    {
        await using var rp = await RazorpayHarness.StartAsync(s => s.Remove("Payments:Razorpay:PayoutAccountNumber"));

        var failure = await Assert.ThrowsAsync<PaymentProviderException>(() => rp.Provider.CreatePayoutAsync(Payout(), default));

        Assert.False(failure.Transient);
        Assert.Contains("Payments__Razorpay__PayoutAccountNumber", failure.Message);
        Assert.Empty(rp.Fake.Calls);
    }

    [Fact]
    public async Task Account_numbers_never_appear_in_a_refusal_even_when_Razorpay_echoes_them()
    {
        await using var rp = await RazorpayHarness.StartAsync();

        var failure = await Assert.ThrowsAsync<PaymentProviderException>(() => rp.Provider.CreatePayoutAsync(Payout(ifsc: "NOTANIFSC"), default));

        Assert.False(failure.Transient);
        Assert.Contains("is invalid for bank account ****", failure.Message);
        Assert.DoesNotContain("50100012345678", failure.ToString());
        Assert.DoesNotContain(FakeRazorpay.PayoutAccountNumber, failure.ToString());
        Assert.Empty(rp.Fake.Payouts);
    }

    [Fact]
    public async Task The_provider_is_registered_as_payment_and_payout_provider()
    {
        await using var rp = await RazorpayHarness.StartAsync();

        Assert.Equal("razorpay", Assert.Single(rp.Services.GetServices<IPaymentProvider>()).Name);
        Assert.Equal("razorpay", Assert.Single(rp.Services.GetServices<IPayoutProvider>()).Name);
    }
}
