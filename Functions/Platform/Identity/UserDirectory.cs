using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Identity;

/// <summary>A person who signs in with a password. Surfaces keep their own profile rows keyed by <see cref="Id"/>.</summary>
public sealed record UserAccount : ITableEntity
{
    public string PartitionKey { get; set; } = UserDirectory.Partition;
    public string RowKey { get; set; } = "";
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

    [System.Runtime.Serialization.IgnoreDataMember]
    public IReadOnlyList<string> RoleList => Roles.Split(',', StringSplitOptions.RemoveEmptyEntries);

    [System.Runtime.Serialization.IgnoreDataMember]
    public string DisplayName => Username ?? Email ?? Phone ?? Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Points a sign-in identifier (username, email or phone) at a user id.</summary>
public sealed record UserLogin : ITableEntity
{
    public string PartitionKey { get; set; } = UserDirectory.Partition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long UserId { get; set; }
}

public sealed record NewUser(string? Username, string? Email, string? Phone, string Password, IReadOnlyCollection<string> Roles);

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
/// Users and their sign-in identifiers. Key design: one partition holds each user row (<c>id-&lt;19 digits&gt;</c>)
/// and one row per identifier (<c>username-</c>, <c>email-</c>, <c>phone-</c>), so creating a user and claiming
/// its identifiers is one entity-group transaction: two sign-ups can never take the same email. Sign-in is two
/// point reads.
/// </summary>
public sealed class UserDirectory(StorageAccount storage, IdBlockAllocator ids, TimeProvider time)
{
    public const string TableName = "users";
    public const string Partition = "users";
    private const string IdSequence = "users";

    private TableClient Table => storage.Table(TableName);

    public static string UsernameKey(string username) => "username-" + TableKeys.Escape(username.Trim().ToLowerInvariant());
    public static string EmailKey(string email) => "email-" + TableKeys.Escape(email.Trim().ToLowerInvariant());
    public static string PhoneKey(string phone) => "phone-" + CanonicalPhone(phone);

    /// <summary>
    /// The digits of a phone number, with an Indian number's country code or trunk zero dropped, so that
    /// <c>+91 98765 43210</c>, <c>098765 43210</c> and the 10-digit <c>9876543210</c> people type at sign-in are one number.
    /// </summary>
    public static string CanonicalPhone(string phone)
    {
        var digits = new string(phone.Where(char.IsAsciiDigit).ToArray());
        return digits switch
        {
            { Length: 12 } when digits.StartsWith("91", StringComparison.Ordinal) => digits[2..],
            { Length: 11 } when digits.StartsWith('0') => digits[1..],
            _ => digits,
        };
    }
    private static string IdKey(long id) => "id-" + TableKeys.Number(id);

    public Task<CreateUserResult> CreateAsync(NewUser request, CancellationToken cancellationToken = default) =>
        CreateAsync(request, null, cancellationToken);

    /// <summary>
    /// Creates a user and, in the same transaction, the rows a surface keeps beside it (a profile, a referral):
    /// <paramref name="companions"/> gets the new id and returns entities in <see cref="Partition"/>. Either all
    /// of them are stored or none is. When a companion's key is taken, the result has no user and no taken fields.
    /// </summary>
    public async Task<CreateUserResult> CreateAsync(NewUser request, Func<long, IEnumerable<ITableEntity>>? companions,
        CancellationToken cancellationToken = default)
    {
        var unknownRole = request.Roles.FirstOrDefault(r => !Identity.Roles.All.Contains(r));
        if (unknownRole is not null)
            throw new ArgumentException($"Unknown role '{unknownRole}'.");
        if (request.Username is null && request.Email is null && request.Phone is null)
            throw new ArgumentException("A user needs a username, an email or a phone number to sign in with.");

        var id = await ids.NextAsync(IdSequence, cancellationToken);
        var user = new UserAccount
        {
            RowKey = IdKey(id),
            Id = id,
            Username = request.Username?.Trim(),
            Email = request.Email?.Trim(),
            Phone = request.Phone?.Trim(),
            PasswordHash = Secrets.HashPassword(request.Password),
            Roles = string.Join(',', request.Roles.Distinct(StringComparer.Ordinal)),
            CreatedAt = time.GetUtcNow(),
        };
        var logins = LoginKeys(user).Select(k => new UserLogin { RowKey = k.Value, UserId = id }).ToList();
        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.Add, user) };
        actions.AddRange(logins.Select(l => new TableTransactionAction(TableTransactionActionType.Add, l)));
        actions.AddRange((companions?.Invoke(id) ?? []).Select(Companion).Select(c => new TableTransactionAction(TableTransactionActionType.Add, c)));
        try
        {
            await Table.SubmitTransactionAsync(actions, cancellationToken);
            return new CreateUserResult(user, []);
        }
        catch (TableTransactionFailedException ex) when (ex.Status == 409)
        {
            // The id is new to this call: a row under it means our transaction was stored although its answer was
            // lost, and the client library's retry met our own rows.
            if (await FindByIdAsync(id, cancellationToken) is { } stored)
                return new CreateUserResult(stored, []);
            return new CreateUserResult(null, await TakenFieldsAsync(request.Username, request.Email, request.Phone, cancellationToken));
        }
    }

    /// <summary>
    /// Replaces <paramref name="current"/> (as read, with its ETag) by <paramref name="updated"/>, moving the
    /// sign-in identifiers that changed, together with <paramref name="companions"/> (actions on rows in
    /// <see cref="Partition"/>), in one transaction. A changed identifier that someone else holds is reported in
    /// the result; a concurrent change of the account is a <see cref="ConcurrencyConflictException"/>.
    /// </summary>
    public async Task<UpdateUserResult> UpdateAsync(UserAccount current, UserAccount updated,
        IEnumerable<TableTransactionAction>? companions = null, CancellationToken cancellationToken = default)
    {
        var before = LoginKeys(current).ToDictionary(k => k.Value, k => k.Key);
        var after = LoginKeys(updated).ToDictionary(k => k.Value, k => k.Key);
        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.UpdateReplace, updated, current.ETag) };
        actions.AddRange(before.Keys.Where(k => !after.ContainsKey(k)).Select(k =>
            new TableTransactionAction(TableTransactionActionType.Delete, new UserLogin { RowKey = k }, ETag.All)));
        var added = after.Where(k => !before.ContainsKey(k.Key)).ToList();
        actions.AddRange(added.Select(k =>
            new TableTransactionAction(TableTransactionActionType.Add, new UserLogin { RowKey = k.Key, UserId = current.Id })));
        actions.AddRange(companions ?? []);
        try
        {
            var response = await Table.SubmitTransactionAsync(actions, cancellationToken);
            updated.ETag = response.Value[0].Headers.ETag ?? updated.ETag;
            return new UpdateUserResult(updated, []);
        }
        catch (TableTransactionFailedException ex) when (ex.Status == 409 && added.Count > 0)
        {
            var taken = await TakenFieldsAsync(
                added.Any(a => a.Value == "username") ? updated.Username : null,
                added.Any(a => a.Value == "email") ? updated.Email : null,
                added.Any(a => a.Value == "phone") ? updated.Phone : null, cancellationToken);
            if (taken.Count == 0)
                throw new ConcurrencyConflictException("The account was changed by another request; try again.", ex);
            return new UpdateUserResult(null, taken);
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412 or 404)
        {
            throw new ConcurrencyConflictException("The account was changed by another request; try again.", ex);
        }
    }

    /// <summary>
    /// Deletes the account as read (its ETag must still match), its sign-in identifiers and
    /// <paramref name="companions"/> in one transaction, so the identifiers are free again at once.
    /// </summary>
    public async Task DeleteAsync(UserAccount current, IEnumerable<TableTransactionAction>? companions = null,
        CancellationToken cancellationToken = default)
    {
        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.Delete, current, current.ETag) };
        actions.AddRange(LoginKeys(current).Select(k =>
            new TableTransactionAction(TableTransactionActionType.Delete, new UserLogin { RowKey = k.Value }, ETag.All)));
        actions.AddRange(companions ?? []);
        try
        {
            await Table.SubmitTransactionAsync(actions, cancellationToken);
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 404 or 409 or 412)
        {
            throw new ConcurrencyConflictException("The account was changed by another request; try again.", ex);
        }
    }

    private static ITableEntity Companion(ITableEntity row) =>
        row.PartitionKey == Partition ? row : throw new ArgumentException($"A companion row must be in partition '{Partition}'.");

    /// <summary>Which of these identifiers already belong to someone: <c>username</c>, <c>email</c>, <c>phone</c>.</summary>
    public async Task<IReadOnlyList<string>> TakenFieldsAsync(string? username, string? email, string? phone, CancellationToken cancellationToken = default)
    {
        var checks = new List<(string Field, Task<UserLogin?> Lookup)>();
        if (username is not null) checks.Add(("username", Table.FindAsync<UserLogin>(Partition, UsernameKey(username), cancellationToken)));
        if (email is not null) checks.Add(("email", Table.FindAsync<UserLogin>(Partition, EmailKey(email), cancellationToken)));
        if (phone is not null) checks.Add(("phone", Table.FindAsync<UserLogin>(Partition, PhoneKey(phone), cancellationToken)));
        await Task.WhenAll(checks.Select(c => c.Lookup));
        return checks.Where(c => c.Lookup.Result is not null).Select(c => c.Field).ToList();
    }

    public Task<UserAccount?> FindByIdAsync(long id, CancellationToken cancellationToken = default) =>
        Table.FindAsync<UserAccount>(Partition, IdKey(id), cancellationToken);

    /// <summary>Finds a user by username, email (contains '@') or phone number (digits, optionally '+').</summary>
    public async Task<UserAccount?> FindByLoginAsync(string login, CancellationToken cancellationToken = default)
    {
        var key = KeyForLogin(login);
        if (key is null)
            return null;
        var index = await Table.FindAsync<UserLogin>(Partition, key, cancellationToken);
        return index is null ? null : await FindByIdAsync(index.UserId, cancellationToken);
    }

    /// <summary>The user whose identifier and password match, or null; takes as long either way.</summary>
    public async Task<UserAccount?> SignInAsync(string login, string password, CancellationToken cancellationToken = default)
    {
        var user = await FindByLoginAsync(login, cancellationToken);
        var ok = Secrets.Verify(user is { Disabled: false } ? user.PasswordHash : null, password);
        return ok ? user : null;
    }

    public async Task<UserAccount?> SetPasswordAsync(long id, string newPassword, CancellationToken cancellationToken = default)
    {
        var hash = Secrets.HashPassword(newPassword);
        return await Table.TransitionAsync<UserAccount>(Partition, IdKey(id), u => u with { PasswordHash = hash }, cancellationToken);
    }

    private static string? KeyForLogin(string login)
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

    private static IEnumerable<KeyValuePair<string, string>> LoginKeys(UserAccount user)
    {
        if (user.Username is not null) yield return new("username", UsernameKey(user.Username));
        if (user.Email is not null) yield return new("email", EmailKey(user.Email));
        if (user.Phone is not null) yield return new("phone", PhoneKey(user.Phone));
    }
}
