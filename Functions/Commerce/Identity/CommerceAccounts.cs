using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;

namespace Serverless.Commerce.Identity;

/// <summary>
/// A commerce account's place in its company (table <c>commercemembers</c>, PK = company id, RK =
/// <c>email-{lower-case email}</c>): the company's user list, read a page at a time. The account itself is a platform
/// user (<see cref="UserDirectory"/>), so its password hash, roles, session version and disabling are the platform's.
/// </summary>
public sealed record CommerceMember : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public long UserId { get; set; }
    public string Email { get; set; } = "";
    public string? Name { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A commerce account as the admin API shows it: the platform account with its company membership.</summary>
public sealed record CommerceAccount(UserAccount User, string CompanyId, string Email, string? Name, DateTimeOffset CreatedAt);

/// <summary>
/// Commerce accounts: platform users that belong to one company. The same email may hold an account in each of
/// several companies, so the account's sign-in identifier is the username <c>{companyId}/{email}</c> (unique through
/// the platform's claim row) and it has no platform email. That username contains '@', which the platform reads as
/// an email on every other sign-in route, so a commerce account cannot sign in anywhere but here.
/// Signing in is two point reads (the username claim, the account); the membership row serves the admin's list.
/// </summary>
public sealed class CommerceAccounts(StorageAccount storage, UserDirectory users)
{
    public const string MembersTable = "commercemembers";
    private const string MemberPrefix = "email-";

    private TableClient Members => storage.Table(MembersTable);

    public static string NormalizeEmail(string email) => email.Trim().ToLowerInvariant();

    /// <summary>The platform username of a company's account: <c>{companyId}/{email}</c>, lower case.</summary>
    public static string Username(string companyId, string email) => companyId.ToLowerInvariant() + "/" + NormalizeEmail(email);

    public static string MemberRow(string email) => MemberPrefix + TableKeys.Escape(NormalizeEmail(email));

    /// <summary>The company's account for this email, or null.</summary>
    public async Task<UserAccount?> FindAsync(string companyId, string email, CancellationToken cancellationToken = default)
    {
        var username = Username(companyId, email);
        var claim = await users.FindClaimAsync(UserDirectory.UsernameKey(username), cancellationToken);
        if (claim is null)
            return null;
        // A claim left by a change cut short may name an account that does not hold it: that account is not this one.
        var account = await users.FindByIdAsync(claim.UserId, cancellationToken);
        return string.Equals(account?.Username, username, StringComparison.OrdinalIgnoreCase) ? account : null;
    }

    /// <summary>
    /// The enabled account of the company whose email and password match, or null. A password is verified whether or
    /// not the account exists (against a decoy hash), so the answer takes as long either way.
    /// </summary>
    public async Task<UserAccount?> SignInAsync(string companyId, string email, string password, CancellationToken cancellationToken = default)
    {
        var account = await FindAsync(companyId, email, cancellationToken);
        var ok = Secrets.Verify(account is { Disabled: false } ? account.PasswordHash : null, password);
        return ok ? account : null;
    }

    /// <summary>
    /// Creates an account in the company; null when the company has an account with this email already. The platform
    /// account comes first (its username claim decides who gets the email), then the membership row, which a retry
    /// that meets the existing account writes again if it was lost.
    /// </summary>
    public async Task<CommerceAccount?> CreateAsync(string companyId, string email, string password, string? name,
        IReadOnlyCollection<string> roles, CancellationToken cancellationToken = default)
    {
        var result = await users.CreateAsync(new NewUser(Username(companyId, email), null, null, password, roles), cancellationToken);
        if (result.User is not { } user)
        {
            // Repairs a membership row that a creation cut short never wrote, so the account shows in the list.
            if (await FindAsync(companyId, email, cancellationToken) is { } existing
                && await Members.FindAsync<CommerceMember>(companyId, MemberRow(email), cancellationToken) is null)
                await Members.UpsertEntityAsync(Member(companyId, email, existing.Id, null, existing.CreatedAt), TableUpdateMode.Replace, cancellationToken);
            return null;
        }
        var member = Member(companyId, email, user.Id, name, user.CreatedAt);
        await Members.UpsertEntityAsync(member, TableUpdateMode.Replace, cancellationToken);
        return new CommerceAccount(user, companyId, member.Email, name, user.CreatedAt);
    }

    /// <summary>The company's account with this id, or null (an account of another company is not found either).</summary>
    public async Task<CommerceAccount?> GetAsync(string companyId, long userId, CancellationToken cancellationToken = default)
    {
        var user = await users.FindByIdAsync(userId, cancellationToken);
        if (user?.Username is not { } username || !username.StartsWith(companyId + "/", StringComparison.OrdinalIgnoreCase))
            return null;
        var email = username[(companyId.Length + 1)..];
        var member = await Members.FindAsync<CommerceMember>(companyId, MemberRow(email), cancellationToken);
        return new CommerceAccount(user, companyId, email, member?.Name, user.CreatedAt);
    }

    /// <summary>A page of the company's accounts in email order, and how many it has.</summary>
    public async Task<(IReadOnlyList<CommerceAccount> Items, int Total)> ListAsync(string companyId, int page, int limit,
        CancellationToken cancellationToken = default)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {companyId} and RowKey ge {MemberPrefix} and RowKey lt {"email."}");
        var members = new List<CommerceMember>();
        await foreach (var member in Members.QueryAsync<CommerceMember>(filter, cancellationToken: cancellationToken))
            members.Add(member);
        var slice = members.Skip((page - 1) * limit).Take(limit).ToList();
        var accounts = await Task.WhenAll(slice.Select(m => users.FindByIdAsync(m.UserId, cancellationToken)));
        var items = slice.Zip(accounts)
            .Where(p => p.Second is not null)
            .Select(p => new CommerceAccount(p.Second!, companyId, p.First.Email, p.First.Name, p.First.CreatedAt))
            .ToList();
        return (items, members.Count);
    }

    /// <summary>
    /// Changes the account's roles and whether it is disabled, conditional on the account as read. A role change or
    /// disabling raises the session version: the account's tokens and refresh tokens stop working at once.
    /// </summary>
    public async Task<CommerceAccount> UpdateAsync(CommerceAccount account, IReadOnlyCollection<string>? roles, bool? disabled,
        CancellationToken cancellationToken = default)
    {
        var current = account.User;
        var newRoles = roles is null ? current.Roles : string.Join(',', roles.Distinct(StringComparer.Ordinal));
        var newDisabled = disabled ?? current.Disabled;
        var endsSessions = !SameRoles(current.Roles, newRoles) || (newDisabled && !current.Disabled);
        if (newRoles == current.Roles && newDisabled == current.Disabled)
            return account;
        var updated = current with
        {
            Roles = newRoles,
            Disabled = newDisabled,
            SessionVersion = endsSessions ? current.SessionVersion + 1 : current.SessionVersion,
        };
        var result = await users.UpdateAsync(current, updated, cancellationToken: cancellationToken);
        return account with { User = result.User ?? updated };
    }

    private static bool SameRoles(string a, string b) =>
        a.Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal)
            .SetEquals(b.Split(',', StringSplitOptions.RemoveEmptyEntries));

    private static CommerceMember Member(string companyId, string email, long userId, string? name, DateTimeOffset createdAt) => new()
    {
        PartitionKey = companyId,
        RowKey = MemberRow(email),
        UserId = userId,
        Email = NormalizeEmail(email),
        Name = name,
        CreatedAt = createdAt,
    };
}
