using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace Serverless.Platform.Identity;

public sealed record SignInRequest(
    [property: JsonPropertyName("login"), Required, StringLength(320, MinimumLength = 1)] string Login,
    [property: JsonPropertyName("password"), Required, StringLength(256, MinimumLength = 1)] string Password);

public sealed record TokenResponse(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_in")] int ExpiresIn,
    [property: JsonPropertyName("roles")] IReadOnlyList<string> Roles);

public sealed record WhoAmIResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("roles")] IReadOnlyList<string> Roles,
    [property: JsonPropertyName("client_kind")] string? ClientKind);

/// <summary>
/// A new user: at least one of username, email and phone, a password of 8 to 128 characters (as a person counts
/// them) that is not one of the most common ones, and at least one of the platform's roles.
/// </summary>
public sealed record CreateUserRequest(
    [property: JsonPropertyName("password"), Required, MinLength(PasswordRule.MinLength)] string Password,
    [property: JsonPropertyName("roles"), Required, MinLength(1)] IReadOnlyList<string> Roles,
    [property: JsonPropertyName("username"), StringLength(64, MinimumLength = 3)] string? Username = null,
    [property: JsonPropertyName("email")] string? Email = null,
    [property: JsonPropertyName("phone"), StringLength(20, MinimumLength = 7)] string? Phone = null);

public sealed record UserResponse(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("username")] string? Username,
    [property: JsonPropertyName("email")] string? Email,
    [property: JsonPropertyName("phone")] string? Phone,
    [property: JsonPropertyName("roles")] IReadOnlyList<string> Roles,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt);

public sealed record ResetUserPasswordRequest([property: JsonPropertyName("password"), Required, MinLength(PasswordRule.MinLength)] string Password);

public sealed record UserStateResponse(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("disabled")] bool Disabled);

public sealed record CreateApiClientRequest(
    [property: JsonPropertyName("kind"), Required, AllowedValues(ClientKinds.Merchant, ClientKinds.Partner, ClientKinds.Store, ClientKinds.Integration)]
    string Kind,
    [property: JsonPropertyName("name"), Required, StringLength(200, MinimumLength = 1)] string Name,
    [property: JsonPropertyName("client_id"), StringLength(64, MinimumLength = 3), RegularExpression("^[A-Za-z0-9._-]+$")] string? ClientId = null);

public sealed record ApiClientResponse(
    [property: JsonPropertyName("client_id")] string ClientId,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("disabled")] bool Disabled,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt);

public sealed record CreatedApiClientResponse(
    [property: JsonPropertyName("client_id")] string ClientId,
    [property: JsonPropertyName("client_secret")] string ClientSecret,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt);
