using Serverless.Platform.Identity;

namespace Serverless.Print;

/// <summary>The print-shop roles, as document 004 spells them; registered with the platform by <see cref="PrintRegistration.AddPrint"/>.</summary>
public static class PrintRoles
{
    public const string Customer = "customer";
    public const string Shopkeeper = "shopkeeper";
}

/// <summary>
/// Phone numbers as the print-shop's Indian users type them: the digits, with the country code or trunk zero dropped,
/// so that <c>+91 98765 43210</c>, <c>098765 43210</c> and the 10-digit <c>9876543210</c> people type at sign-in are
/// one number.
/// </summary>
public sealed class IndianMobileNumbers : IPhoneNumberCanonicalizer
{
    public string Canonical(string phone)
    {
        var digits = new string(phone.Where(char.IsAsciiDigit).ToArray());
        return digits switch
        {
            { Length: 12 } when digits.StartsWith("91", StringComparison.Ordinal) => digits[2..],
            { Length: 11 } when digits.StartsWith('0') => digits[1..],
            _ => digits,
        };
    }
}

/// <summary>
/// Print checks its sessions against the profile's copy of the session version (one read per request): when the
/// platform ends an account's sessions (an operator disables it or resets its password), the profile's version is
/// raised in the same transaction, so print tokens stop working at once too.
/// </summary>
public sealed class PrintSessionRows : IUserSessionRows
{
    public async Task<IReadOnlyList<Azure.Data.Tables.ITableEntity>> EndSessionsAsync(Azure.Data.Tables.TableClient table, string partitionKey,
        CancellationToken cancellationToken)
    {
        var profile = await Platform.Storage.TableTransitions.FindAsync<Accounts.PrintProfile>(table, partitionKey, Accounts.AccountKeys.Profile,
            cancellationToken);
        return profile is null ? [] : [profile with { SessionVersion = profile.SessionVersion + 1 }];
    }
}
