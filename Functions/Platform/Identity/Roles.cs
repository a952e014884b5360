namespace Serverless.Platform.Identity;

/// <summary>User roles across the surfaces, spelled as the documents spell them.</summary>
public static class Roles
{
    public const string Admin = "admin";
    public const string Customer = "customer";
    public const string Shopkeeper = "shopkeeper";
    public const string User = "user";
    public const string SuperAdmin = "superAdmin";
    public const string Integration = "integration";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        Admin, Customer, Shopkeeper, User, SuperAdmin, Integration,
    };
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

    public const string UserKind = "user";
    public const string ClientKindValue = "client";
}
