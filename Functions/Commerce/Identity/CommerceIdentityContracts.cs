using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace Serverless.Commerce.Identity;

public sealed record CommerceSignInRequest(
    [property: JsonPropertyName("email"), Required, StringLength(254, MinimumLength = 1)] string? Email = null,
    [property: JsonPropertyName("password"), Required, StringLength(256, MinimumLength = 1)] string? Password = null,
    // A UUID, surrounding blanks allowed (the handler trims them).
    [property: JsonPropertyName("companyId"), Required, StringLength(64, MinimumLength = 36),
              RegularExpression(@"^\s*[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\s*$")] string? CompanyId = null);

public sealed record CommerceRefreshRequest([property: JsonPropertyName("refreshToken"), Required, StringLength(200, MinimumLength = 1)] string? RefreshToken = null);

/// <summary>A commerce sign-in: a short-lived JWT and the refresh token that gets the next one.</summary>
public sealed record CommerceTokenResponse(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("refreshToken")] string RefreshToken);

/// <summary>An integration's access token (OAuth 2.0 client credentials).</summary>
public sealed record CommerceAccessTokenResponse(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_in")] int ExpiresIn);

public sealed record CreateCommerceUserRequest(
    [property: JsonPropertyName("email"), Required, StringLength(254, MinimumLength = 3)] string? Email = null,
    // 8 to 128 characters as a person counts them (an emoji is one), so no maxLength: it would count code points.
    [property: JsonPropertyName("password"), Required, MinLength(8)] string? Password = null,
    // 1 to 200 characters once trimmed; blanks around it are not counted.
    [property: JsonPropertyName("name"), MinLength(1)] string? Name = null,
    // Each one of user, companyAdmin, superAdmin (only a super admin may grant superAdmin).
    [property: JsonPropertyName("roles"), Required, MinLength(1), AllowedValues(CommerceRoles.User, CommerceRoles.Admin, CommerceRoles.SuperAdmin)] List<string>? Roles = null);

public sealed record UpdateCommerceUserRequest(
    [property: JsonPropertyName("roles"), MinLength(1), AllowedValues(CommerceRoles.User, CommerceRoles.Admin, CommerceRoles.SuperAdmin)] List<string>? Roles = null,
    [property: JsonPropertyName("disabled")] bool? Disabled = null);

public sealed record CommerceUserResponse(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("email")] string Email,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("roles")] IReadOnlyList<string> Roles,
    [property: JsonPropertyName("companyId")] string CompanyId,
    [property: JsonPropertyName("disabled")] bool Disabled,
    [property: JsonPropertyName("createdAt")] DateTimeOffset CreatedAt);

public sealed record CreateIntegrationRequest([property: JsonPropertyName("name"), Required, StringLength(200, MinimumLength = 1)] string? Name = null);

/// <summary>A new integration: the secret is shown this once.</summary>
public sealed record CreatedIntegrationResponse(
    [property: JsonPropertyName("clientId")] string ClientId,
    [property: JsonPropertyName("clientSecret")] string ClientSecret,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("companyId")] string CompanyId);

public sealed record IntegrationResponse(
    [property: JsonPropertyName("clientId")] string ClientId,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("companyId")] string CompanyId,
    [property: JsonPropertyName("disabled")] bool Disabled,
    [property: JsonPropertyName("createdAt")] DateTimeOffset CreatedAt);
