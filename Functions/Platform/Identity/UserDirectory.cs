using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Hosting;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Identity;

/// <summary>
/// A surface that checks its sessions against a row of its own in the user's partition (a copy of the session
/// version, read per request anyway) gives the platform those rows, changed so that the account's current tokens of
/// that surface stop working; the platform writes them in the transaction that ends the account's sessions.
/// </summary>
public interface IUserSessionRows
{
    /// <summary>The surface's rows of the partition as read (with their ETags), changed; none when the user has none.</summary>
    Task<IReadOnlyList<ITableEntity>> EndSessionsAsync(TableClient table, string partitionKey, CancellationToken cancellationToken);
}

/// <summary>A person who signs in with a password. Surfaces keep their own rows in the user's partition, keyed by <see cref="Id"/>.</summary>
public sealed record UserAccount : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = UserDirectory.AccountRow;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long Id { get; set; }
    public string? Username { get; set; }
    public string? Email { get; set; }
    public string? Phone { get; set; }
    public string PasswordHash { get; set; } = "";

    /// <summary>Comma-separated, as Table storage has no list type.</summary>
    public string Roles { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public bool Disabled { get; set; }

    /// <summary>
    /// Raised to end every token issued before (a password change or reset, a role change, disabling the account);
    /// checked on every authenticated request (<see cref="SessionCheckMiddleware"/>).
    /// </summary>
    public int SessionVersion { get; set; }

    [System.Runtime.Serialization.IgnoreDataMember]
    public IReadOnlyList<string> RoleList => Roles.Split(',', StringSplitOptions.RemoveEmptyEntries);

    [System.Runtime.Serialization.IgnoreDataMember]
    public string DisplayName => Username ?? Email ?? Phone ?? Id.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// A unique value (a sign-in identifier, or a surface's code) held by one user: the only row of its own partition,
/// inserted only if absent. It carries the holder's id, so an insert whose answer was lost, met again by the
/// client library's retry, is recognised as this user's own.
/// </summary>
public sealed record UserClaim : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = UserDirectory.ClaimRow;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long UserId { get; set; }
    public DateTimeOffset ClaimedAt { get; set; }
}

/// <summary>
/// Written before a change takes or gives up claims (sign-up, a new username or phone, deletion) and removed when
/// it is done: what <see cref="UserDirectory.SweepAsync"/> finds when the change was cut short. Keys are
/// <c>claims-pending-{yyyyMMddHHmm}</c> and <c>{user id:D19}-{random}</c>.
/// </summary>
public sealed record ClaimIntent : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long UserId { get; set; }

    /// <summary>Claim partition keys, one a line: each is released unless the user holds it when the sweep looks.</summary>
    public string Claims { get; set; } = "";

    /// <summary><c>PartitionKey&lt;TAB&gt;RowKey</c> lines: rows that belong only to an account that exists.</summary>
    public string Provisional { get; set; } = "";
}

public sealed record NewUser(string? Username, string? Email, string? Phone, string Password, IReadOnlyCollection<string> Roles);

/// <summary>
/// What a surface adds to a sign-up, given the new user's id: <paramref name="Companions"/> go into the user's
/// partition in the account's own transaction; <paramref name="Claims"/> are further unique values (partition keys)
/// the user takes first; <paramref name="Provisional"/> rows go elsewhere before the account is written, and are
/// removed again if it never is.
/// </summary>
public sealed record UserRows(IReadOnlyList<ITableEntity> Companions, IReadOnlyList<string>? Claims = null, IReadOnlyList<ITableEntity>? Provisional = null);

/// <summary>The outcome of creating a user: the account, or which identifiers are taken already.</summary>
public sealed record CreateUserResult(UserAccount? User, IReadOnlyList<string> TakenFields)
{
    public bool Created => User is not null;
}

/// <summary>The outcome of changing a user: the account as stored, or which new identifiers are taken already.</summary>
public sealed record UpdateUserResult(UserAccount? User, IReadOnlyList<string> TakenFields)
{
    public bool Updated => User is not null;
}

/// <summary>
/// Users and their sign-in identifiers. Key design (table <c>users</c>), so that partitions scale with the users:
/// <list type="bullet">
/// <item><c>user-{id:D19}</c> / <c>account</c>: the account; surfaces keep their rows of this user in the same
/// partition, so creating, changing and deleting an account with what it owns is one entity-group transaction;</item>
/// <item><c>username-{lowercased}</c>, <c>email-{lowercased}</c>, <c>phone-{canonical}</c> / empty row key: the claim
/// that makes an identifier unique, in a partition of its own (<see cref="UserClaim"/>);</item>
/// <item><c>claims-pending-{minute}</c>: changes of claims in progress (<see cref="ClaimIntent"/>), swept when stale.</item>
/// </list>
/// A sign-up writes its intent, claims its identifiers one by one (a taken one releases the others), then writes the
/// account; sign-in is two point reads.
/// </summary>
public sealed class UserDirectory(StorageAccount storage, IdBlockAllocator ids, TimeProvider time, UserRoles roles, IPhoneNumberCanonicalizer phones,
    IEnumerable<IUserSessionRows> sessionRows)
{
    public const string TableName = "users";
    public const string AccountRow = "account";
    public const string ClaimRow = "";
    public const string SweepFunction = "UserClaimSweep";
    private const string IdSequence = "users";
    private const string IntentPrefix = "claims-pending-";

    /// <summary>How old a change of claims must be before the sweep finishes it: far longer than any request lasts.</summary>
    public static readonly TimeSpan ClaimGrace = TimeSpan.FromMinutes(5);

    private TableClient Table => storage.Table(TableName);

    /// <summary>The partition of one user's rows.</summary>
    public static string PartitionOf(long id) => "user-" + TableKeys.Number(id);

    public static string UsernameKey(string username) => "username-" + TableKeys.Escape(username.Trim().ToLowerInvariant());
    public static string EmailKey(string email) => "email-" + TableKeys.Escape(email.Trim().ToLowerInvariant());
    public string PhoneKey(string phone) => "phone-" + TableKeys.Escape(phones.Canonical(phone));

    public Task<CreateUserResult> CreateAsync(NewUser request, CancellationToken cancellationToken = default) =>
        CreateAsync(request, null, cancellationToken);

    /// <summary>
    /// Creates a user with what a surface adds (<paramref name="rows"/>, given the new id). Either the account and
    /// its companions are stored together or neither is. When a surface's claim is taken, the result has no user
    /// and no taken fields, and everything this call claimed is released.
    /// </summary>
    public async Task<CreateUserResult> CreateAsync(NewUser request, Func<long, UserRows>? rows,
        CancellationToken cancellationToken = default)
    {
        var unknownRole = request.Roles.FirstOrDefault(r => !roles.All.Contains(r));
        if (unknownRole is not null)
            throw new ArgumentException($"Unknown role '{unknownRole}'.");
        if (request.Username is null && request.Email is null && request.Phone is null)
            throw new ArgumentException("A user needs a username, an email or a phone number to sign in with.");

        var id = await ids.NextAsync(IdSequence, cancellationToken);
        var user = new UserAccount
        {
            PartitionKey = PartitionOf(id),
            Id = id,
            Username = request.Username?.Trim(),
            Email = request.Email?.Trim(),
            Phone = request.Phone?.Trim(),
            PasswordHash = Secrets.HashPassword(request.Password),
            Roles = string.Join(',', request.Roles.Distinct(StringComparer.Ordinal)),
            CreatedAt = time.GetUtcNow(),
        };
        var extra = rows?.Invoke(id) ?? new UserRows([]);
        if (extra.Companions.FirstOrDefault(c => c.PartitionKey != user.PartitionKey) is { } stray)
            throw new ArgumentException($"A companion row must be in the user's partition '{user.PartitionKey}', not '{stray.PartitionKey}'.");
        var identifiers = IdentifierKeys(user).ToList();
        var intent = await BeginAsync(id, identifiers.Select(i => i.Key).Concat(extra.Claims ?? []), extra.Provisional ?? [], cancellationToken);

        var claimed = new List<UserClaim>();
        try
        {
            // One at a time, in a fixed order: of sign-ups racing for the same identifiers, the first to take the
            // first contested one goes on to take the rest, so one of them always wins.
            for (var i = 0; i < identifiers.Count; i++)
            {
                if (await TryClaimAsync(identifiers[i].Key, id, cancellationToken) is { } claim)
                {
                    claimed.Add(claim);
                    continue;
                }
                var rest = identifiers.Skip(i + 1).ToDictionary(k => k.Field, k => k.Key);
                var taken = new List<string> { identifiers[i].Field };
                taken.AddRange(await TakenFieldsAsync(
                    rest.ContainsKey("username") ? user.Username : null,
                    rest.ContainsKey("email") ? user.Email : null,
                    rest.ContainsKey("phone") ? user.Phone : null, cancellationToken));
                await AbandonAsync(intent, claimed, cancellationToken);
                return new CreateUserResult(null, taken);
            }
            foreach (var key in extra.Claims ?? [])
            {
                if (await TryClaimAsync(key, id, cancellationToken) is not { } claim)
                {
                    await AbandonAsync(intent, claimed, cancellationToken);
                    return new CreateUserResult(null, []);
                }
                claimed.Add(claim);
            }
            // Keys new to this sign-up: a 409 is this very insert, met again by the client library's retry.
            foreach (var row in extra.Provisional ?? [])
                await Table.TryAddAsync(row, cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Nothing of the account is written yet: give back what this sign-up took (the sweep would, later).
            await AbandonAsync(intent, claimed, CancellationToken.None, provisional: extra.Provisional);
            throw;
        }

        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.Add, user) };
        actions.AddRange(extra.Companions.Select(c => new TableTransactionAction(TableTransactionActionType.Add, c)));
        try
        {
            await Table.SubmitTransactionAsync(actions, cancellationToken);
        }
        catch (TableTransactionFailedException ex) when (ex.Status == 409)
        {
            // The id is new to this call: a row under it means our transaction was stored although its answer was
            // lost, and the client library's retry met our own rows.
            user = await FindByIdAsync(id, cancellationToken)
                   ?? throw new ConcurrencyConflictException("The account could not be created; try again.", ex);
        }
        await EndAsync(intent, cancellationToken);
        return new CreateUserResult(user, []);
    }

    /// <summary>
    /// Replaces <paramref name="current"/> (as read, with its ETag) by <paramref name="updated"/>, together with
    /// <paramref name="companions"/> (actions on rows in the user's partition), in one transaction. A new identifier
    /// is claimed first and the one it replaces released after, so a crash at any point leaves each identifier held
    /// by at most one user (the sweep releases what the account does not hold). A new identifier that someone else
    /// holds is reported in the result; a concurrent change of the account is a <see cref="ConcurrencyConflictException"/>.
    /// </summary>
    public async Task<UpdateUserResult> UpdateAsync(UserAccount current, UserAccount updated,
        IEnumerable<TableTransactionAction>? companions = null, CancellationToken cancellationToken = default)
    {
        var before = IdentifierKeys(current).ToDictionary(k => k.Key, k => k.Field);
        var after = IdentifierKeys(updated).ToDictionary(k => k.Key, k => k.Field);
        var added = after.Where(k => !before.ContainsKey(k.Key)).ToList();
        var removed = before.Keys.Where(k => !after.ContainsKey(k)).ToList();

        ClaimIntent? intent = null;
        if (added.Count > 0 || removed.Count > 0)
        {
            intent = await BeginAsync(current.Id, added.Select(a => a.Key).Concat(removed), [], cancellationToken);
            var claimed = new List<UserClaim>();
            for (var i = 0; i < added.Count; i++)
            {
                if (await TryClaimAsync(added[i].Key, current.Id, cancellationToken) is { } claim)
                {
                    claimed.Add(claim);
                    continue;
                }
                var rest = added.Skip(i + 1).Select(a => a.Value).ToHashSet();
                var taken = new List<string> { added[i].Value };
                taken.AddRange(await TakenFieldsAsync(
                    rest.Contains("username") ? updated.Username : null, null,
                    rest.Contains("phone") ? updated.Phone : null, cancellationToken));
                await AbandonAsync(intent, claimed, cancellationToken);
                return new UpdateUserResult(null, taken);
            }
        }

        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.UpdateReplace, updated, current.ETag) };
        actions.AddRange(companions ?? []);
        try
        {
            var response = await Table.SubmitTransactionAsync(actions, cancellationToken);
            updated.ETag = response.Value[0].Headers.ETag ?? updated.ETag;
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412 or 404)
        {
            // The new claims stay with the intent: a retry of this change recognises them as this user's, and the
            // sweep releases any the account does not come to hold.
            throw new ConcurrencyConflictException("The account was changed by another request; try again.", ex);
        }
        if (intent is not null)
        {
            foreach (var key in removed)
                await ReleaseAsync(key, current.Id, cancellationToken);
            await EndAsync(intent, cancellationToken);
        }
        return new UpdateUserResult(updated, []);
    }

    /// <summary>
    /// Deletes the account as read (its ETag must still match) with <paramref name="companions"/> (actions in its
    /// partition) in one transaction, then releases its identifiers and <paramref name="claims"/> (a surface's
    /// claims) and removes <paramref name="elsewhere"/> (its rows in other partitions, each as read). A deletion cut
    /// short is finished by the sweep.
    /// </summary>
    public async Task DeleteAsync(UserAccount current, IEnumerable<TableTransactionAction>? companions = null,
        IReadOnlyList<string>? claims = null, IReadOnlyList<ITableEntity>? elsewhere = null, CancellationToken cancellationToken = default)
    {
        var keys = IdentifierKeys(current).Select(k => k.Key).Concat(claims ?? []).ToList();
        var intent = await BeginAsync(current.Id, keys, elsewhere ?? [], cancellationToken);
        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.Delete, current, current.ETag) };
        actions.AddRange(companions ?? []);
        try
        {
            await Table.SubmitTransactionAsync(actions, cancellationToken);
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 404 or 409 or 412)
        {
            // Gone already is done: this transaction, stored although its answer was lost, or a parallel deletion.
            if (await FindByIdAsync(current.Id, cancellationToken) is not null)
                throw new ConcurrencyConflictException("The account was changed by another request; try again.", ex);
        }
        foreach (var key in keys)
            await ReleaseAsync(key, current.Id, cancellationToken);
        foreach (var row in elsewhere ?? [])
            await DeleteQuietlyAsync(row.PartitionKey, row.RowKey, row.ETag, cancellationToken);
        await EndAsync(intent, cancellationToken);
    }

    /// <summary>
    /// Which of these identifiers already belong to someone: <c>username</c>, <c>email</c>, <c>phone</c>. A claim left
    /// behind by a change that never finished (see <see cref="TryClaimAsync"/>) does not count.
    /// </summary>
    public async Task<IReadOnlyList<string>> TakenFieldsAsync(string? username, string? email, string? phone, CancellationToken cancellationToken = default)
    {
        var checks = new List<(string Field, Task<bool> Taken)>();
        if (username is not null) checks.Add(("username", IsTakenAsync(UsernameKey(username), cancellationToken)));
        if (email is not null) checks.Add(("email", IsTakenAsync(EmailKey(email), cancellationToken)));
        if (phone is not null) checks.Add(("phone", IsTakenAsync(PhoneKey(phone), cancellationToken)));
        await Task.WhenAll(checks.Select(c => c.Taken));
        return checks.Where(c => c.Taken.Result).Select(c => c.Field).ToList();
    }

    private async Task<bool> IsTakenAsync(string key, CancellationToken cancellationToken) =>
        await FindClaimAsync(key, cancellationToken) is { } claim && !await IsStaleAsync(claim, cancellationToken);

    public Task<UserAccount?> FindByIdAsync(long id, CancellationToken cancellationToken = default) =>
        Table.FindAsync<UserAccount>(PartitionOf(id), AccountRow, cancellationToken);

    /// <summary>Who holds a claim (an identifier's or a surface's), or null.</summary>
    public Task<UserClaim?> FindClaimAsync(string key, CancellationToken cancellationToken = default) =>
        Table.FindAsync<UserClaim>(key, ClaimRow, cancellationToken);

    /// <summary>Finds a user by username, email (contains '@') or phone number (digits, optionally '+').</summary>
    public async Task<UserAccount?> FindByLoginAsync(string login, CancellationToken cancellationToken = default)
    {
        var key = KeyForLogin(login);
        if (key is null)
            return null;
        var claim = await FindClaimAsync(key, cancellationToken);
        // A claim the user no longer holds (a change cut short before it released the old one) names nobody.
        return claim is null ? null : await FindByIdAsync(claim.UserId, cancellationToken) is { } user && Holds(user, key) ? user : null;
    }

    /// <summary>
    /// Whether an account holds this login, as <see cref="FindByLoginAsync"/> would find it, from the same two rows read
    /// as plain entities and only the columns needed: the first admin's check at every start, which so binds no row type
    /// (the table client compiles accessors for a row type on its first use, a cost of start-up otherwise).
    /// </summary>
    public async Task<bool> IsLoginHeldAsync(string login, CancellationToken cancellationToken = default)
    {
        var key = KeyForLogin(login);
        if (key is null)
            return false;
        var claim = await Table.GetEntityIfExistsAsync<TableEntity>(key, ClaimRow, [nameof(UserClaim.UserId)], cancellationToken);
        if (!claim.HasValue || claim.Value!.GetInt64(nameof(UserClaim.UserId)) is not { } id)
            return false;
        var account = await Table.GetEntityIfExistsAsync<TableEntity>(PartitionOf(id), AccountRow,
            [nameof(UserAccount.Username), nameof(UserAccount.Email), nameof(UserAccount.Phone)], cancellationToken);
        return account.HasValue && Holds(new UserAccount
        {
            Username = account.Value!.GetString(nameof(UserAccount.Username)),
            Email = account.Value.GetString(nameof(UserAccount.Email)),
            Phone = account.Value.GetString(nameof(UserAccount.Phone)),
        }, key);
    }

    /// <summary>The user whose identifier and password match, or null; takes as long either way.</summary>
    public async Task<UserAccount?> SignInAsync(string login, string password, CancellationToken cancellationToken = default)
    {
        var user = await FindByLoginAsync(login, cancellationToken);
        var ok = Secrets.Verify(user is { Disabled: false } ? user.PasswordHash : null, password);
        return ok ? user : null;
    }

    /// <summary>Sets a new password for the user (an operator's reset) and ends every session of the account. Null when there is no such user.</summary>
    public Task<UserAccount?> SetPasswordAsync(long id, string newPassword, CancellationToken cancellationToken = default)
    {
        var hash = Secrets.HashPassword(newPassword);
        return EndSessionsAsync(id, u => u with { PasswordHash = hash }, cancellationToken);
    }

    /// <summary>Disables the account: it cannot sign in, and every session ends at once. Null when there is no such user.</summary>
    public Task<UserAccount?> DisableAsync(long id, CancellationToken cancellationToken = default) =>
        EndSessionsAsync(id, u => u with { Disabled = true }, cancellationToken);

    /// <summary>
    /// Changes the account and raises its session version, together with the rows surfaces check their sessions
    /// against (<see cref="IUserSessionRows"/>), in one transaction of the user's partition: every token of the
    /// account, on every surface, stops working with it.
    /// </summary>
    private async Task<UserAccount?> EndSessionsAsync(long id, Func<UserAccount, UserAccount> change, CancellationToken cancellationToken)
    {
        var ended = await TransitionSeam.ApplyAsync<UserAccount, bool>(Table, PartitionOf(id), AccountRow, null, async decision =>
        {
            if (decision.Current is not { } account)
                return false;
            decision.Write(change(account) with { SessionVersion = account.SessionVersion + 1 });
            foreach (var surface in sessionRows)
            {
                foreach (var row in await surface.EndSessionsAsync(Table, account.PartitionKey, cancellationToken))
                    decision.Replace(row);
            }
            return true;
        }, null, cancellationToken);
        return ended.Outcome ? ended.Row : null;
    }

    /// <summary>The timer that finishes changes of claims cut short (see <see cref="SweepAsync"/>).</summary>
    public static Task SweepAsync(TimerInvocation invocation) =>
        invocation.Services.GetRequiredService<UserDirectory>().SweepAsync(invocation.CancellationToken);

    /// <summary>
    /// Finishes every change of claims older than <see cref="ClaimGrace"/>: a claim the user does not hold (the
    /// account never appeared, is gone, or names another identifier now) is released, and rows that belong only to an
    /// account that exists are removed when it does not. Safe to run twice and in parallel.
    /// </summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var cutoff = IntentPrefix + MinuteKey(time.GetUtcNow() - ClaimGrace);
        var filter = TableClient.CreateQueryFilter($"PartitionKey ge {IntentPrefix} and PartitionKey lt {cutoff}");
        var released = 0;
        await foreach (var intent in Table.QueryAsync<ClaimIntent>(filter, cancellationToken: cancellationToken))
        {
            var account = await FindByIdAsync(intent.UserId, cancellationToken);
            foreach (var key in Lines(intent.Claims))
            {
                if (account is not null && Holds(account, key))
                    continue;
                if (await ReleaseAsync(key, intent.UserId, cancellationToken))
                    released++;
            }
            if (account is null)
            {
                foreach (var row in Lines(intent.Provisional).Select(l => l.Split('\t')).Where(p => p.Length == 2))
                    await DeleteQuietlyAsync(row[0], row[1], ETag.All, cancellationToken);
            }
            await DeleteQuietlyAsync(intent.PartitionKey, intent.RowKey, intent.ETag, cancellationToken);
        }
        return released;
    }

    /// <summary>
    /// Takes <paramref name="key"/> for the user, or returns null when someone else holds it. A claim this user
    /// holds already (a retried insert whose first answer was lost, a retried change) counts as taken by this call;
    /// a stale claim (older than <see cref="ClaimGrace"/>, of a user who does not hold it) is released and taken.
    /// </summary>
    private async Task<UserClaim?> TryClaimAsync(string key, long userId, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var claim = new UserClaim { PartitionKey = key, UserId = userId, ClaimedAt = time.GetUtcNow() };
            try
            {
                var response = await Table.AddEntityAsync(claim, cancellationToken);
                claim.ETag = response.Headers.ETag ?? claim.ETag;
                return claim;
            }
            catch (RequestFailedException ex) when (ex.Status == 409)
            {
            }
            var stored = await FindClaimAsync(key, cancellationToken);
            if (stored?.UserId == userId)
                return stored;
            if (stored is not null && !await IsStaleAsync(stored, cancellationToken))
                return null;
            // Released meanwhile, or left behind by a change that never finished: try once more.
            if (stored is not null)
                await DeleteQuietlyAsync(key, ClaimRow, stored.ETag, cancellationToken);
        }
        return null;
    }

    /// <summary>A claim nobody is using: old enough that no request can still be writing its user, who does not hold it.</summary>
    private async Task<bool> IsStaleAsync(UserClaim claim, CancellationToken cancellationToken)
    {
        if (claim.ClaimedAt + ClaimGrace > time.GetUtcNow())
            return false;
        var holder = await FindByIdAsync(claim.UserId, cancellationToken);
        return holder is null || !Holds(holder, claim.PartitionKey);
    }

    /// <summary>Releases a claim if this user holds it; true when one was released.</summary>
    private async Task<bool> ReleaseAsync(string key, long userId, CancellationToken cancellationToken)
    {
        var claim = await FindClaimAsync(key, cancellationToken);
        return claim is not null && claim.UserId == userId && await DeleteQuietlyAsync(key, ClaimRow, claim.ETag, cancellationToken);
    }

    private async Task<ClaimIntent> BeginAsync(long userId, IEnumerable<string> claims, IEnumerable<ITableEntity> provisional,
        CancellationToken cancellationToken)
    {
        var intent = new ClaimIntent
        {
            PartitionKey = IntentPrefix + MinuteKey(time.GetUtcNow()),
            RowKey = $"{TableKeys.Number(userId)}-{Guid.NewGuid():N}",
            UserId = userId,
            Claims = string.Join('\n', claims),
            Provisional = string.Join('\n', provisional.Select(r => r.PartitionKey + "\t" + r.RowKey)),
        };
        // A fresh random key: a 409 is this very insert, met again by the client library's retry.
        await Table.AddOnceAsync(intent, _ => true, cancellationToken);
        return intent;
    }

    private Task EndAsync(ClaimIntent intent, CancellationToken cancellationToken) =>
        DeleteQuietlyAsync(intent.PartitionKey, intent.RowKey, ETag.All, cancellationToken);

    /// <summary>Gives back what a sign-up or change took before it wrote the account, and closes its intent.</summary>
    private async Task AbandonAsync(ClaimIntent intent, IEnumerable<UserClaim> claimed, CancellationToken cancellationToken,
        IReadOnlyList<ITableEntity>? provisional = null)
    {
        foreach (var claim in claimed)
            await DeleteQuietlyAsync(claim.PartitionKey, claim.RowKey, claim.ETag, cancellationToken);
        foreach (var row in provisional ?? [])
            await DeleteQuietlyAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken);
        await EndAsync(intent, cancellationToken);
    }

    private async Task<bool> DeleteQuietlyAsync(string partitionKey, string rowKey, ETag etag, CancellationToken cancellationToken)
    {
        try
        {
            await Table.DeleteEntityAsync(partitionKey, rowKey, etag == default ? ETag.All : etag, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            return false;
        }
    }

    /// <summary>An identifier claim is held while the account names it; a surface's claim while the account exists.</summary>
    private bool Holds(UserAccount account, string key) =>
        !IsIdentifierKey(key) || IdentifierKeys(account).Any(k => k.Key == key);

    private static bool IsIdentifierKey(string key) =>
        key.StartsWith("username-", StringComparison.Ordinal) || key.StartsWith("email-", StringComparison.Ordinal)
        || key.StartsWith("phone-", StringComparison.Ordinal);

    private static IEnumerable<string> Lines(string value) => value.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static string MinuteKey(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMddHHmm", CultureInfo.InvariantCulture);

    private string? KeyForLogin(string login)
    {
        login = login.Trim();
        if (login.Length is 0 or > 320)
            return null;
        if (login.Contains('@'))
            return EmailKey(login);
        if (login.All(c => char.IsAsciiDigit(c) || c is '+' or ' ' or '-') && login.Count(char.IsAsciiDigit) >= 7)
            return PhoneKey(login);
        return UsernameKey(login);
    }

    /// <summary>The claim keys of the account's identifiers, with the field each belongs to.</summary>
    private IEnumerable<(string Field, string Key)> IdentifierKeys(UserAccount user)
    {
        if (user.Username is not null) yield return ("username", UsernameKey(user.Username));
        if (user.Email is not null) yield return ("email", EmailKey(user.Email));
        if (user.Phone is not null) yield return ("phone", PhoneKey(user.Phone));
    }
}
