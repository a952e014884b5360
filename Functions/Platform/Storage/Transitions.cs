using Azure;
using Azure.Data.Tables;

namespace Serverless.Platform.Storage;

/// <summary>
/// A row that the transition seam stamps with the id of the operation that wrote it, so that a write whose answer
/// was lost (the SDK retried it and met its own result as 409 or 412) is recognised by that id, not guessed from
/// what the row says now.
/// </summary>
public interface IStampedRow : ITableEntity
{
    string? OperationId { get; set; }
}

/// <summary>A row with a status whose allowed moves are declared in one <see cref="StateMachine"/>.</summary>
public interface IStatefulRow : ITableEntity
{
    string Status { get; }

    StateMachine Moves { get; }
}

/// <summary>
/// The statuses of one aggregate and the moves allowed between them, declared once. The seam refuses to write a
/// move that is not declared, so an illegal move cannot be stored whatever a caller decides.
/// </summary>
public sealed class StateMachine
{
    private readonly HashSet<(string From, string To)> _moves;

    public StateMachine(string name, params (string From, string To)[] moves)
    {
        Name = name;
        _moves = [.. moves];
        Statuses = moves.SelectMany(m => new[] { m.From, m.To }).ToHashSet(StringComparer.Ordinal);
    }

    public string Name { get; }

    public IReadOnlySet<string> Statuses { get; }

    public bool Allows(string from, string to) => from == to || _moves.Contains((from, to));

    /// <summary>Throws unless <paramref name="from"/> → <paramref name="to"/> is a declared move.</summary>
    public void Ensure(string from, string to)
    {
        if (!Allows(from, to))
            throw new IllegalTransitionException($"A {Name} cannot move from '{from}' to '{to}'.");
    }
}

/// <summary>A decision tried to write a move its state machine does not declare: a bug, never a client's fault.</summary>
public sealed class IllegalTransitionException(string message) : InvalidOperationException(message);

/// <summary>
/// What one decision writes, all in the partition of the row it decided on (one entity-group transaction): the row
/// itself (written, inserted or deleted), other rows of the same partition, and events for the outbox. Built anew
/// for every attempt, so nothing from an attempt that lost its race leaks into the next.
/// </summary>
public sealed class Change<T> where T : class, ITableEntity
{
    private readonly List<TableTransactionAction> _others = [];
    private readonly List<OutboxEvent> _events = [];

    // The status as read: a decision that changes the row it was given and writes that same object must not make
    // an undeclared move look like staying put.
    private readonly string? _statusRead;

    internal Change(T? current, string operationId, int attempt)
    {
        Current = current;
        OperationId = operationId;
        Attempt = attempt;
        _statusRead = (current as IStatefulRow)?.Status;
    }

    /// <summary>The row as read (with its ETag), or null when there is none.</summary>
    public T? Current { get; }

    /// <summary>The id stamped on what this call writes; the same in every attempt of the call.</summary>
    public string OperationId { get; }

    public int Attempt { get; }

    internal T? Next { get; private set; }

    internal bool DeletesRow { get; private set; }

    internal IReadOnlyList<TableTransactionAction> Others => _others;

    internal IReadOnlyList<OutboxEvent> Events => _events;

    internal bool IsEmpty => Next is null && !DeletesRow && _others.Count == 0 && _events.Count == 0;

    internal bool IsEmptyOfOthers => _others.Count == 0 && _events.Count == 0;

    /// <summary>Writes the row: replaces it with the ETag read, or inserts it when there was none.</summary>
    public Change<T> Write(T next)
    {
        if (DeletesRow)
            throw new InvalidOperationException("A change cannot both write and delete its row.");
        if (Current is IStatefulRow from && next is IStatefulRow to)
            from.Moves.Ensure(_statusRead!, to.Status);
        Next = next;
        return this;
    }

    /// <summary>Deletes the row (with the ETag read).</summary>
    public Change<T> Delete()
    {
        if (Current is null || Next is not null)
            throw new InvalidOperationException("Only a row that was read and is not written can be deleted.");
        DeletesRow = true;
        return this;
    }

    /// <summary>Inserts another row of the same partition; the transaction fails if it exists.</summary>
    public Change<T> Insert(ITableEntity row) => Add(new(TableTransactionActionType.Add, row));

    /// <summary>Replaces another row of the same partition, conditional on the ETag it carries.</summary>
    public Change<T> Replace(ITableEntity row) => Add(new(TableTransactionActionType.UpdateReplace, row, row.ETag));

    /// <summary>Writes another row of the same partition whatever is there (rows nobody decides on, such as an index).</summary>
    public Change<T> Upsert(ITableEntity row) => Add(new(TableTransactionActionType.UpsertReplace, row));

    /// <summary>Deletes another row of the same partition, conditional on the ETag it carries.</summary>
    public Change<T> Remove(ITableEntity row) => Add(new(TableTransactionActionType.Delete, row, row.ETag));

    /// <summary>
    /// Publishes an event when, and only when, this change is stored: it is written as an outbox row in the same
    /// transaction and forwarded after it.
    /// </summary>
    public Change<T> Publish(OutboxEvent message)
    {
        _events.Add(message);
        return this;
    }

    private Change<T> Add(TableTransactionAction action)
    {
        _others.Add(action);
        return this;
    }
}

/// <summary>
/// What a transition came to: the decision's outcome (of the attempt that was stored, or of the last decision when
/// nothing was written), the row as stored afterwards (null when there is none), and whether this call wrote it.
/// </summary>
public sealed record Transitioned<T, TOutcome>(TOutcome Outcome, T? Row, bool Written) where T : class, ITableEntity;

/// <summary>
/// The one way to change a row conditionally. Read, decide, write with the ETag read; when another request wrote in
/// between (412, or 409 on an insert), read again and decide again, a bounded number of times with jitter, then
/// <see cref="ConcurrencyConflictException"/> (409, safe to retry). Every attempt of one call stamps the same
/// operation id on its row (<see cref="IStampedRow"/>), so when storage did the write but its answer was lost and
/// the SDK's retry met that write, the call recognises its own row and answers with the outcome it stored.
/// Events (<see cref="Change{T}.Publish"/>) go into outbox rows of the same transaction; see <see cref="Outbox"/>.
/// </summary>
/// <summary>
/// Lets a caller that serialises work (the ledger's turn per account) forward the events of the transitions it makes
/// after it lets go, not while others wait: inside <see cref="Begin"/>, a stored transition's events are kept, with
/// their recovery message, until <see cref="FlushAsync"/>. They are safe meanwhile: the outbox rows are stored and the
/// recovery message forwards them if the flush never comes.
/// </summary>
public sealed class ForwardingDeferral
{
    private static readonly AsyncLocal<ForwardingDeferral?> Scope = new();
    private readonly List<Func<Task>> _pending = [];
    private ForwardingDeferral? _outer;

    internal static ForwardingDeferral? Current => Scope.Value;

    /// <summary>Starts deferring in this async flow; <see cref="End"/> stops it (in a finally).</summary>
    public static ForwardingDeferral Begin()
    {
        var deferral = new ForwardingDeferral { _outer = Scope.Value };
        Scope.Value = deferral;
        return deferral;
    }

    public void End() => Scope.Value = _outer;

    internal void Add(Func<Task> forward)
    {
        lock (_pending)
            _pending.Add(forward);
    }

    /// <summary>Forwards what was kept, in the order it was stored (each forward handles its own failure).</summary>
    public async Task FlushAsync()
    {
        Func<Task>[] pending;
        lock (_pending)
        {
            pending = [.. _pending];
            _pending.Clear();
        }
        foreach (var forward in pending)
            await forward();
    }
}

public static class TransitionSeam
{
    public const int MaxAttempts = 10;

    public static Task<Transitioned<T, TOutcome>> ApplyAsync<T, TOutcome>(
        TableClient table, string partitionKey, string rowKey, T? known, Func<Change<T>, TOutcome> decide,
        Outbox? outbox, CancellationToken cancellationToken)
        where T : class, ITableEntity =>
        ApplyAsync(table, partitionKey, rowKey, known, c => ValueTask.FromResult(decide(c)), outbox, cancellationToken);

    /// <summary>
    /// The same with a decision that reads first (rows it depends on besides the one decided on, such as a movement it
    /// refers to); it is called again, and reads again, after every lost race.
    /// </summary>
    public static async Task<Transitioned<T, TOutcome>> ApplyAsync<T, TOutcome>(
        TableClient table, string partitionKey, string rowKey, T? known, Func<Change<T>, ValueTask<TOutcome>> decide,
        Outbox? outbox, CancellationToken cancellationToken)
        where T : class, ITableEntity
    {
        var operationId = Guid.NewGuid().ToString("N");
        OutboxRecovery? recovery = null;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var current = attempt == 1 && known is not null ? known : await table.FindAsync<T>(partitionKey, rowKey, cancellationToken);
                var change = new Change<T>(current, operationId, attempt);
                var outcome = await decide(change);
                if (change.IsEmpty)
                    return new(outcome, current, false);
                if (change.Events.Count > 0 && outbox is null)
                    throw new InvalidOperationException("A change that publishes events needs the Transitions service (it owns the outbox).");

                var actions = Actions(table, partitionKey, rowKey, change, current, out var written);
                if (change.Events.Count > 0)
                {
                    recovery ??= await outbox!.ScheduleRecoveryAsync(table, partitionKey, operationId, cancellationToken);
                    actions.AddRange(Outbox.Rows(partitionKey, operationId, change.Events)
                        .Select(r => new TableTransactionAction(TableTransactionActionType.Add, r)));
                }

                var stored = await TrySubmitAsync(table, actions, cancellationToken);
                if (stored is { } answers)
                {
                    if (written is not null)
                        // No ETag in the answer: a caller that goes on from this row must read it first.
                        written.ETag = answers[0].Headers.ETag ?? default;
                    // The other rows too, so a caller that goes on from a row it added (an order a debit paid) need not read it.
                    for (var i = 1; i < actions.Count && i < answers.Count; i++)
                    {
                        if (actions[i].ActionType != TableTransactionActionType.Delete && answers[i].Headers.ETag is { } etag)
                            actions[i].Entity.ETag = etag;
                    }
                    await ForwardAsync();
                    return new(outcome, written, true);
                }
                if (await IsOwnWriteAsync<T>(table, partitionKey, rowKey, operationId, change.DeletesRow, cancellationToken) is (true, var own))
                {
                    await ForwardAsync();
                    return new(outcome, own, true);
                }
                // The row may have been changed again since this call stored it; its outbox rows, stored in the same
                // transaction under this call's operation id, still tell. Deciding again would drop their events.
                if (change.Events.Count > 0 && await table.FindAsync<OutboxRow>(partitionKey,
                        Outbox.Rows(partitionKey, operationId, change.Events).First().RowKey, cancellationToken) is not null)
                {
                    await ForwardAsync();
                    return new(outcome, change.DeletesRow ? null : await table.FindAsync<T>(partitionKey, rowKey, cancellationToken), true);
                }
                if (attempt >= MaxAttempts)
                    throw new ConcurrencyConflictException(
                        $"The {typeof(T).Name} was changed by other requests {MaxAttempts} times in a row; try again.");
                await Backoff(attempt, cancellationToken);

                async Task ForwardAsync()
                {
                    if (recovery is not null)
                    {
                        var stored = recovery;
                        recovery = null;
                        if (ForwardingDeferral.Current is { } deferral)
                            // Stored, and safe with its recovery message: forwarded once the caller has let go of what it holds.
                            deferral.Add(() => outbox!.ForwardAsync(table, partitionKey, operationId, change.Events, stored, CancellationToken.None));
                        else
                            await outbox!.ForwardAsync(table, partitionKey, operationId, change.Events, stored, cancellationToken);
                    }
                }
            }
        }
        finally
        {
            // Not stored (no change, a conflict, an error): the recovery message has nothing to forward.
            if (recovery is not null)
                await outbox!.CancelRecoveryAsync(recovery);
        }
    }

    private static List<TableTransactionAction> Actions<T>(TableClient table, string partitionKey, string rowKey, Change<T> change,
        T? current, out T? written)
        where T : class, ITableEntity
    {
        var actions = new List<TableTransactionAction>(change.Others.Count + 2);
        written = change.Next;
        if (change.DeletesRow)
        {
            actions.Add(new(TableTransactionActionType.Delete, current!, current!.ETag));
        }
        else if (written is not null)
        {
            if (written.PartitionKey != partitionKey || written.RowKey != rowKey)
                throw new InvalidOperationException($"A change of {table.Name}/{partitionKey}/{rowKey} wrote another row as its own.");
            Stamp(written, change.OperationId);
            actions.Add(current is null
                ? new(TableTransactionActionType.Add, written)
                : new(TableTransactionActionType.UpdateReplace, written, current.ETag));
        }
        else if (current is IStampedRow)
        {
            // Other rows only: the row decided on is touched (stamped, same content) so the others are conditional on
            // what was read, and a lost answer is still recognised by the stamp.
            written = current;
            Stamp(written, change.OperationId);
            actions.Add(new(TableTransactionActionType.UpdateReplace, written, current.ETag));
        }
        else if (current is not null)
        {
            actions.Add(new(TableTransactionActionType.UpdateMerge, current, current.ETag));
            written = current;
        }
        else
        {
            throw new InvalidOperationException("A change of rows beside a row that does not exist must insert that row.");
        }
        foreach (var other in change.Others)
        {
            if (other.Entity.PartitionKey != partitionKey)
                throw new InvalidOperationException("Every row of one change must be in the same partition.");
            // A row this change inserts is this operation's; one it replaces keeps the operation that made it (a
            // hold drawn on by a capture must still be recognised by the call that stored it).
            if (other.Entity is IStampedRow stamped && other.ActionType == TableTransactionActionType.Add)
                stamped.OperationId = change.OperationId;
            actions.Add(other);
        }
        return actions;
    }

    private static void Stamp(ITableEntity row, string operationId)
    {
        if (row is IStampedRow stamped)
            stamped.OperationId = operationId;
    }

    /// <summary>Storage's answers, or null after a lost race (412, 409, or 404 on a row someone removed).</summary>
    private static async Task<IReadOnlyList<Response>?> TrySubmitAsync(TableClient table, List<TableTransactionAction> actions,
        CancellationToken cancellationToken)
    {
        try
        {
            if (actions.Count == 1)
                return [await SubmitOneAsync(table, actions[0], cancellationToken)];
            return (await table.SubmitTransactionAsync(actions, cancellationToken)).Value;
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412 || (ex.Status == 404 && ex.ErrorCode == "ResourceNotFound"))
        {
            return null;
        }
    }

    /// <summary>One action alone is one plain request: cheaper than a batch and answered the same way.</summary>
    private static Task<Response> SubmitOneAsync(TableClient table, TableTransactionAction action, CancellationToken cancellationToken) =>
        action.ActionType switch
        {
            TableTransactionActionType.Add => table.AddEntityAsync(action.Entity, cancellationToken),
            TableTransactionActionType.UpdateReplace => table.UpdateEntityAsync(action.Entity, action.ETag, TableUpdateMode.Replace, cancellationToken),
            TableTransactionActionType.UpdateMerge => table.UpdateEntityAsync(action.Entity, action.ETag, TableUpdateMode.Merge, cancellationToken),
            TableTransactionActionType.UpsertReplace => table.UpsertEntityAsync(action.Entity, TableUpdateMode.Replace, cancellationToken),
            TableTransactionActionType.UpsertMerge => table.UpsertEntityAsync(action.Entity, TableUpdateMode.Merge, cancellationToken),
            TableTransactionActionType.Delete => DeleteAsync(table, action, cancellationToken),
            _ => throw new ArgumentOutOfRangeException(nameof(action)),
        };

    /// <summary>The SDK answers a delete of a missing row with its 404 instead of throwing: here it is a lost race like any other.</summary>
    private static async Task<Response> DeleteAsync(TableClient table, TableTransactionAction action, CancellationToken cancellationToken)
    {
        var response = await table.DeleteEntityAsync(action.Entity.PartitionKey, action.Entity.RowKey, action.ETag, cancellationToken);
        return response.Status == 404 ? throw new RequestFailedException(404, "The row was removed meanwhile.", "ResourceNotFound", null) : response;
    }

    /// <summary>
    /// After a failed submit: was it this call's own write, stored although its answer was lost? Recognised by the
    /// operation id on the row. A delete leaves nothing to recognise: a row gone may be another request's delete, so
    /// the decision runs again on no row (a row whose consumption must be told apart is marked, not deleted).
    /// </summary>
    private static async Task<(bool Own, T? Row)> IsOwnWriteAsync<T>(TableClient table, string partitionKey, string rowKey,
        string operationId, bool deleted, CancellationToken cancellationToken)
        where T : class, ITableEntity
    {
        if (deleted || !typeof(IStampedRow).IsAssignableFrom(typeof(T)))
            return (false, null);
        var row = await table.FindAsync<T>(partitionKey, rowKey, cancellationToken);
        return row is IStampedRow { OperationId: var id } && id == operationId ? (true, row) : (false, null);
    }

    /// <summary>Jittered, growing a little each attempt, so racers spread out instead of colliding again.</summary>
    internal static Task Backoff(int attempt, CancellationToken cancellationToken) =>
        Task.Delay(Random.Shared.Next(1, 4 + 6 * Math.Min(attempt, 8)), cancellationToken);
}

/// <summary>
/// The seam as a service: the same transitions, able to publish events through the outbox. Surfaces take this;
/// the static <see cref="TableTransitions"/> extensions serve platform rows that publish nothing.
/// </summary>
public sealed class Transitions(Outbox outbox)
{
    /// <summary>Reads the row and applies <paramref name="decide"/>; see <see cref="TransitionSeam"/>.</summary>
    public Task<Transitioned<T, TOutcome>> ApplyAsync<T, TOutcome>(TableClient table, string partitionKey, string rowKey,
        Func<Change<T>, TOutcome> decide, CancellationToken cancellationToken = default)
        where T : class, ITableEntity =>
        TransitionSeam.ApplyAsync(table, partitionKey, rowKey, null, decide, outbox, cancellationToken);

    /// <summary>The same with a decision that reads rows it depends on; see <see cref="TransitionSeam"/>.</summary>
    public Task<Transitioned<T, TOutcome>> ApplyAsync<T, TOutcome>(TableClient table, string partitionKey, string rowKey, T? known,
        Func<Change<T>, ValueTask<TOutcome>> decide, CancellationToken cancellationToken = default)
        where T : class, ITableEntity =>
        TransitionSeam.ApplyAsync(table, partitionKey, rowKey, known, decide, outbox, cancellationToken);

    /// <summary>The same, starting from a row just read (with its ETag): the first decision costs no read.</summary>
    public Task<Transitioned<T, TOutcome>> ApplyAsync<T, TOutcome>(TableClient table, T known, Func<Change<T>, TOutcome> decide,
        CancellationToken cancellationToken = default)
        where T : class, ITableEntity =>
        TransitionSeam.ApplyAsync(table, known.PartitionKey, known.RowKey, known, decide, outbox, cancellationToken);
}
