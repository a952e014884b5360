using Serverless.Platform.Payments;

namespace Serverless.Tests.Platform.Payments;

public sealed class LedgerConcurrencyTests(LedgerFactory app) : IClassFixture<LedgerFactory>
{
    [Fact]
    public async Task Fifty_concurrent_debits_on_an_account_funded_for_twenty_apply_exactly_twenty()
    {
        var account = LedgerFactory.NewAccount();
        await app.Ledger.CreditAsync(account, "funds", 20 * 7);

        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => app.Ledger.DebitAsync(account, $"order-{i}", 7)));

        Assert.Equal(20, results.Count(r => r.Status == MovementStatus.Applied));
        Assert.Equal(30, results.Count(r => r.Status == MovementStatus.InsufficientFunds));
        await AssertExactAsync(account, available: 0, movements: 21);
    }

    [Fact]
    public async Task Twenty_concurrent_calls_with_the_same_key_move_the_money_once()
    {
        var account = LedgerFactory.NewAccount();
        await app.Ledger.CreditAsync(account, "funds", 100);

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => app.Ledger.DebitAsync(account, "order-1", 100)));

        Assert.Single(results, r => r.Status == MovementStatus.Applied);
        Assert.Equal(19, results.Count(r => r.Status == MovementStatus.AlreadyApplied));
        Assert.All(results, r => Assert.Equal((0L, 0L), (r.Available, r.Held)));
        await AssertExactAsync(account, available: 0, movements: 2);
    }

    [Fact]
    public async Task Two_instances_racing_on_one_account_apply_exactly_what_the_money_allows()
    {
        var account = LedgerFactory.NewAccount();
        var first = app.Ledger;
        var second = app.SecondInstance();
        // Both instances know the account (each holds a balance row the other will make stale).
        await first.CreditAsync(account, "funds-1", 10 * 5);
        await second.CreditAsync(account, "funds-2", 10 * 5);

        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => (i % 2 == 0 ? first : second).DebitAsync(account, $"order-{i}", 5)));

        Assert.Equal(20, results.Count(r => r.Status == MovementStatus.Applied));
        Assert.Equal(30, results.Count(r => r.Status == MovementStatus.InsufficientFunds));
        await AssertExactAsync(account, available: 0, movements: 22);
    }

    [Fact]
    public async Task Two_instances_racing_with_the_same_keys_move_each_once()
    {
        var account = LedgerFactory.NewAccount();
        var first = app.Ledger;
        var second = app.SecondInstance();
        await first.CreditAsync(account, "funds", 1000);
        await second.HoldAsync(account, "hold", 100);

        // Each key is used five times, by both instances in turn.
        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => (i / 8 % 2 == 0 ? first : second) switch
        {
            var ledger when i % 4 < 2 => ledger.DebitAsync(account, $"order-{i % 8}", 10),
            var ledger => ledger.CaptureAsync(account, "hold", $"capture-{i % 8}", 10),
        }));

        Assert.Equal(8, results.Count(r => r.Status == MovementStatus.Applied));
        Assert.Equal(32, results.Count(r => r.Status == MovementStatus.AlreadyApplied));
        await AssertExactAsync(account, available: 1000 - 100 - 40, movements: 10, held: 60);
    }

    [Fact]
    public async Task An_instance_whose_balance_row_is_stale_decides_on_the_stored_balance()
    {
        var account = LedgerFactory.NewAccount();
        var first = app.Ledger;
        var second = app.SecondInstance();
        await first.CreditAsync(account, "c1", 100);

        // The first instance remembers 100; the second spends it all.
        Assert.Equal(MovementStatus.Applied, (await second.DebitAsync(account, "d1", 100)).Status);
        var refused = await first.DebitAsync(account, "d2", 50);
        // The first instance remembers 0; the second tops up.
        Assert.Equal(MovementStatus.Applied, (await second.CreditAsync(account, "c2", 80)).Status);
        var applied = await first.DebitAsync(account, "d3", 50);

        Assert.Equal((MovementStatus.InsufficientFunds, 0L), (refused.Status, refused.Available));
        Assert.Equal((MovementStatus.Applied, 30L), (applied.Status, applied.Available));
        await AssertExactAsync(account, available: 30, movements: 4);
    }

    private async Task AssertExactAsync(LedgerAccount account, long available, long movements, long held = 0)
    {
        var balance = await app.Ledger.BalanceAsync(account);
        var statement = await app.StatementRowsAsync(account);
        Assert.Equal((available, held, movements), (balance.Available, balance.Held, balance.Movements));
        Assert.Equal(movements, statement.Count);
        Assert.Equal(available, statement.Sum(l => l.Amount));
        Assert.Equal(held, statement.Sum(l => l.HeldDelta));
        Assert.Equal(Enumerable.Range(1, (int)movements).Reverse().Select(v => (long)v), statement.Select(l => l.Version));
        Assert.Equal(movements, (await app.MovementRowsAsync(account)).Count);
        Assert.Equal(statement.Select(l => l.MovementKey).Order(), (await app.MovementRowsAsync(account)).Select(m => m.MovementKey).Order());
    }
}
