using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Platform.Payments;

/// <summary>
/// The app with a table of its own for ledger accounts. Every test opens its own account (<see cref="NewAccount"/>),
/// so tests share nothing but the table.
/// </summary>
public class LedgerFactory : PlatformFactory
{
    public const string TableName = "ledgertests";

    protected override void ConfigureTestServices(IServiceCollection services) => services.AddStorage(s => s.Table(TableName));

    public Ledger Ledger => Get<Ledger>();

    public TableClient Table => Get<StorageAccount>().Table(TableName);

    /// <summary>The path of the table endpoint's entity-group transactions, as the proxy sees it.</summary>
    public const string BatchPath = "/devstoreaccount1/$batch";

    public static LedgerAccount NewAccount(long? ceiling = null) =>
        new(TableName, "acct-" + Guid.NewGuid().ToString("N")[..12], "INR", ceiling);

    /// <summary>What a second instance of the app has: its own turns and its own last balance rows, the same storage.</summary>
    public Ledger SecondInstance() => new(Get<StorageAccount>(), Get<Transitions>(), Time);

    /// <summary>The whole statement, newest first, read directly.</summary>
    public async Task<List<LedgerStatementRow>> StatementRowsAsync(LedgerAccount account) =>
        await RangeAsync<LedgerStatementRow>(account, LedgerStatementRow.Prefix, LedgerStatementRow.End);

    /// <summary>Every movement row of the account.</summary>
    public async Task<List<LedgerMovementRow>> MovementRowsAsync(LedgerAccount account) =>
        await RangeAsync<LedgerMovementRow>(account, LedgerMovementRow.Prefix, "ledger|key}");

    public async Task<LedgerBalanceRow?> BalanceRowAsync(LedgerAccount account) =>
        await Table.FindAsync<LedgerBalanceRow>(account.Partition, LedgerBalanceRow.Key);

    private async Task<List<T>> RangeAsync<T>(LedgerAccount account, string from, string to) where T : class, ITableEntity
    {
        var rows = new List<T>();
        await foreach (var row in Table.QueryAsync<T>(TableClient.CreateQueryFilter($"PartitionKey eq {account.Partition} and RowKey ge {from} and RowKey lt {to}")))
            rows.Add(row);
        return rows;
    }
}

/// <summary>The same, with the table endpoint behind a proxy that can lose storage's answers.</summary>
public sealed class LossyLedgerFactory : LedgerFactory
{
    public LossyLedgerFactory() => FrontTablesWithLossyProxy();
}

/// <summary>A row a caller adds to a movement's transaction (the order a debit pays for).</summary>
public sealed record PaidOrderRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long Total { get; set; }
    public long BalanceAfter { get; set; }
}
