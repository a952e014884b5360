using System.Text.Json.Serialization;

namespace Serverless.Platform.Identity;

public sealed record SignInRequest(
    [property: JsonPropertyName("login")] string Login,
    [property: JsonPropertyName("password")] string Password);

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

public sealed record CreateUserRequest(
    [property: JsonPropertyName("password")] string Password,
    [property: JsonPropertyName("roles")] IReadOnlyList<string> Roles,
    [property: JsonPropertyName("username")] string? Username = null,
    [property: JsonPropertyName("email")] string? Email = null,
    [property: JsonPropertyName("phone")] string? Phone = null);

public sealed record UserResponse(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("username")] string? Username,
    [property: JsonPropertyName("email")] string? Email,
    [property: JsonPropertyName("phone")] string? Phone,
    [property: JsonPropertyName("roles")] IReadOnlyList<string> Roles,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt);

public sealed record ResetUserPasswordRequest([property: JsonPropertyName("password")] string Password);

public sealed record UserStateResponse(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("disabled")] bool Disabled);

public sealed record CreateApiClientRequest(
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("client_id")] string? ClientId = null);

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
