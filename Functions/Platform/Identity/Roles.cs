namespace Serverless.Platform.Identity;

/// <summary>The platform's own user roles, spelled as the documents spell them; surfaces add theirs with <see cref="UserRoleRegistration.AddUserRoles"/>.</summary>
public static class Roles
{
    public const string Admin = "admin";
    public const string User = "user";
    public const string SuperAdmin = "superAdmin";
    public const string Integration = "integration";
}

/// <summary>Roles a surface adds to the platform's, registered with <see cref="UserRoleRegistration.AddUserRoles"/>.</summary>
public sealed record UserRoleSet(IReadOnlyCollection<string> Roles);

/// <summary>Every role a user account may hold: the platform's and those the surfaces registered.</summary>
public sealed class UserRoles(IEnumerable<UserRoleSet> sets)
{
    public IReadOnlySet<string> All { get; } = new HashSet<string>(sets.SelectMany(s => s.Roles), StringComparer.Ordinal);
}

public static class UserRoleRegistration
{
    public static IServiceCollection AddUserRoles(this IServiceCollection services, params string[] roles) =>
        services.AddSingleton(new UserRoleSet(roles));
}

/// <summary>
/// Turns a phone number as people type it into the one form that names it, so that one number is one sign-in
/// identifier. The platform keeps the digits; a surface whose users share a numbering plan registers its own.
/// </summary>
public interface IPhoneNumberCanonicalizer
{
    string Canonical(string phone);
}

public sealed class DigitsOnlyPhoneNumbers : IPhoneNumberCanonicalizer
{
    public string Canonical(string phone) => new(phone.Where(char.IsAsciiDigit).ToArray());
}

/// <summary>Kinds of API client: software that calls an API with credentials an admin issued.</summary>
public static class ClientKinds
{
    public const string Merchant = "merchant";
    public const string Partner = "partner";
    public const string Store = "store";
    public const string Integration = "integration";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        Merchant, Partner, Store, Integration,
    };
}

/// <summary>The claim names in our tokens.</summary>
public static class PlatformClaims
{
    public const string Subject = "sub";
    public const string Name = "name";
    public const string Role = "role";

    /// <summary><c>user</c> or <c>client</c>.</summary>
    public const string Kind = "kind";

    /// <summary>For API clients: merchant, partner, store or integration.</summary>
    public const string ClientKind = "client_kind";

    /// <summary>For users: the account's session version when the token was issued.</summary>
    public const string SessionVersion = "sv";

    public const string UserKind = "user";
    public const string ClientKindValue = "client";
}
