using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Payments;
using Serverless.Platform.Storage;

namespace Serverless.ECards;

/// <summary>
/// Moves partners from the layout before the platform ledger (a <c>balance</c> row and <c>ledger-*</c> rows, whole
/// roubles) to ledger rows (<c>ledger|balance</c>, statement and movement rows, kopecks), history intact.
/// <para>
/// When: a start-up task that runs once per deployment, guarded by a marker row (once it exists, a start costs one
/// read and requests pay nothing), plus a lazy check on a partner's first touch for as long as this instance has
/// not finished (or seen) the start-up pass — a partner whose migration failed at start-up, or one an instance
/// still running the old code wrote while the pass ran, is migrated before anything reads its money.
/// </para>
/// <para>
/// How: the old rows are replayed in time order into statement rows (versions 1..n) and movement rows under the new
/// keys (<c>order-…</c>, <c>refund-…</c>, <c>topup-…</c>), so a retried old top-up reference or a cancel still
/// applies once. These rows are only ever inserted (a row already there was written by a migration racing this one,
/// or changed since by a movement after it): never overwritten. The last transaction inserts the ledger's balance
/// row and deletes the old <c>balance</c> row with the ETag read, so it commits only on the snapshot it replayed and
/// exactly once however many instances race; with few rows it is the only transaction. The old <c>ledger-*</c> rows
/// stay as history; the old balance row goes, because its presence is what "not migrated yet" means.
/// </para>
/// </summary>
public sealed class PartnerLedgerMigration(StorageAccount storage, TimeProvider time, ILogger<PartnerLedgerMigration> logger) : IOnceStartupTask
{
    /// <summary>No partner's partition: client ids start with a letter or digit.</summary>
    public const string MarkerPartition = "!migrations";
    public const string MarkerKey = "partner-ledger";
    private const int MaxActions = 100;

    private readonly ConcurrentDictionary<string, bool> _migrated = new(StringComparer.Ordinal);
    private volatile bool _done;

    private TableClient Table => storage.Table(PartnerAccounts.TableName);

    /// <summary>True once every partner is known to be on the ledger: requests then check nothing.</summary>
    public bool Done => _done;

    public string Name => "PartnerLedger";

    bool IOnceStartupTask.Finished => _done;

    public void FinishedBefore() => _done = true;

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        if (await Table.FindAsync<MigrationMarkerRow>(MarkerPartition, MarkerKey, cancellationToken) is not null)
        {
            _done = true;
            return;
        }
        var partitions = new List<string>();
        await foreach (var row in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"RowKey eq {PartnerBalanceRow.Key}"),
                           select: ["PartitionKey"], cancellationToken: cancellationToken))
            partitions.Add(row.PartitionKey);
        var failed = 0;
        foreach (var partition in partitions)
        {
            try
            {
                await MigratePartitionAsync(partition, cancellationToken);
                _migrated[partition] = true;
            }
            catch (Exception ex) when (!StorageFailure.IsUnavailable(ex) && !cancellationToken.IsCancellationRequested)
            {
                // One partner's odd history must not keep the app from starting: it is tried again on first touch.
                failed++;
                logger.LogError(ex, "E-card partner partition {Partition} could not be moved to the ledger; it is retried when next used", partition);
            }
        }
        if (failed > 0)
            return;
        await Table.UpsertEntityAsync(new MigrationMarkerRow { At = time.GetUtcNow(), Partitions = partitions.Count }, TableUpdateMode.Replace,
            cancellationToken);
        _done = true;
        if (partitions.Count > 0)
            logger.LogInformation("Moved {Count} e-card partners to the ledger", partitions.Count);
    }

    /// <summary>Makes sure the partner's money is on the ledger before it is used: free once the start-up pass is done.</summary>
    public ValueTask EnsureAsync(string partnerId, CancellationToken cancellationToken = default) =>
        _done ? ValueTask.CompletedTask : EnsurePartitionAsync(PartnerAccounts.Partition(partnerId), cancellationToken);

    private async ValueTask EnsurePartitionAsync(string partition, CancellationToken cancellationToken)
    {
        if (_migrated.ContainsKey(partition))
            return;
        await MigratePartitionAsync(partition, cancellationToken);
        _migrated[partition] = true;
    }

    /// <summary>
    /// Migrates one partner; safe to run again and on several instances at once. A transition on the ledger's balance
    /// row: it inserts that row and deletes the old balance row (with the ETag read) in one transaction, so it commits
    /// once however many instances race, and a race lost is decided again on what is there then.
    /// </summary>
    public async Task MigratePartitionAsync(string partition, CancellationToken cancellationToken = default)
    {
        await Table.ApplyAsync<LedgerBalanceRow, bool>(partition, LedgerBalanceRow.Key, async change =>
        {
            var old = await Table.FindAsync<PartnerBalanceRow>(partition, PartnerBalanceRow.Key, cancellationToken);
            if (old is null)
                return false;
            if (change.Current is not null)
            {
                // Only an instance of the old code writing after the migration can leave both: left for a person to look at.
                logger.LogError("E-card partner partition {Partition} has both an old balance row and a ledger balance row; the ledger's is used", partition);
                return false;
            }
            var history = new List<PartnerLedgerRow>();
            await foreach (var row in Table.QueryAsync<PartnerLedgerRow>(
                               TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge 'ledger-' and RowKey lt 'ledger.'"),
                               cancellationToken: cancellationToken))
                history.Add(row);
            var (rows, balance) = Replay(partition, old, history);
            // A small history goes into the same transaction; a large one first, in its own (the rows are the same
            // whoever writes them, so an instance racing this one writes nothing different).
            if (rows.Count + 2 <= MaxActions)
                rows.ForEach(r => change.Insert(r));
            else
                await Table.AddAllOnceAsync(rows, cancellationToken);
            change.Write(balance).Remove(old);
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// The old rows in the order they happened (by time; rows of the same instant chained by their balance after),
    /// as statement and movement rows, and the balance row they add up to.
    /// </summary>
    internal static (List<ITableEntity> Rows, LedgerBalanceRow Balance) Replay(string partition, PartnerBalanceRow old,
        IReadOnlyList<PartnerLedgerRow> history)
    {
        var pending = history.OrderBy(r => r.At).ThenBy(r => r.RowKey, StringComparer.Ordinal).ToList();
        var rows = new List<ITableEntity>(history.Count * 2 + 2);
        var movements = new Dictionary<string, LedgerMovementRow>(StringComparer.Ordinal);
        long running = 0, version = 0, debits = 0;
        while (pending.Count > 0)
        {
            var same = 1;
            while (same < pending.Count && pending[same].At == pending[0].At)
                same++;
            var next = pending.FindIndex(0, same, r => r.BalanceAfter - r.Amount == running);
            var row = pending[Math.Max(next, 0)];
            pending.RemoveAt(Math.Max(next, 0));
            running += row.Amount;
            version++;
            var (kind, key, of) = Movement(row);
            if (kind == MovementKinds.Debit)
                debits++;
            Add(kind, key, of, row.Amount, row.At, row.RowKey);
        }
        if (running != old.Balance)
        {
            // The old rows never disagreed with their balance row; if some did, the balance partners saw stands and the
            // statement says why it differs.
            var difference = old.Balance - running;
            running += difference;
            version++;
            Add(difference > 0 ? MovementKinds.Credit : MovementKinds.Debit, "migration-adjustment", null, difference,
                old.Timestamp ?? DateTimeOffset.UnixEpoch, "balance");
        }

        return (rows, new LedgerBalanceRow
        {
            PartitionKey = partition,
            Available = PartnerAccounts.ToMinor(old.Balance),
            Currency = PartnerAccounts.Currency,
            Version = version,
            DebitCount = debits,
        });

        // One statement row and one movement row, at the running balance and version.
        void Add(string kind, string key, string? of, long amount, DateTimeOffset at, string source)
        {
            var minor = PartnerAccounts.ToMinor(amount);
            var after = PartnerAccounts.ToMinor(running);
            var memo = "migrated from " + source;
            rows.Add(new LedgerStatementRow
            {
                PartitionKey = partition, RowKey = LedgerStatementRow.KeyOf(version), MovementKey = key, Kind = kind, Amount = minor,
                AvailableAfter = after, Version = version, At = at, Memo = memo,
            });
            var movement = new LedgerMovementRow
            {
                PartitionKey = partition, RowKey = Ledger.MovementRowKey(key), MovementKey = key, Kind = kind, Amount = Math.Abs(minor), Of = of,
                Remaining = kind == MovementKinds.Debit ? Math.Abs(minor) : 0, AvailableAfter = after, Version = version, At = at, Memo = memo,
            };
            if (movements.TryGetValue(key, out var twice))
                throw new InvalidOperationException($"Two old rows become movement '{key}' ({twice.Memo}, {memo}).");
            movements[key] = movement;
            rows.Add(movement);
            // A refund draws on its debit: what is left of the debit to refund goes down by it.
            if (of is not null && movements.TryGetValue(of, out var debit))
                debit.Remaining = Math.Max(0, debit.Remaining - Math.Abs(minor));
        }
    }

    private static (string Kind, string Key, string? Of) Movement(PartnerLedgerRow row)
    {
        const string debit = "ledger-debit-", refund = "ledger-refund-", topUp = "ledger-topup-";
        if (row.RowKey.StartsWith(debit, StringComparison.Ordinal))
            return (MovementKinds.Debit, PartnerAccounts.DebitKey(row.RowKey[debit.Length..]), null);
        if (row.RowKey.StartsWith(refund, StringComparison.Ordinal))
        {
            var orderId = row.RowKey[refund.Length..];
            return (MovementKinds.Refund, PartnerAccounts.RefundKey(orderId), PartnerAccounts.DebitKey(orderId));
        }
        if (row.RowKey.StartsWith(topUp, StringComparison.Ordinal))
            return (MovementKinds.Credit, PartnerAccounts.TopUpKey(Unescape(row.RowKey[topUp.Length..])), null);
        throw new InvalidOperationException($"An old ledger row of unknown kind: '{row.RowKey}'.");
    }

    /// <summary>The inverse of <see cref="TableKeys.Escape"/> (<c>%XX</c> back to the character).</summary>
    internal static string Unescape(string key)
    {
        if (!key.Contains('%', StringComparison.Ordinal))
            return key;
        var builder = new StringBuilder(key.Length);
        for (var i = 0; i < key.Length; i++)
        {
            if (key[i] == '%' && i + 2 < key.Length && int.TryParse(key.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code))
            {
                builder.Append((char)code);
                i += 2;
            }
            else
            {
                builder.Append(key[i]);
            }
        }
        return builder.ToString();
    }
}

/// <summary>Written when every partner is on the ledger: PK = <c>!migrations</c>, RK = <c>partner-ledger</c>.</summary>
public sealed record MigrationMarkerRow : ITableEntity
{
    public string PartitionKey { get; set; } = PartnerLedgerMigration.MarkerPartition;
    public string RowKey { get; set; } = PartnerLedgerMigration.MarkerKey;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public DateTimeOffset At { get; set; }
    public int Partitions { get; set; }
}
