using Serverless.Platform.Payments;
using Serverless.Platform.Storage;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform.Payments;

/// <summary>A movement key used before answers with the first movement even when the account could not make it now; a conditional refund.</summary>
public sealed class LedgerRepeatsAndConditionsTests(PlatformFactory app) : IClassFixture<PlatformFactory>
{
    private const string TableName = "ledgerrepeats";

    private async Task<LedgerAccount> NewAccountAsync()
    {
        await app.Get<StorageAccount>().Table(TableName).CreateIfNotExistsAsync();
        return new LedgerAccount(TableName, "acct-" + Guid.NewGuid().ToString("N"), "RUB");
    }

    [Fact]
    public async Task A_repeated_debit_the_account_can_no_longer_afford_is_the_first_debit_again()
    {
        var ledger = app.Get<Ledger>();
        var account = await NewAccountAsync();
        await ledger.CreditAsync(account, "credit-1", 1000);

        var first = await ledger.DebitAsync(account, "order-1", 800);
        var again = await ledger.DebitAsync(account, "order-1", 800);

        Assert.Equal(MovementStatus.Applied, first.Status);
        Assert.Equal(MovementStatus.AlreadyApplied, again.Status);
        Assert.Equal(200, again.Available);
        Assert.Equal(200, (await ledger.BalanceAsync(account)).Available);
    }

    [Fact]
    public async Task A_repeated_refund_of_a_fully_refunded_debit_is_the_first_refund_again()
    {
        var ledger = app.Get<Ledger>();
        var account = await NewAccountAsync();
        await ledger.CreditAsync(account, "credit-1", 1000);
        await ledger.DebitAsync(account, "order-1", 600);

        var first = await ledger.RefundAsync(account, "order-1", "refund-1", 600);
        var again = await ledger.RefundAsync(account, "order-1", "refund-1", 600);

        Assert.Equal((MovementStatus.Applied, MovementStatus.AlreadyApplied), (first.Status, again.Status));
        Assert.Equal(1000, (await ledger.BalanceAsync(account)).Available);
    }

    [Fact]
    public async Task A_refund_whose_condition_declines_moves_nothing_and_one_it_accepts_writes_the_callers_row_with_it()
    {
        var ledger = app.Get<Ledger>();
        var account = await NewAccountAsync();
        await ledger.CreditAsync(account, "credit-1", 1000);
        await ledger.DebitAsync(account, "order-1", 600);

        var declined = await ledger.RefundIfAsync(account, "order-1", "refund-1", 600, _ => ValueTask.FromResult(false));
        var accepted = await ledger.RefundIfAsync(account, "order-1", "refund-1", 600, step =>
        {
            step.Insert(new LedgerMemoRow { PartitionKey = account.Partition, RowKey = "memo-refund-1" });
            return ValueTask.FromResult(true);
        });

        Assert.Equal(MovementStatus.Declined, declined.Status);
        Assert.Equal(MovementStatus.Applied, accepted.Status);
        Assert.Equal(1000, (await ledger.BalanceAsync(account)).Available);
        Assert.NotNull(await app.Get<StorageAccount>().Table(TableName).FindAsync<LedgerMemoRow>(account.Partition, "memo-refund-1"));
    }

    public sealed record LedgerMemoRow : Azure.Data.Tables.ITableEntity
    {
        public string PartitionKey { get; set; } = "";
        public string RowKey { get; set; } = "";
        public DateTimeOffset? Timestamp { get; set; }
        public Azure.ETag ETag { get; set; }
    }
}
