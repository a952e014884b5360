using System.Net;
using System.Text.Json;
using Serverless.Platform.Payments;
using Serverless.Print.Payouts;
using Serverless.Print.Wallet;
using PlatformPayouts = Serverless.Platform.Payments.Payouts;

namespace Serverless.Tests.Print.Payouts;

public sealed class WithdrawalTests(PrintPayoutFactory app) : IClassFixture<PrintPayoutFactory>
{
    private async Task<PrintAccount> FundedCustomerAsync(long amountMinor)
    {
        var customer = await app.SignUpAsync();
        await app.FundAsync(customer.Id, amountMinor);
        return customer;
    }

    private async Task<List<LedgerStatementRow>> StatementAsync(long userId) =>
        (await app.Ledger.StatementAsync(PrintWallets.Account(userId), 100, 0)).Page.ToList();

    [Fact]
    public async Task A_withdrawal_holds_the_amount_and_the_processed_payout_captures_it()
    {
        var customer = await FundedCustomerAsync(500_00);

        var response = await app.WithdrawAsync(customer, PrintPayoutFactory.Body(200.50m));

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var body = await PrintPayoutFactory.JsonOf(response);
        var id = body.GetProperty("withdrawal_id").GetInt64();
        Assert.Equal("pending", body.GetProperty("status").GetString());
        Assert.Equal(200.5m, body.GetProperty("amount").GetDecimal());
        Assert.Equal("2-3 business days", body.GetProperty("processing_time").GetString());

        // The sandbox processed the payout at once: the hold is captured, the money gone for good.
        var balance = await app.WalletAsync(customer.Id);
        Assert.Equal(299_50, balance.Available);
        Assert.Equal(0, balance.Held);
        var withdrawal = await app.Get<Withdrawals>().FindAsync(customer.Id, id);
        Assert.Equal(WithdrawalStatus.Processed, withdrawal!.Status);
        Assert.Equal("9012", withdrawal.AccountLast4);
        Assert.Equal(20050, withdrawal.AmountMinor);
        var payout = await app.Get<PlatformPayouts>().FindAsync(withdrawal.PayoutId, CancellationToken.None);
        Assert.Equal(PayoutStatus.Processed, payout!.Status);
        Assert.Equal("print", payout.Surface);
        Assert.Equal("user-" + customer.Id, payout.Owner);
        Assert.Equal("withdraw-" + id, payout.Key);

        var statement = await StatementAsync(customer.Id);
        Assert.Equal(3, statement.Count);
        Assert.Equal((MovementKinds.Capture, "withdraw-" + id + "-paid", 0L, -20050L, 29950L, 0L),
            (statement[0].Kind, statement[0].MovementKey, statement[0].Amount, statement[0].HeldDelta, statement[0].AvailableAfter, statement[0].HeldAfter));
        Assert.Equal((MovementKinds.Hold, "withdraw-" + id, -20050L, 20050L, 29950L, 20050L),
            (statement[1].Kind, statement[1].MovementKey, statement[1].Amount, statement[1].HeldDelta, statement[1].AvailableAfter, statement[1].HeldAfter));
        Assert.Equal(MovementKinds.Credit, statement[2].Kind);
        Assert.All(statement.Take(2), s => Assert.Equal("withdrawal", WalletKeys.TypeOf(s.MovementKey)));
    }

    public static TheoryData<object, string> Invalid => new()
    {
        { new Dictionary<string, object?> { ["bank_account"] = "123456789012", ["ifsc_code"] = "HDFC0001234", ["account_holder_name"] = "A" }, "amount" },
        { PrintPayoutFactory.Body(-150m), "'amount'" },
        { PrintPayoutFactory.Body(0m), "'amount'" },
        { PrintPayoutFactory.Body(150.555m), "'amount'" },
        { PrintPayoutFactory.Body(99.99m), "minimum withdrawal" },
        { PrintPayoutFactory.Body(150m, account: "12345678"), "'bank_account'" },
        { PrintPayoutFactory.Body(150m, account: "1234567890123456789"), "'bank_account'" },
        { PrintPayoutFactory.Body(150m, account: "12345678901a"), "'bank_account'" },
        { PrintPayoutFactory.Body(150m, account: ""), "'bank_account'" },
        { PrintPayoutFactory.Body(150m, ifsc: "HDFC1001234"), "'ifsc_code'" },
        { PrintPayoutFactory.Body(150m, ifsc: "HDF00001234"), "'ifsc_code'" },
        { PrintPayoutFactory.Body(150m, ifsc: "HDFC000123"), "'ifsc_code'" },
        { PrintPayoutFactory.Body(150m, name: ""), "'account_holder_name'" },
        { PrintPayoutFactory.Body(150m, name: "   "), "'account_holder_name'" },
        { PrintPayoutFactory.Body(150m, name: new string('a', 101)), "'account_holder_name'" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public async Task An_invalid_withdrawal_is_a_400_and_holds_nothing(object body, string mentions)
    {
        var customer = await FundedCustomerAsync(1000_00);
        var calls = app.Get<SteerablePayouts>().Calls;

        var response = await app.WithdrawAsync(customer, body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await PrintPayoutFactory.JsonOf(response);
        // A field missing altogether is the platform's invalid_json (which names it); a wrong value is a validation error.
        Assert.Equal(mentions == "amount" ? "invalid_json" : "validation_error", error.GetProperty("code").GetString());
        Assert.Contains(mentions, error.GetProperty("error").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal((1000_00L, 0L), ((await app.WalletAsync(customer.Id)).Available, (await app.WalletAsync(customer.Id)).Held));
        Assert.Single(await StatementAsync(customer.Id));
        Assert.Equal(calls, app.Get<SteerablePayouts>().Calls);
    }

    [Fact]
    public async Task The_minimum_itself_and_a_lowercase_ifsc_are_accepted()
    {
        var customer = await FundedCustomerAsync(100_00);

        var response = await app.WithdrawAsync(customer, PrintPayoutFactory.Body(100m, ifsc: "sbin0a1b2c3", account: "123456789"));

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal(0, (await app.WalletAsync(customer.Id)).Available);
    }

    [Fact]
    public async Task Withdrawing_more_than_the_balance_is_a_400_and_holds_nothing()
    {
        var customer = await FundedCustomerAsync(150_00);

        var response = await app.WithdrawAsync(customer, PrintPayoutFactory.Body(150.01m));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await PrintPayoutFactory.JsonOf(response);
        Assert.Equal("insufficient_balance", error.GetProperty("code").GetString());
        Assert.Contains("Insufficient wallet balance", error.GetProperty("error").GetString());
        var balance = await app.WalletAsync(customer.Id);
        Assert.Equal((150_00L, 0L), (balance.Available, balance.Held));
        Assert.Single(await StatementAsync(customer.Id));
    }

    [Fact]
    public async Task Concurrent_withdrawals_never_take_more_than_the_balance()
    {
        var customer = await FundedCustomerAsync(400_00);

        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => app.WithdrawAsync(customer, PrintPayoutFactory.Body(150m))));

        Assert.Equal(2, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(2, responses.Count(r => r.StatusCode == HttpStatusCode.BadRequest));
        var balance = await app.WalletAsync(customer.Id);
        Assert.Equal((100_00L, 0L), (balance.Available, balance.Held));
        Assert.Equal(2, (await StatementAsync(customer.Id)).Count(s => s.Kind == MovementKinds.Hold));
    }

    [Fact]
    public async Task A_payout_the_provider_refuses_releases_the_hold()
    {
        var customer = await FundedCustomerAsync(300_00);

        var response = await app.WithdrawAsync(customer, PrintPayoutFactory.Body(250m, account: SteerablePayouts.Fails + "123456"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var id = (await PrintPayoutFactory.JsonOf(response)).GetProperty("withdrawal_id").GetInt64();
        var balance = await app.WalletAsync(customer.Id);
        Assert.Equal((300_00L, 0L), (balance.Available, balance.Held));
        var withdrawal = await app.Get<Withdrawals>().FindAsync(customer.Id, id);
        Assert.Equal(WithdrawalStatus.Failed, withdrawal!.Status);
        Assert.Contains("invalid", withdrawal.FailureReason);
        var statement = await StatementAsync(customer.Id);
        Assert.Equal([MovementKinds.Release, MovementKinds.Hold, MovementKinds.Credit], statement.Select(s => s.Kind));
        Assert.Equal("withdraw-" + id + "-released", statement[0].MovementKey);
    }

    [Fact]
    public async Task A_pending_payout_that_fails_later_gives_the_money_back_once()
    {
        var customer = await FundedCustomerAsync(300_00);
        var response = await app.WithdrawAsync(customer, PrintPayoutFactory.Body(120m, account: SteerablePayouts.Waits + "123456"));
        var id = (await PrintPayoutFactory.JsonOf(response)).GetProperty("withdrawal_id").GetInt64();
        var withdrawal = await app.Get<Withdrawals>().FindAsync(customer.Id, id);
        Assert.Equal(WithdrawalStatus.Pending, withdrawal!.Status);
        Assert.Equal((180_00L, 120_00L), ((await app.WalletAsync(customer.Id)).Available, (await app.WalletAsync(customer.Id)).Held));

        var payouts = app.Get<PlatformPayouts>();
        var providerId = SteerablePayouts.ProviderIdOf(withdrawal.PayoutId);
        Assert.True(await payouts.ApplyAsync(new ProviderPayout(providerId, "processing", withdrawal.PayoutId), CancellationToken.None));
        Assert.Equal(WithdrawalStatus.Processing, (await app.Get<Withdrawals>().FindAsync(customer.Id, id))!.Status);
        await payouts.ApplyAsync(new ProviderPayout(providerId, "failed", withdrawal.PayoutId, "Account closed"), CancellationToken.None);
        await payouts.ApplyAsync(new ProviderPayout(providerId, "failed", withdrawal.PayoutId, "Account closed"), CancellationToken.None);
        // The handler itself, called again (a redelivered move), moves nothing.
        await app.Get<Withdrawals>().ApplyAsync(customer.Id, id, PayoutStatus.Failed, null, null, CancellationToken.None);

        var balance = await app.WalletAsync(customer.Id);
        Assert.Equal((300_00L, 0L), (balance.Available, balance.Held));
        withdrawal = await app.Get<Withdrawals>().FindAsync(customer.Id, id);
        Assert.Equal(WithdrawalStatus.Failed, withdrawal!.Status);
        Assert.Equal("Account closed", withdrawal.FailureReason);
        Assert.Equal(3, (await StatementAsync(customer.Id)).Count);
    }

    [Fact]
    public async Task A_payout_reversed_after_it_was_processed_gives_the_money_back_once()
    {
        var customer = await FundedCustomerAsync(300_00);
        var response = await app.WithdrawAsync(customer, PrintPayoutFactory.Body(200m, account: SteerablePayouts.Waits + "654321"));
        var id = (await PrintPayoutFactory.JsonOf(response)).GetProperty("withdrawal_id").GetInt64();
        var withdrawal = (await app.Get<Withdrawals>().FindAsync(customer.Id, id))!;
        var payouts = app.Get<PlatformPayouts>();
        var providerId = SteerablePayouts.ProviderIdOf(withdrawal.PayoutId);

        await payouts.ApplyAsync(new ProviderPayout(providerId, "processing", withdrawal.PayoutId), CancellationToken.None);
        await payouts.ApplyAsync(new ProviderPayout(providerId, "processed", withdrawal.PayoutId, Utr: "UTR123"), CancellationToken.None);
        Assert.Equal((100_00L, 0L), ((await app.WalletAsync(customer.Id)).Available, (await app.WalletAsync(customer.Id)).Held));
        Assert.Equal("UTR123", (await app.Get<Withdrawals>().FindAsync(customer.Id, id))!.Utr);

        await payouts.ApplyAsync(new ProviderPayout(providerId, "reversed", withdrawal.PayoutId), CancellationToken.None);
        await payouts.ApplyAsync(new ProviderPayout(providerId, "reversed", withdrawal.PayoutId), CancellationToken.None);
        await app.Get<Withdrawals>().ApplyAsync(customer.Id, id, PayoutStatus.Reversed, null, null, CancellationToken.None);
        // A late, out-of-order "processed" changes nothing either.
        await app.Get<Withdrawals>().ApplyAsync(customer.Id, id, PayoutStatus.Processed, null, null, CancellationToken.None);

        var balance = await app.WalletAsync(customer.Id);
        Assert.Equal((300_00L, 0L), (balance.Available, balance.Held));
        Assert.Equal(WithdrawalStatus.Reversed, (await app.Get<Withdrawals>().FindAsync(customer.Id, id))!.Status);
        var statement = await StatementAsync(customer.Id);
        Assert.Equal([MovementKinds.Credit, MovementKinds.Capture, MovementKinds.Hold, MovementKinds.Credit], statement.Select(s => s.Kind));
        Assert.Equal(Withdrawals.ReturnedKey(id), statement[0].MovementKey);
        Assert.Equal("refund", WalletKeys.TypeOf(statement[0].MovementKey));
    }

    [Fact]
    public async Task Withdrawing_twice_with_one_idempotency_key_holds_once()
    {
        var customer = await FundedCustomerAsync(500_00);
        var key = Guid.NewGuid().ToString("N");

        var first = await app.WithdrawAsync(customer, PrintPayoutFactory.Body(150m), key);
        var second = await app.WithdrawAsync(customer, PrintPayoutFactory.Body(150m), key);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal((await PrintPayoutFactory.JsonOf(first)).GetProperty("withdrawal_id").GetInt64(),
            (await PrintPayoutFactory.JsonOf(second)).GetProperty("withdrawal_id").GetInt64());
        Assert.Equal(350_00, (await app.WalletAsync(customer.Id)).Available);
        Assert.Equal(1, (await StatementAsync(customer.Id)).Count(s => s.Kind == MovementKinds.Hold));

        // The same key with another body is refused, not a second withdrawal.
        var other = await app.WithdrawAsync(customer, PrintPayoutFactory.Body(160m), key);
        Assert.NotEqual(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(350_00, (await app.WalletAsync(customer.Id)).Available);
    }

    [Fact]
    public async Task Only_signed_in_customers_may_withdraw()
    {
        var anonymous = await app.CreateClient().SendAsync(PrintFactory.Json(HttpMethod.Post, "/wallet/withdraw", PrintPayoutFactory.Body(150m)));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        var shopkeeper = await app.SignUpAsync(role: "shopkeeper");
        await app.FundAsync(shopkeeper.Id, 500_00);
        var refused = await app.WithdrawAsync(shopkeeper, PrintPayoutFactory.Body(150m));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(500_00, (await app.WalletAsync(shopkeeper.Id)).Available);
    }
}
