using Microsoft.AspNetCore.Http.HttpResults;
using Serverless.Platform.Http;

namespace Serverless.Platform.Identity;

/// <summary>
/// The platform's own API: the platform admin signs in, creates users and issues API client credentials that the
/// surfaces' clients (merchants, partners, stores, integrations) use.
/// </summary>
public static class PlatformApi
{
    public const string AdminPolicy = "platform-admin";

    /// <summary>Any caller with a platform token.</summary>
    public const string UserPolicy = "platform-user";

    public static void MapPlatformApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/platform").WithTags("Platform");

        api.MapPost("/auth/token", SignIn).WithName("PlatformSignIn").WithSummary("Sign in to the platform API and get a bearer token").AllowAnonymous().RequireRateLimiting(RateLimitPolicies.Auth);
        api.MapGet("/me", WhoAmI).WithName("PlatformWhoAmI").WithSummary("The caller as its platform token names it").RequireAuthorization(UserPolicy);
        api.MapPost("/users", CreateUser).WithName("PlatformCreateUser").WithSummary("Create a user account (platform admin)").RequireAuthorization(AdminPolicy).WithIdempotency();
        api.MapPost("/api-clients", CreateApiClient).WithName("PlatformCreateApiClient").WithSummary("Issue credentials to an API client; the secret is shown this once (platform admin)").RequireAuthorization(AdminPolicy).WithIdempotency(storesSecrets: true);
        api.MapGet("/api-clients", ListApiClients).WithName("PlatformListApiClients").WithSummary("List the API clients (platform admin)").RequireAuthorization(AdminPolicy);
        api.MapDelete("/api-clients/{clientId}", DisableApiClient).WithName("PlatformDisableApiClient").WithSummary("Disable an API client: its secret and tokens stop working (platform admin)").RequireAuthorization(AdminPolicy);
        api.MapPost("/users/{id:long}/disable", DisableUser).WithName("PlatformDisableUser").WithSummary("Disable a user account and end its sessions (platform admin)").RequireAuthorization(AdminPolicy);
        api.MapPost("/users/{id:long}/password", ResetUserPassword).WithName("PlatformResetUserPassword").WithSummary("Set a user's password and end its sessions (platform admin)").RequireAuthorization(AdminPolicy);
    }

    /// <summary>An operator disables an account: it can no longer sign in, and its sessions end on every surface at once.</summary>
    public static async Task<Results<Ok<UserStateResponse>, ErrorResult>> DisableUser(
        long id, UserDirectory users, CurrentUser caller, ILoggerFactory logs, CancellationToken cancellationToken)
    {
        if (caller.UserId == id)
            return ApiErrors.BadRequest("An admin cannot disable their own account.", "validation_error");
        if (await users.DisableAsync(id, cancellationToken) is not { } user)
            return ApiErrors.NotFound($"No user has id {id}.");
        logs.CreateLogger(AuditLog).LogWarning("Admin {AdminId} disabled user {UserId}", caller.UserId, id);
        return TypedResults.Ok(new UserStateResponse(user.Id, user.Disabled));
    }

    /// <summary>
    /// An operator sets another user's password (the user's own change goes through their surface and needs the
    /// current password): every session of the account ends, and the action is logged.
    /// </summary>
    public static async Task<Results<Ok<UserStateResponse>, ErrorResult>> ResetUserPassword(
        long id, ResetUserPasswordRequest body, UserDirectory users, CurrentUser caller, ILoggerFactory logs, CancellationToken cancellationToken)
    {
        if (PasswordRule.Check(body.Password) is { } problem)
            return problem;
        if (caller.UserId == id)
            return ApiErrors.BadRequest("Change your own password through your profile, with your current password.", "validation_error");
        if (await users.SetPasswordAsync(id, body.Password, cancellationToken) is not { } user)
            return ApiErrors.NotFound($"No user has id {id}.");
        logs.CreateLogger(AuditLog).LogWarning("Admin {AdminId} reset the password of user {UserId}", caller.UserId, id);
        return TypedResults.Ok(new UserStateResponse(user.Id, user.Disabled));
    }

    /// <summary>The log category of operators' actions on accounts.</summary>
    public const string AuditLog = "Serverless.Platform.Identity.Audit";

    public static async Task<Results<Ok<TokenResponse>, ErrorResult>> SignIn(
        SignInRequest body, UserDirectory users, TokenService tokens, IdentifierThrottle throttle, HttpContext context)
    {
        var problem = Check.Required(body.Login, "login", 320) ?? Check.Required(body.Password, "password", 256);
        if (problem is not null)
            return problem;
        if (!throttle.TryAcquire("platform-sign-in", body.Login))
            return RateLimitPolicies.TooManyRequests(context, throttle.Window);
        var user = await users.SignInAsync(body.Login, body.Password, context.RequestAborted);
        if (user is null)
            return ApiErrors.Result(new ApiError(401, "invalid_credentials", "Invalid login or password."));
        var token = tokens.IssueForUser(TokenAudiences.Platform, user.Id, user.DisplayName, user.RoleList, user.SessionVersion);
        return TypedResults.Ok(new TokenResponse(token.Token, "Bearer", token.ExpiresIn, user.RoleList));
    }

    public static Ok<WhoAmIResponse> WhoAmI(CurrentUser user) =>
        TypedResults.Ok(new WhoAmIResponse(user.Id!, user.IsClient ? PlatformClaims.ClientKindValue : PlatformClaims.UserKind,
            user.Name, user.Roles, user.ClientKind));

    public static async Task<Results<Created<UserResponse>, ErrorResult>> CreateUser(
        CreateUserRequest body, UserDirectory users, UserRoles roles, CancellationToken cancellationToken)
    {
        if (body.Username is null && body.Email is null && body.Phone is null)
            return ApiErrors.BadRequest("One of 'username', 'email' or 'phone' is required.", "validation_error");
        var problem = (body.Username is null ? null : Check.Length(body.Username, "username", 3, 64))
                      ?? Check.Email(body.Email, "email")
                      ?? (body.Phone is null ? null : Check.Length(body.Phone, "phone", 7, 20))
                      ?? PasswordRule.Check(body.Password);
        if (problem is not null)
            return problem;
        if (body.Roles is null || body.Roles.Count == 0)
            return ApiErrors.BadRequest("'roles' must list at least one role.", "validation_error");
        foreach (var role in body.Roles)
        {
            if (Check.OneOf(role, "roles", roles.All) is { } badRole)
                return badRole;
        }
        var result = await users.CreateAsync(new NewUser(body.Username, body.Email, body.Phone, body.Password, body.Roles), cancellationToken);
        if (result.User is not { } user)
            return ApiErrors.Conflict($"Already in use: {string.Join(", ", result.TakenFields)}.", "already_exists");
        return TypedResults.Created($"/platform/users/{user.Id}",
            new UserResponse(user.Id, user.Username, user.Email, user.Phone, user.RoleList, user.CreatedAt));
    }

    public static async Task<Results<Created<CreatedApiClientResponse>, ErrorResult>> CreateApiClient(
        CreateApiClientRequest body, ApiClientDirectory clients, CancellationToken cancellationToken)
    {
        var problem = Check.OneOf(body.Kind, "kind", ClientKinds.All) ?? Check.Required(body.Name, "name", 200)
                      ?? (body.ClientId is null ? null : Check.Length(body.ClientId, "client_id", 3, 64));
        if (problem is not null)
            return problem;
        if (body.ClientId is not null && !body.ClientId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            return ApiErrors.BadRequest("'client_id' may hold letters, digits, '-', '_' and '.' only.", "validation_error");
        var created = await clients.CreateAsync(body.Kind, body.Name.Trim(), body.ClientId, cancellationToken: cancellationToken);
        if (created is null)
            return ApiErrors.Conflict($"Client id '{body.ClientId}' is already in use.", "already_exists");
        var client = created.Client;
        return TypedResults.Created($"/platform/api-clients/{client.ClientId}",
            new CreatedApiClientResponse(client.ClientId, created.Secret, client.Kind, client.Name, client.CreatedAt));
    }

    public static async Task<Ok<List<ApiClientResponse>>> ListApiClients(string? kind, ApiClientDirectory clients, CancellationToken cancellationToken)
    {
        var list = await clients.ListAsync(kind, cancellationToken);
        return TypedResults.Ok(list.Select(c => new ApiClientResponse(c.ClientId, c.Kind, c.Name, c.Disabled, c.CreatedAt)).ToList());
    }

    public static async Task<Results<NoContent, ErrorResult>> DisableApiClient(string clientId, ApiClientDirectory clients, CancellationToken cancellationToken)
    {
        var client = await clients.DisableAsync(clientId, cancellationToken);
        return client is null ? ApiErrors.NotFound($"No API client '{clientId}'.") : TypedResults.NoContent();
    }
}
