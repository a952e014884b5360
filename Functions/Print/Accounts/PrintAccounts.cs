using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;

namespace Serverless.Print.Accounts;

public sealed record Registration(
    string FullName, string Username, string Email, string? Phone, string Password, string Role,
    string? ShopName, double? Lat, double? Long, string? Address, string? ReferralCode);

public sealed record RegistrationResult(UserAccount? User, PrintProfile? Profile, IReadOnlyList<string> TakenFields, bool UnknownReferralCode = false);

/// <summary>
/// What <c>PUT /profile</c> may change; null leaves a field as it is. The email may only be sent unchanged, and a new
/// password only with the account's current one.
/// </summary>
public sealed record ProfileChanges(
    string? FullName, string? Username, string? Email, string? Phone, string? Address, string? Password, string? ShopName, double? Lat, double? Long,
    string? CurrentPassword = null);

public sealed record SignInOutcome((UserAccount User, PrintProfile Profile)? Account, bool Throttled);

public sealed record ProfileUpdateResult(UserAccount? User, PrintProfile? Profile, IReadOnlyList<string> TakenFields, bool EmailChange = false,
    bool WrongCurrentPassword = false);

/// <summary>
/// Lets later parts of the print-shop platform (files, payouts, payment records) remove or anonymise what an
/// account owns before the account itself is deleted. Implementations must be idempotent: a deletion that fails
/// half-way is retried from the start.
/// </summary>
public interface IPrintAccountCleanup
{
    Task RemoveAsync(long userId, CancellationToken cancellationToken);
}

/// <summary>
/// Told after registration or a profile update stored a profile (the shop index follows shop profiles). The profile
/// is written by then: a listener absorbs its own failures, and must make its work repairable by a later call.
/// </summary>
public interface IPrintProfileListener
{
    Task ProfileStoredAsync(PrintProfile profile, CancellationToken cancellationToken);
}

/// <summary>Why an account cannot be deleted now: an error code and a message that tells the user what to do first.</summary>
public sealed record DeletionRefusal(string Code, string Message);

/// <summary>
/// Lets a part of the print-shop platform refuse an account's deletion (a wallet that still holds money). Every check
/// is consulted before anything is removed; the first refusal stops the deletion with nothing deleted.
/// </summary>
public interface IPrintAccountDeletionCheck
{
    /// <summary>Null when this part does not keep the account from being deleted.</summary>
    Task<DeletionRefusal?> RefusalAsync(long userId, CancellationToken cancellationToken);
}

/// <summary>Print-shop accounts: registration, sign-in, profiles, password resets and deletion. Keys: see <see cref="AccountKeys"/>.</summary>
public sealed class PrintAccounts(
    UserDirectory users, StorageAccount storage, IdBlockAllocator ids, PrintSettings settings, TimeProvider time,
    IEnumerable<IPrintAccountCleanup> cleanups, IEnumerable<IPrintAccountDeletionCheck> deletionChecks,
    IEnumerable<IPrintProfileListener> profileListeners)
{
    private const string ReferralSequence = "print-referrals";
    private const string CodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

    private static readonly string[] KeysOnly = ["PartitionKey", "RowKey"];

    private TableClient Table => storage.Table(UserDirectory.TableName);

    /// <summary>The profile a session acts for: one point read (two for a platform admin without a profile row).</summary>
    public async Task<PrintProfile?> FindProfileAsync(long userId, CancellationToken cancellationToken = default)
    {
        var profile = await ReadProfileAsync(userId, cancellationToken);
        return profile ?? Pair(await users.FindByIdAsync(userId, cancellationToken), null)?.Profile;
    }

    /// <summary>The account and its profile, or null when either is gone.</summary>
    public async Task<(UserAccount User, PrintProfile Profile)?> FindAsync(long userId, CancellationToken cancellationToken = default)
    {
        var user = users.FindByIdAsync(userId, cancellationToken);
        var profile = ReadProfileAsync(userId, cancellationToken);
        return Pair(await user, await profile);
    }

    /// <summary>The account behind a profile the session has read already: one point read.</summary>
    public async Task<(UserAccount User, PrintProfile Profile)?> AccountOfAsync(PrintProfile profile, CancellationToken cancellationToken = default) =>
        Pair(await users.FindByIdAsync(profile.UserId, cancellationToken), profile);

    /// <summary>
    /// The profile with the account's identifiers: as it is when the row carries their copies (every row written
    /// by this version), else completed from the account.
    /// </summary>
    public async Task<PrintProfile?> WithIdentifiersAsync(PrintProfile profile, CancellationToken cancellationToken = default) =>
        profile.Email is not null || profile.Username is not null ? profile : (await AccountOfAsync(profile, cancellationToken))?.Profile;

    public async Task<(UserAccount User, PrintProfile Profile)?> FindByEmailAsync(string email, CancellationToken cancellationToken = default)
    {
        var user = await users.FindByLoginAsync(email, cancellationToken);
        return user is null || user.Disabled ? null : Pair(user, await ReadProfileAsync(user.Id, cancellationToken));
    }

    private Task<PrintProfile?> ReadProfileAsync(long userId, CancellationToken cancellationToken) =>
        Table.FindAsync<PrintProfile>(AccountKeys.Partition(userId), AccountKeys.Profile, cancellationToken);

    /// <summary>
    /// An enabled account with its profile, the profile's identifier copies taken from the account; a platform admin
    /// (for example the first admin, created from settings) may have no profile row and gets one made up.
    /// </summary>
    private static (UserAccount User, PrintProfile Profile)? Pair(UserAccount? account, PrintProfile? row)
    {
        if (account is null || account.Disabled)
            return null;
        row ??= account.RoleList.Contains(Roles.Admin) ? AdminProfile(account) : null;
        return row is null ? null : (account, row with { Username = account.Username, Email = account.Email, Phone = account.Phone });
    }

    /// <summary>
    /// The account whose identifier and password match; takes as long whether or not the account exists. Before the
    /// password is checked, <paramref name="mayAttempt"/> is asked about the account the identifier names, so that a
    /// budget of guesses belongs to the account however it is named (username, email or mobile number).
    /// </summary>
    public async Task<SignInOutcome> SignInAsync(string login, string password, Func<long, bool> mayAttempt,
        CancellationToken cancellationToken = default)
    {
        var user = await users.FindByLoginAsync(login, cancellationToken);
        if (user is not null && !mayAttempt(user.Id))
            return new SignInOutcome(null, Throttled: true);
        if (!Secrets.Verify(user is { Disabled: false } ? user.PasswordHash : null, password))
            return new SignInOutcome(null, Throttled: false);
        return new SignInOutcome(Pair(user, await ReadProfileAsync(user!.Id, cancellationToken)), Throttled: false);
    }

    public async Task<bool> IsEmailRegisteredAsync(string email, CancellationToken cancellationToken = default) =>
        (await users.TakenFieldsAsync(null, email, null, cancellationToken)).Count > 0;

    /// <summary>
    /// Creates the account with its profile (one transaction in the new user's partition), after claiming its
    /// identifiers and a customer's referral code and, with a valid referral code, adding the pending referral to the
    /// referrer's history; a sign-up that does not finish gives those back (see <see cref="UserDirectory.CreateAsync(NewUser, Func{long, UserRows}?, CancellationToken)"/>).
    /// </summary>
    public async Task<RegistrationResult> RegisterAsync(Registration registration, CancellationToken cancellationToken = default)
    {
        UserClaim? referrer = null;
        long? referralId = null;
        if (registration.ReferralCode is { } referralCode)
        {
            referrer = IsReferralCode(referralCode) ? await users.FindClaimAsync(AccountKeys.ReferralCode(referralCode), cancellationToken) : null;
            if (referrer is null)
                return new RegistrationResult(null, null, [], UnknownReferralCode: true);
            referralId = await ids.NextAsync(ReferralSequence, cancellationToken);
        }

        var now = time.GetUtcNow();
        var isCustomer = registration.Role == PrintRoles.Customer;
        var isShop = registration.Role == PrintRoles.Shopkeeper;
        var account = new NewUser(registration.Username, registration.Email, registration.Phone, registration.Password, [registration.Role]);
        // A fresh referral code can collide with an existing one; the sign-up then gives back what it took and is retried.
        for (var attempt = 0; attempt < 5; attempt++)
        {
            PrintProfile? profile = null;
            var code = isCustomer ? NewReferralCode() : null;
            var created = await users.CreateAsync(account, id =>
            {
                profile = new PrintProfile
                {
                    PartitionKey = AccountKeys.Partition(id),
                    RowKey = AccountKeys.Profile,
                    UserId = id,
                    Role = registration.Role,
                    FullName = registration.FullName,
                    Username = registration.Username,
                    Email = registration.Email,
                    Phone = registration.Phone,
                    ShopName = isShop ? registration.ShopName : null,
                    Lat = isShop ? registration.Lat : null,
                    Long = isShop ? registration.Long : null,
                    Address = registration.Address,
                    IsOpen = isShop,
                    ReferralCode = code,
                    ReferredBy = referrer?.UserId,
                    ReferralId = referralId,
                    CreatedAt = now,
                };
                var referral = referrer is not null && referralId is { } rid
                    ? new ReferralRow
                    {
                        PartitionKey = AccountKeys.Partition(referrer.UserId),
                        RowKey = AccountKeys.Referral(rid),
                        Id = rid,
                        ReferrerId = referrer.UserId,
                        RefereeId = id,
                        AmountMinor = settings.ReferrerBonusMinor,
                        CreatedAt = now,
                    }
                    : null;
                return new UserRows([profile], code is null ? [] : [AccountKeys.ReferralCode(code)], referral is null ? [] : [referral]);
            }, cancellationToken);
            if (created.Created)
            {
                await ProfileStoredAsync(profile!, cancellationToken);
                return new RegistrationResult(created.User, profile, []);
            }
            if (created.TakenFields.Count > 0)
                return new RegistrationResult(null, null, created.TakenFields);
        }
        throw new ConcurrencyConflictException("Could not allocate a unique referral code; try again.");
    }

    /// <summary>
    /// Applies <paramref name="changes"/> to the account and to <paramref name="current"/> (the profile as the session
    /// read it) in one transaction, conditional on both as read.
    /// </summary>
    public async Task<ProfileUpdateResult?> UpdateAsync(PrintProfile current, ProfileChanges changes, CancellationToken cancellationToken = default)
    {
        if (await AccountOfAsync(current, cancellationToken) is not var (user, profile))
            return null;
        if (changes.Email is { } email && !string.Equals(email.Trim(), user.Email, StringComparison.OrdinalIgnoreCase))
            return new ProfileUpdateResult(null, null, [], EmailChange: true);
        // Checked against the account row this update is conditional on, so a concurrent change cannot slip past it.
        if (changes.Password is not null && !Secrets.Verify(user.PasswordHash, changes.CurrentPassword ?? ""))
            return new ProfileUpdateResult(null, null, [], WrongCurrentPassword: true);
        var passwordChanged = changes.Password is not null;
        var updatedUser = user with
        {
            Username = changes.Username ?? user.Username,
            Phone = changes.Phone ?? user.Phone,
            PasswordHash = changes.Password is { } password ? Secrets.HashPassword(password) : user.PasswordHash,
            // The platform's check reads the account's version, print's the profile's: both move in this transaction.
            SessionVersion = passwordChanged ? user.SessionVersion + 1 : user.SessionVersion,
        };
        var isShop = profile.Role == PrintRoles.Shopkeeper;
        var updatedProfile = profile with
        {
            FullName = changes.FullName ?? profile.FullName,
            Username = updatedUser.Username,
            Email = updatedUser.Email,
            Phone = updatedUser.Phone,
            Address = changes.Address ?? profile.Address,
            ShopName = isShop ? changes.ShopName ?? profile.ShopName : profile.ShopName,
            Lat = isShop ? changes.Lat ?? profile.Lat : profile.Lat,
            Long = isShop ? changes.Long ?? profile.Long : profile.Long,
            SessionVersion = passwordChanged ? profile.SessionVersion + 1 : profile.SessionVersion,
        };
        var profileAction = profile.ETag == default
            ? new TableTransactionAction(TableTransactionActionType.Add, updatedProfile)
            : new TableTransactionAction(TableTransactionActionType.UpdateReplace, updatedProfile, profile.ETag);
        var result = await users.UpdateAsync(user, updatedUser, [profileAction], cancellationToken);
        if (!result.Updated)
            return new ProfileUpdateResult(null, null, result.TakenFields);
        await ProfileStoredAsync(updatedProfile, cancellationToken);
        return new ProfileUpdateResult(result.User, updatedProfile, []);
    }

    private async Task ProfileStoredAsync(PrintProfile profile, CancellationToken cancellationToken)
    {
        foreach (var listener in profileListeners)
            await listener.ProfileStoredAsync(profile, cancellationToken);
    }

    /// <summary>
    /// Deletes the account and everything it owns: first what other parts of the platform keep
    /// (<see cref="IPrintAccountCleanup"/>), then its reset tokens, invite budget and referral history, then, in one
    /// transaction in its partition, the account and profile; after that its identifiers and referral code are
    /// released and the pending referral that named it leaves the referrer's history (a deleted friend can never
    /// qualify). A referral already credited stays there: it is a money record. Before any of it, every
    /// <see cref="IPrintAccountDeletionCheck"/> is asked: the first refusal is returned and nothing is deleted; null
    /// when the account was deleted.
    /// </summary>
    public async Task<DeletionRefusal?> DeleteAsync(UserAccount user, PrintProfile profile, CancellationToken cancellationToken = default)
    {
        foreach (var check in deletionChecks)
        {
            if (await check.RefusalAsync(user.Id, cancellationToken) is { } refusal)
                return refusal;
        }

        foreach (var cleanup in cleanups)
            await cleanup.RemoveAsync(user.Id, cancellationToken);

        await DeleteRowsAsync(user.Id, profile, cancellationToken);

        var companions = new List<TableTransactionAction>();
        if (profile.ETag != default)
            companions.Add(new(TableTransactionActionType.Delete, profile, profile.ETag));
        var claims = profile.ReferralCode is { } code ? new[] { AccountKeys.ReferralCode(code) } : [];
        var elsewhere = new List<ITableEntity>();
        if (profile is { ReferredBy: { } referrerId, ReferralId: { } referralId })
        {
            var referral = await Table.FindAsync<ReferralRow>(AccountKeys.Partition(referrerId), AccountKeys.Referral(referralId), cancellationToken);
            if (referral is { Status: ReferralStatus.Pending })
                elsewhere.Add(referral);
        }
        await users.DeleteAsync(user, companions, claims, elsewhere, cancellationToken);
        return null;
    }

    /// <summary>A new single-use password-reset token for the account: <c>{user id}.{secret}</c>. Only its hash is stored.</summary>
    public async Task<string> CreateResetTokenAsync(long userId, CancellationToken cancellationToken = default)
    {
        var secret = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();
        await Table.AddEntityAsync(new ResetTokenRow
        {
            PartitionKey = AccountKeys.Partition(userId),
            RowKey = AccountKeys.Reset(HashSecret(secret)),
            UserId = userId,
            ExpiresAt = time.GetUtcNow() + settings.ResetTokenLifetime,
        }, cancellationToken);
        return $"{userId}.{secret}";
    }

    /// <summary>
    /// Sets a new password with a reset token. The token is used up, the password set and every earlier session
    /// revoked in one transaction, so a token works once even when two requests race. False for a token that is
    /// unknown, used or expired.
    /// </summary>
    public async Task<bool> ResetPasswordAsync(string token, string newPassword, CancellationToken cancellationToken = default)
    {
        var parts = token.Split('.');
        if (parts.Length != 2 || !long.TryParse(parts[0], System.Globalization.NumberStyles.None, null, out var userId)
            || parts[1].Length != 64 || !parts[1].All(char.IsAsciiHexDigitLower))
            return false;
        var row = await Table.FindAsync<ResetTokenRow>(AccountKeys.Partition(userId), AccountKeys.Reset(HashSecret(parts[1])), cancellationToken);
        if (row is null || row.ExpiresAt <= time.GetUtcNow())
            return false;
        if (await FindAsync(userId, cancellationToken) is not var (user, profile) || profile.ETag == default)
            return false;
        var updatedUser = user with { PasswordHash = Secrets.HashPassword(newPassword), SessionVersion = user.SessionVersion + 1 };
        var updatedProfile = profile with { SessionVersion = profile.SessionVersion + 1 };
        try
        {
            await users.UpdateAsync(user, updatedUser,
            [
                new TableTransactionAction(TableTransactionActionType.Delete, row, row.ETag),
                new TableTransactionAction(TableTransactionActionType.UpdateReplace, updatedProfile, profile.ETag),
            ], cancellationToken);
        }
        catch (ConcurrencyConflictException)
        {
            // The token was used by a parallel request, or the account changed: this request did not reset it,
            // unless it was this very transaction, stored although its answer was lost and then retried.
            var now = await users.FindByIdAsync(userId, cancellationToken);
            if (now is null || now.PasswordHash == user.PasswordHash || !Secrets.Verify(now.PasswordHash, newPassword))
                return false;
        }
        // The other tokens of this account are void now as well.
        await DeleteRowsAsync(userId, AccountKeys.ResetPrefix, cancellationToken);
        return true;
    }

    /// <summary>Deletes every row of the user's partition whose key starts with <paramref name="prefix"/>.</summary>
    private async Task DeleteRowsAsync(long userId, string prefix, CancellationToken cancellationToken, string? except = null)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in Table.QueryAsync<TableEntity>(AccountKeys.StartsWith(userId, prefix), select: KeysOnly, cancellationToken: cancellationToken))
        {
            if (row.RowKey != except)
                rows.Add(row);
        }
        await Table.DeleteRowsAsync(rows, cancellationToken);
    }

    /// <summary>Every print-shop row of the account but its profile, which goes with the account itself.</summary>
    private Task DeleteRowsAsync(long userId, PrintProfile profile, CancellationToken cancellationToken) =>
        DeleteRowsAsync(userId, AccountKeys.RowPrefix, cancellationToken, except: AccountKeys.Profile);

    public static bool IsReferralCode(string code) => code.Length == 8 && code.All(c => CodeAlphabet.Contains(char.ToUpperInvariant(c)));

    private static string NewReferralCode() =>
        string.Create(8, 0, (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
                span[i] = CodeAlphabet[RandomNumberGenerator.GetInt32(CodeAlphabet.Length)];
        });

    private static string HashSecret(string secret) => Convert.ToHexString(SHA256.HashData(Encoding.ASCII.GetBytes(secret))).ToLowerInvariant();

    private static PrintProfile AdminProfile(UserAccount account) => new()
    {
        PartitionKey = AccountKeys.Partition(account.Id),
        RowKey = AccountKeys.Profile,
        UserId = account.Id,
        Role = Roles.Admin,
        FullName = account.DisplayName,
        Username = account.Username,
        Email = account.Email,
        Phone = account.Phone,
        CreatedAt = account.CreatedAt,
    };
}
