using System.Text.Json.Serialization;

namespace Serverless.Commerce.Identity;

public sealed record CommerceSignInRequest(
    [property: JsonPropertyName("email")] string? Email = null,
    [property: JsonPropertyName("password")] string? Password = null,
    [property: JsonPropertyName("companyId")] string? CompanyId = null);

public sealed record CommerceRefreshRequest([property: JsonPropertyName("refreshToken")] string? RefreshToken = null);

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
    [property: JsonPropertyName("email")] string? Email = null,
    [property: JsonPropertyName("password")] string? Password = null,
    [property: JsonPropertyName("name")] string? Name = null,
    [property: JsonPropertyName("roles")] List<string>? Roles = null);

public sealed record UpdateCommerceUserRequest(
    [property: JsonPropertyName("roles")] List<string>? Roles = null,
    [property: JsonPropertyName("disabled")] bool? Disabled = null);

public sealed record CommerceUserResponse(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("email")] string Email,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("roles")] IReadOnlyList<string> Roles,
    [property: JsonPropertyName("companyId")] string CompanyId,
    [property: JsonPropertyName("disabled")] bool Disabled,
    [property: JsonPropertyName("createdAt")] DateTimeOffset CreatedAt);

public sealed record CreateIntegrationRequest([property: JsonPropertyName("name")] string? Name = null);

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
