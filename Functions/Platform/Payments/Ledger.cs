using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Caching.Memory;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Payments;

/// <summary>
/// An account of the ledger: a partition of a surface's table (so the surface's own rows, such as the order a
/// debit pays for, share its transactions), the currency its amounts are in, and an optional ceiling on what it
/// may hold (available plus held).
/// </summary>
public sealed record LedgerAccount(string Table, string Partition, string Currency, long? Ceiling = null);

public static class MovementKinds
{
    public const string Credit = "credit";
    public const string Debit = "debit";
    public const string Hold = "hold";
    public const string Capture = "capture";
    public const string Release = "release";
    public const string Refund = "refund";
}

public enum MovementStatus
{
    /// <summary>Moved by this call.</summary>
    Applied,

    /// <summary>The key was used before for the same movement: nothing moved now; the result is the first one's.</summary>
    AlreadyApplied,

    InsufficientFunds,

    /// <summary>The account would hold more than its ceiling.</summary>
    CeilingExceeded,

    /// <summary>The key was used before for another movement (kind, amount or reference differ).</summary>
    KeyConflict,

    /// <summary>A capture, release or refund names a movement the account does not have, or one of another kind.</summary>
    UnknownReference,

    /// <summary>More than is left of the hold (capture, release) or of the movement (refund).</summary>
    ExceedsReference,

    /// <summary>The caller's condition (see <see cref="Ledger.RefundIfAsync"/>) declined it on the rows it read: nothing moved.</summary>
    Declined,
}

/// <summary>What a movement came to, with the balance after it (after the first one, for a repeated key).</summary>
public sealed record MovementResult(MovementStatus Status, long Available, long Held, LedgerMovementRow? Movement)
{
    public bool Moved => Status is MovementStatus.Applied or MovementStatus.AlreadyApplied;
}

/// <summary>The balance of an account: what can be spent, and what is held for captures to come.</summary>
public sealed record LedgerBalance(long Available, long Held, string Currency, long Movements, long Debits);

/// <summary>
/// Lets a caller add rows of the account's partition to the movement's own transaction (the order it pays, a
/// print job), and events to publish through the outbox. Called once per attempt, after the movement is decided.
/// </summary>
public sealed class LedgerStep
{
    private readonly Change<LedgerBalanceRow> _change;

    internal LedgerStep(Change<LedgerBalanceRow> change, long availableAfter, long heldAfter, long version, DateTimeOffset at)
    {
        _change = change;
        AvailableAfter = availableAfter;
        HeldAfter = heldAfter;
        Version = version;
        At = at;
    }

    public long AvailableAfter { get; }

    public long HeldAfter { get; }

    /// <summary>The movement's number in the account (1 for the first): its statement position.</summary>
    public long Version { get; }

    public DateTimeOffset At { get; }

    public LedgerStep Insert(ITableEntity row) => Do(() => _change.Insert(row));

    public LedgerStep Replace(ITableEntity row) => Do(() => _change.Replace(row));

    public LedgerStep Upsert(ITableEntity row) => Do(() => _change.Upsert(row));

    public LedgerStep Remove(ITableEntity row) => Do(() => _change.Remove(row));

    public LedgerStep Publish(OutboxEvent message) => Do(() => _change.Publish(message));

    private LedgerStep Do(Action action)
    {
        action();
        return this;
    }
}

/// <summary>
/// The one ledger. Each account is a partition: a balance row (<c>ledger|balance</c>: available, held, currency,
/// version), statement rows keyed newest first (<c>ledger|stmt|…</c>, a statement page is a range read), and a row
/// per movement key (<c>ledger|key|…</c>) that makes a retry safe. Every movement is ONE entity-group transaction
/// through the transition seam: the balance row replaced with its ETag, the statement row, the movement row (and,
/// for a capture, release or refund, the movement it draws on), plus the caller's rows. A movement key is
/// required: the same key twice is <see cref="MovementStatus.AlreadyApplied"/> with the first result, the same
/// key for another movement is <see cref="MovementStatus.KeyConflict"/>. Nothing goes negative; the statement
/// always sums to the balance. Movements on one account take turns on this instance (no ETag races between them,
/// and the balance row they leave is reused, so a movement costs one storage request when nothing else wrote);
/// other instances are kept out by the ETag, with the seam's bounded, jittered retries, then a 409.
/// </summary>
public sealed class Ledger(StorageAccount storage, Transitions transitions, TimeProvider time)
{
    /// <summary>One turn-taking gate per account in use on this instance, removed when nobody waits on it.</summary>
    private readonly Dictionary<string, Gate> _gates = new(StringComparer.Ordinal);

    /// <summary>The balance row each account's last movement here left, with its ETag; only read and written under the account's gate.</summary>
    private readonly MemoryCache _last = new(new MemoryCacheOptions { SizeLimit = 50_000 });

    public static string MovementRowKey(string key) => LedgerMovementRow.Prefix + TableKeys.Escape(key);

    public Task<MovementResult> CreditAsync(LedgerAccount account, string key, long amount, Action<LedgerStep>? alsoWrite = null,
        string? memo = null, CancellationToken cancellationToken = default) =>
        MoveAsync(account, new Movement(MovementKinds.Credit, key, amount, null, memo), alsoWrite, cancellationToken);

    public Task<MovementResult> DebitAsync(LedgerAccount account, string key, long amount, Action<LedgerStep>? alsoWrite = null,
        string? memo = null, CancellationToken cancellationToken = default) =>
        MoveAsync(account, new Movement(MovementKinds.Debit, key, amount, null, memo), alsoWrite, cancellationToken);

    /// <summary>Sets money aside: it leaves what is available and waits, held, for a capture or a release.</summary>
    public Task<MovementResult> HoldAsync(LedgerAccount account, string key, long amount, Action<LedgerStep>? alsoWrite = null,
        string? memo = null, CancellationToken cancellationToken = default) =>
        MoveAsync(account, new Movement(MovementKinds.Hold, key, amount, null, memo), alsoWrite, cancellationToken);

    /// <summary>Takes part or all of a hold: it leaves the account.</summary>
    public Task<MovementResult> CaptureAsync(LedgerAccount account, string holdKey, string key, long amount,
        Action<LedgerStep>? alsoWrite = null, string? memo = null, CancellationToken cancellationToken = default) =>
        MoveAsync(account, new Movement(MovementKinds.Capture, key, amount, holdKey, memo), alsoWrite, cancellationToken);

    /// <summary>Gives back what is left of a hold (or <paramref name="amount"/> of it): available again.</summary>
    public Task<MovementResult> ReleaseAsync(LedgerAccount account, string holdKey, string key, long? amount = null,
        Action<LedgerStep>? alsoWrite = null, string? memo = null, CancellationToken cancellationToken = default) =>
        MoveAsync(account, new Movement(MovementKinds.Release, key, amount, holdKey, memo), alsoWrite, cancellationToken);

    /// <summary>Gives back part or all of an earlier debit or capture; all refunds of one movement add up to at most its amount.</summary>
    public Task<MovementResult> RefundAsync(LedgerAccount account, string ofKey, string key, long amount,
        Action<LedgerStep>? alsoWrite = null, string? memo = null, CancellationToken cancellationToken = default) =>
        MoveAsync(account, new Movement(MovementKinds.Refund, key, amount, ofKey, memo), alsoWrite, cancellationToken);

    /// <summary>
    /// A credit that happens only if <paramref name="condition"/> agrees: like <see cref="RefundIfAsync"/>, the condition
    /// is called on every attempt, once the credit is decided, to read the caller's rows of the partition afresh, add
    /// them to the step, or decline (<see cref="MovementStatus.Declined"/>, nothing written). A key found used before deciding answers
    /// <see cref="MovementStatus.AlreadyApplied"/> without calling it; a condition that declines because of a parallel
    /// call's write may be looking at that call's movement (see <see cref="FindMovementAsync"/>).
    /// </summary>
    public Task<MovementResult> CreditIfAsync(LedgerAccount account, string key, long amount,
        Func<LedgerStep, ValueTask<bool>> condition, string? memo = null, CancellationToken cancellationToken = default) =>
        MoveAsync(account, new Movement(MovementKinds.Credit, key, amount, null, memo), condition, cancellationToken);

    /// <summary>
    /// A refund that happens only if <paramref name="condition"/> agrees. It is called on every attempt, once the refund is
    /// decided and before anything is written, so it can read the caller's own rows afresh (the order being cancelled),
    /// add them to the step, or decline with false (<see cref="MovementStatus.Declined"/>, nothing written). A row
    /// the caller replaces with the ETag it read on an earlier attempt would fail every retry after another request
    /// changed it; reading it here, per attempt, decides on what is there now.
    /// </summary>
    public Task<MovementResult> RefundIfAsync(LedgerAccount account, string ofKey, string key, long amount,
        Func<LedgerStep, ValueTask<bool>> condition, string? memo = null, CancellationToken cancellationToken = default) =>
        MoveAsync(account, new Movement(MovementKinds.Refund, key, amount, ofKey, memo), condition, cancellationToken);

    public async Task<LedgerBalance> BalanceAsync(LedgerAccount account, CancellationToken cancellationToken = default)
    {
        var row = await storage.Table(account.Table).FindAsync<LedgerBalanceRow>(account.Partition, LedgerBalanceRow.Key, cancellationToken);
        return row is null ? new LedgerBalance(0, 0, account.Currency, 0, 0) : new LedgerBalance(row.Available, row.Held, row.Currency, row.Version, row.DebitCount);
    }

    /// <summary>A page of the statement, newest first (one range read), and how many movements there are in all.</summary>
    public async Task<(IReadOnlyList<LedgerStatementRow> Page, long Total)> StatementAsync(LedgerAccount account, int limit, long offset,
        CancellationToken cancellationToken = default)
    {
        var table = storage.Table(account.Table);
        var balance = await table.FindAsync<LedgerBalanceRow>(account.Partition, LedgerBalanceRow.Key, cancellationToken);
        var total = balance?.Version ?? 0;
        var page = new List<LedgerStatementRow>(limit);
        if (offset >= total || limit <= 0)
            return (page, total);
        // Statement keys are the version counted down, so the page starts at a key computed, not skipped to.
        var from = LedgerStatementRow.KeyOf(total - offset);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {account.Partition} and RowKey ge {from} and RowKey lt {LedgerStatementRow.End}");
        await foreach (var row in table.QueryAsync<LedgerStatementRow>(filter, maxPerPage: Math.Min(1000, limit), cancellationToken: cancellationToken))
        {
            page.Add(row);
            if (page.Count == limit)
                break;
        }
        return (page, total);
    }

    /// <summary>The movement recorded under a key, or null.</summary>
    public Task<LedgerMovementRow?> FindMovementAsync(LedgerAccount account, string key, CancellationToken cancellationToken = default) =>
        storage.Table(account.Table).FindAsync<LedgerMovementRow>(account.Partition, MovementRowKey(key), cancellationToken);

    private sealed record Movement(string Kind, string Key, long? Amount, string? Of, string? Memo);

    private Task<MovementResult> MoveAsync(LedgerAccount account, Movement movement, Action<LedgerStep>? alsoWrite,
        CancellationToken cancellationToken) =>
        MoveAsync(account, movement, alsoWrite is null ? null : step =>
        {
            alsoWrite(step);
            return ValueTask.FromResult(true);
        }, cancellationToken);

    private async Task<MovementResult> MoveAsync(LedgerAccount account, Movement movement, Func<LedgerStep, ValueTask<bool>>? condition,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(movement.Key, "key");
        if (movement.Amount is { } amount && amount <= 0)
            throw new ArgumentOutOfRangeException(nameof(movement), "A movement's amount must be positive.");
        if (movement.Amount is null && movement.Kind != MovementKinds.Release)
            throw new ArgumentException("Only a release may leave its amount to the hold.", nameof(movement));
        if (movement.Of is not null && movement.Of == movement.Key)
            throw new ArgumentException("A movement cannot refer to itself.", nameof(movement));

        var table = storage.Table(account.Table);
        var cacheKey = account.Table + "/" + account.Partition;
        // Events a movement publishes are forwarded after the account's turn ends: the next movement need not wait for them.
        var deferral = ForwardingDeferral.Begin();
        try
        {
            return await MoveInTurnAsync(account, movement, condition, table, cacheKey, cancellationToken);
        }
        finally
        {
            deferral.End();
            await deferral.FlushAsync();
        }
    }

    private async Task<MovementResult> MoveInTurnAsync(LedgerAccount account, Movement movement, Func<LedgerStep, ValueTask<bool>>? condition,
        TableClient table, string cacheKey, CancellationToken cancellationToken)
    {
        var gate = await EnterAsync(cacheKey, cancellationToken);
        try
        {
            var known = _last.TryGetValue(cacheKey, out LedgerBalanceRow? cached) ? cached : null;
            var result = await ApplyAsync(known);
            if (!result.Written && known is not null && result.Outcome.Status is MovementStatus.InsufficientFunds or MovementStatus.CeilingExceeded)
                // A refusal must not rest on a balance row another instance may have changed since.
                result = await ApplyAsync(null);
            if (result.Row is { ETag: var etag } row && etag != default)
                _last.Set(cacheKey, row with { }, new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = TimeSpan.FromMinutes(10) });
            else
                _last.Remove(cacheKey);
            // When the seam recognised this call's own write after a lost answer, the outcome is of the attempt stored.
            return result.Outcome;

            // The known row is handed to the seam, which writes the next one: never the object the cache holds.
            Task<Transitioned<LedgerBalanceRow, MovementResult>> ApplyAsync(LedgerBalanceRow? start) =>
                transitions.ApplyAsync<LedgerBalanceRow, MovementResult>(table, account.Partition, LedgerBalanceRow.Key,
                    start is null ? null : start with { },
                    change => DecideAsync(table, account, movement, change, condition, cancellationToken), cancellationToken);
        }
        catch
        {
            _last.Remove(cacheKey);
            throw;
        }
        finally
        {
            gate.Semaphore.Release();
            Leave(cacheKey, gate);
        }
    }

    private sealed class Gate
    {
        public readonly SemaphoreSlim Semaphore = new(1, 1);
        public int Users;
    }

    private async Task<Gate> EnterAsync(string key, CancellationToken cancellationToken)
    {
        Gate? gate;
        lock (_gates)
        {
            if (!_gates.TryGetValue(key, out gate))
                _gates[key] = gate = new Gate();
            gate.Users++;
        }
        try
        {
            await gate.Semaphore.WaitAsync(cancellationToken);
            return gate;
        }
        catch
        {
            Leave(key, gate);
            throw;
        }
    }

    private void Leave(string key, Gate gate)
    {
        lock (_gates)
        {
            if (--gate.Users == 0)
                _gates.Remove(key);
        }
    }

    private async ValueTask<MovementResult> DecideAsync(TableClient table, LedgerAccount account, Movement movement,
        Change<LedgerBalanceRow> change, Func<LedgerStep, ValueTask<bool>>? condition, CancellationToken cancellationToken)
    {
        var balance = change.Current;
        if (balance is not null && !string.Equals(balance.Currency, account.Currency, StringComparison.Ordinal))
            throw new InvalidOperationException($"Ledger account {account.Table}/{account.Partition} is in {balance.Currency}, not {account.Currency}.");
        var available = balance?.Available ?? 0;
        var held = balance?.Held ?? 0;

        // After a lost race the key may have been used meanwhile (or by an earlier request): look before moving.
        // On a first attempt a fresh key is the rule, and a used one fails the transaction (409) and comes here.
        var keyChecked = false;
        if (change.Attempt > 1 || balance is null)
        {
            keyChecked = true;
            var existing = await table.FindAsync<LedgerMovementRow>(account.Partition, MovementRowKey(movement.Key), cancellationToken);
            if (existing is not null)
                return Repeated(existing, movement, change.OperationId);
        }

        LedgerMovementRow? of = null;
        if (movement.Of is not null)
        {
            of = await table.FindAsync<LedgerMovementRow>(account.Partition, MovementRowKey(movement.Of), cancellationToken);
            var expected = movement.Kind == MovementKinds.Refund ? [MovementKinds.Debit, MovementKinds.Capture] : new[] { MovementKinds.Hold };
            if (of is null || !expected.Contains(of.Kind))
                return await RefuseAsync(MovementStatus.UnknownReference);
        }

        var amount = movement.Amount ?? of!.Remaining;
        if (amount <= 0)
            return await RefuseAsync(MovementStatus.ExceedsReference);
        long availableDelta, heldDelta;
        switch (movement.Kind)
        {
            case MovementKinds.Credit:
                (availableDelta, heldDelta) = (amount, 0);
                break;
            case MovementKinds.Debit:
                (availableDelta, heldDelta) = (-amount, 0);
                break;
            case MovementKinds.Hold:
                (availableDelta, heldDelta) = (-amount, amount);
                break;
            case MovementKinds.Capture:
                (availableDelta, heldDelta) = (0, -amount);
                break;
            case MovementKinds.Release:
                (availableDelta, heldDelta) = (amount, -amount);
                break;
            case MovementKinds.Refund:
                (availableDelta, heldDelta) = (amount, 0);
                break;
            default:
                throw new ArgumentException($"Unknown movement kind '{movement.Kind}'.", nameof(movement));
        }
        if (of is not null && amount > of.Remaining)
            return await RefuseAsync(MovementStatus.ExceedsReference);
        var availableAfter = checked(available + availableDelta);
        var heldAfter = checked(held + heldDelta);
        if (availableAfter < 0 || heldAfter < 0)
            return await RefuseAsync(MovementStatus.InsufficientFunds);
        if (movement.Kind == MovementKinds.Credit && account.Ceiling is { } ceiling && checked(availableAfter + heldAfter) > ceiling)
            return await RefuseAsync(MovementStatus.CeilingExceeded);

        var now = time.GetUtcNow();
        var version = (balance?.Version ?? 0) + 1;
        // The caller's rows first: a condition that declines leaves the change empty, so nothing is written.
        if (condition is not null && !await condition(new LedgerStep(change, availableAfter, heldAfter, version, now)))
        {
            if (!change.IsEmptyOfOthers)
                throw new InvalidOperationException("A condition that declines a movement must not add rows to it.");
            return new(MovementStatus.Declined, available, held, null);
        }
        var next = (balance ?? new LedgerBalanceRow { PartitionKey = account.Partition, Currency = account.Currency }) with
        {
            Available = availableAfter,
            Held = heldAfter,
            Version = version,
            DebitCount = (balance?.DebitCount ?? 0) + (movement.Kind == MovementKinds.Debit ? 1 : 0),
        };
        var row = new LedgerMovementRow
        {
            PartitionKey = account.Partition,
            RowKey = MovementRowKey(movement.Key),
            MovementKey = movement.Key,
            Kind = movement.Kind,
            Amount = amount,
            Of = movement.Of,
            // What later movements may still draw on it: a hold's capturable rest, a debit's or capture's refundable rest.
            Remaining = movement.Kind is MovementKinds.Hold or MovementKinds.Debit or MovementKinds.Capture ? amount : 0,
            AvailableAfter = availableAfter,
            HeldAfter = heldAfter,
            Version = version,
            At = now,
            Memo = movement.Memo,
        };
        change.Write(next);
        change.Insert(row);
        change.Insert(new LedgerStatementRow
        {
            PartitionKey = account.Partition,
            RowKey = LedgerStatementRow.KeyOf(version),
            MovementKey = movement.Key,
            Kind = movement.Kind,
            Amount = availableDelta,
            HeldDelta = heldDelta,
            AvailableAfter = availableAfter,
            HeldAfter = heldAfter,
            Version = version,
            At = now,
            Memo = movement.Memo,
        });
        if (of is not null)
            change.Replace(of with { Remaining = of.Remaining - amount });
        return new(MovementStatus.Applied, availableAfter, heldAfter, row);

        // A retry of a movement that went through may no longer fit (the debit emptied the account, the refund used
        // up its debit): a key already used answers as used, before any refusal is given.
        async ValueTask<MovementResult> RefuseAsync(MovementStatus status)
        {
            if (!keyChecked
                && await table.FindAsync<LedgerMovementRow>(account.Partition, MovementRowKey(movement.Key), cancellationToken) is { } existing)
                return Repeated(existing, movement, change.OperationId);
            return new(status, available, held, null);
        }
    }

    /// <summary>A key seen before: the same movement again, or another one under a used key.</summary>
    private static MovementResult Repeated(LedgerMovementRow existing, Movement movement, string operationId)
    {
        // This call's own movement, stored by an attempt whose answer was lost while another request moved the
        // balance on (so the balance row no longer carries this call's operation id): it was applied by this call.
        if (existing.OperationId == operationId)
            return new(MovementStatus.Applied, existing.AvailableAfter, existing.HeldAfter, existing);
        var same = existing.Kind == movement.Kind && existing.Of == movement.Of && (movement.Amount is null || existing.Amount == movement.Amount);
        return new(same ? MovementStatus.AlreadyApplied : MovementStatus.KeyConflict, existing.AvailableAfter, existing.HeldAfter, existing);
    }
}

/// <summary>An account's balance: RK = <c>ledger|balance</c> in the account's partition.</summary>
public sealed record LedgerBalanceRow : IStampedRow
{
    public const string Key = "ledger|balance";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = Key;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long Available { get; set; }
    public long Held { get; set; }
    public string Currency { get; set; } = "";

    /// <summary>Movements so far; the newest statement row is number <see cref="Version"/>.</summary>
    public long Version { get; set; }

    /// <summary>Debits so far: a surface whose every order is one debit counts its orders without a scan.</summary>
    public long DebitCount { get; set; }

    public string? OperationId { get; set; }
}

/// <summary>A movement under its key: RK = <c>ledger|key|&lt;escaped key&gt;</c>.</summary>
public sealed record LedgerMovementRow : IStampedRow
{
    public const string Prefix = "ledger|key|";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string MovementKey { get; set; } = "";
    public string Kind { get; set; } = "";
    public long Amount { get; set; }

    /// <summary>The hold a capture or release draws on, the movement a refund gives back.</summary>
    public string? Of { get; set; }

    /// <summary>What is left to capture or release (a hold), or to refund (a debit or capture).</summary>
    public long Remaining { get; set; }

    public long AvailableAfter { get; set; }
    public long HeldAfter { get; set; }
    public long Version { get; set; }
    public DateTimeOffset At { get; set; }
    public string? Memo { get; set; }
    public string? OperationId { get; set; }
}

/// <summary>
/// A line of the statement: RK = <c>ledger|stmt|&lt;version counted down&gt;</c>, so the newest sorts first.
/// <see cref="Amount"/> is what the movement did to the available balance, <see cref="HeldDelta"/> to the held.
/// </summary>
public sealed record LedgerStatementRow : ITableEntity
{
    public const string Prefix = "ledger|stmt|";
    public const string End = "ledger|stmt}";

    public static string KeyOf(long version) => Prefix + (long.MaxValue - version).ToString("D19", CultureInfo.InvariantCulture);

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string MovementKey { get; set; } = "";
    public string Kind { get; set; } = "";
    public long Amount { get; set; }
    public long HeldDelta { get; set; }
    public long AvailableAfter { get; set; }
    public long HeldAfter { get; set; }
    public long Version { get; set; }
    public DateTimeOffset At { get; set; }
    public string? Memo { get; set; }
}
