using Microsoft.Extensions.Configuration;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform.Payments;

/// <summary>
/// Storage stored a movement's transaction but its answer was lost: the SDK retries the batch, which meets its own
/// result (412 on the balance row). The call must still answer Applied, once, and the money must have moved once.
/// </summary>
public sealed class LedgerLostAnswerTests(LossyLedgerFactory app) : IClassFixture<LossyLedgerFactory>
{
    public static TheoryData<string, bool> Movements()
    {
        var data = new TheoryData<string, bool>();
        foreach (var kind in new[] { MovementKinds.Credit, MovementKinds.Debit, MovementKinds.Hold, MovementKinds.Capture, MovementKinds.Release, MovementKinds.Refund })
        {
            data.Add(kind, true);
            data.Add(kind, false);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Movements))]
    public async Task A_movement_whose_transaction_was_stored_but_not_answered_is_applied_once(string kind, bool warm)
    {
        var account = LedgerFactory.NewAccount();
        // Warm: this instance made the movements before and holds the balance row they left. Cold: another did.
        var setup = warm ? app.Ledger : app.SecondInstance();
        await setup.CreditAsync(account, "c1", 100);
        await setup.DebitAsync(account, "d1", 50);
        await setup.HoldAsync(account, "h1", 30);
        var lost = app.Proxy!.Lost;
        app.Proxy.LoseAnswerTo(r => r.Method == "POST" && r.Path.Value == LedgerFactory.BatchPath);

        var result = kind switch
        {
            MovementKinds.Credit => await app.Ledger.CreditAsync(account, "k", 25),
            MovementKinds.Debit => await app.Ledger.DebitAsync(account, "k", 15),
            MovementKinds.Hold => await app.Ledger.HoldAsync(account, "k", 15),
            MovementKinds.Capture => await app.Ledger.CaptureAsync(account, "h1", "k", 10),
            MovementKinds.Release => await app.Ledger.ReleaseAsync(account, "h1", "k"),
            MovementKinds.Refund => await app.Ledger.RefundAsync(account, "d1", "k", 20),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        Assert.Equal(lost + 1, app.Proxy.Lost);
        Assert.Equal(MovementStatus.Applied, result.Status);
        var expected = kind switch
        {
            MovementKinds.Credit => (45L, 30L),
            MovementKinds.Debit => (5L, 30L),
            MovementKinds.Hold => (5L, 45L),
            MovementKinds.Capture => (20L, 20L),
            MovementKinds.Release => (50L, 0L),
            _ => (40L, 30L),
        };
        Assert.Equal(expected, (result.Available, result.Held));
        var balance = await app.Ledger.BalanceAsync(account);
        Assert.Equal(expected, (balance.Available, balance.Held));
        Assert.Equal(4, balance.Movements);
        var statement = await app.StatementRowsAsync(account);
        Assert.Single(statement, l => l.MovementKey == "k");
        Assert.Equal(4, statement.Count);
        Assert.Equal((balance.Available, balance.Held), (statement.Sum(l => l.Amount), statement.Sum(l => l.HeldDelta)));
        Assert.Equal(kind, (await app.Ledger.FindMovementAsync(account, "k"))!.Kind);
        // And the instance goes on from the right balance.
        Assert.Equal(MovementStatus.Applied, (await app.Ledger.CreditAsync(account, "after", 1)).Status);
        Assert.Equal(expected.Item1 + 1, (await app.Ledger.BalanceAsync(account)).Available);
    }

    [Fact]
    public async Task The_first_credit_of_an_account_whose_insert_was_stored_but_not_answered_is_applied_once()
    {
        var account = LedgerFactory.NewAccount();
        var lost = app.Proxy!.Lost;
        app.Proxy.LoseAnswerTo(r => r.Method == "POST" && r.Path.Value == LedgerFactory.BatchPath);

        var result = await app.Ledger.CreditAsync(account, "first", 70);

        Assert.Equal(lost + 1, app.Proxy.Lost);
        Assert.Equal((MovementStatus.Applied, 70L), (result.Status, result.Available));
        Assert.Equal(new LedgerBalance(70, 0, "INR", 1, 0), await app.Ledger.BalanceAsync(account));
        Assert.Single(await app.StatementRowsAsync(account));
    }

    [Fact]
    public async Task A_movement_whose_answer_was_lost_while_another_instance_moved_money_is_still_applied()
    {
        var account = LedgerFactory.NewAccount();
        await app.Ledger.CreditAsync(account, "c1", 100);
        var other = await OtherInstanceAsync();
        app.Proxy!.LoseAnswerTo(r =>
        {
            if (r.Method != "POST" || r.Path.Value != LedgerFactory.BatchPath)
                return false;
            Assert.Equal(MovementStatus.Applied, other.CreditAsync(account, "meanwhile", 5).GetAwaiter().GetResult().Status);
            return true;
        });

        var result = await app.Ledger.DebitAsync(account, "k", 40);

        Assert.Equal(MovementStatus.Applied, result.Status);
        Assert.Equal((60L, 0L), (result.Available, result.Held));
        Assert.Equal(new LedgerBalance(65, 0, "INR", 3, 1), await app.Ledger.BalanceAsync(account));
        Assert.Single(await app.StatementRowsAsync(account), l => l.MovementKey == "k");
    }

    [Fact]
    public async Task A_hold_whose_answer_was_lost_while_another_instance_captured_from_it_is_still_applied()
    {
        var account = LedgerFactory.NewAccount();
        await app.Ledger.CreditAsync(account, "c1", 100);
        var other = await OtherInstanceAsync();
        // The capture replaces the hold's movement row: the hold must still be known by the operation that stored it.
        app.Proxy!.LoseAnswerTo(r =>
        {
            if (r.Method != "POST" || r.Path.Value != LedgerFactory.BatchPath)
                return false;
            Assert.Equal(MovementStatus.Applied, other.CaptureAsync(account, "h", "cap", 30).GetAwaiter().GetResult().Status);
            return true;
        });

        var result = await app.Ledger.HoldAsync(account, "h", 40);

        Assert.Equal(MovementStatus.Applied, result.Status);
        Assert.Equal((60L, 40L), (result.Available, result.Held));
        Assert.Equal(new LedgerBalance(60, 10, "INR", 3, 0), await app.Ledger.BalanceAsync(account));
    }

    /// <summary>Another instance that reaches storage directly (not through the lossy proxy), to move money while this one waits for its answer.</summary>
    private async Task<Ledger> OtherInstanceAsync()
    {
        var direct = new StorageAccount(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [StorageAccount.ConnectionSetting] = await Azurite.ConnectionStringAsync(),
            ["Storage:Prefix"] = app.Prefix,
        }).Build(), app.Get<StorageCatalog>());
        return new Ledger(direct, app.Get<Transitions>(), app.Time);
    }
}
