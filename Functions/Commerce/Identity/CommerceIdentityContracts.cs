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

/// <summary>A page of a list, as the commerce document pages its lists.</summary>
public sealed record CommerceUserPage(
    [property: JsonPropertyName("items")] IReadOnlyList<CommerceUserResponse> Items,
    [property: JsonPropertyName("meta")] CommerceUserPageMeta Meta,
    [property: JsonPropertyName("links")] CommerceUserPageLinks Links);

public sealed record CommerceUserPageMeta(
    [property: JsonPropertyName("itemCount")] int ItemCount,
    [property: JsonPropertyName("totalItems")] int TotalItems,
    [property: JsonPropertyName("itemsPerPage")] int ItemsPerPage,
    [property: JsonPropertyName("totalPages")] int TotalPages,
    [property: JsonPropertyName("currentPage")] int CurrentPage);

/// <summary>Links to other pages; an empty string where there is none (no previous page on the first).</summary>
public sealed record CommerceUserPageLinks(
    [property: JsonPropertyName("first")] string First,
    [property: JsonPropertyName("prev")] string Prev,
    [property: JsonPropertyName("next")] string Next,
    [property: JsonPropertyName("last")] string Last);

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
