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

        api.MapPost("/auth/token", SignIn).WithName("PlatformSignIn").ProducesErrors(StatusCodes.Status401Unauthorized).WithSummary("Sign in to the platform API and get a bearer token")
            .WithDescription("Open to anyone; rate limited per client address. Signs a platform user in by login (username, email or " +
            "phone) and password and answers a platform bearer token, its lifetime in seconds and the user's roles. " +
            "400 validation_error when login or password is missing or too long; 401 invalid_credentials for an " +
            "unknown login, a wrong password or a disabled account; 429 after too many attempts for one login, with " +
            "Retry-After.").AllowAnonymous().RequireRateLimiting(RateLimitPolicies.Auth);
        api.MapGet("/me", WhoAmI).WithName("PlatformWhoAmI").WithSummary("The caller as its platform token names it")
            .WithDescription("Needs a platform bearer token, of a user or of an API client. Answers whom the token names: its id, its " +
            "kind (user or client), its name, its roles and, for an API client, the client's kind. 401 without a valid " +
            "platform token or when its session has ended.").RequireAuthorization(UserPolicy);
        api.MapPost("/users", CreateUser).WithName("PlatformCreateUser").WithSummary("Create a user account (platform admin)")
            .WithDescription("Platform admin only: a platform bearer token of a user with the admin role. Creates a user with at least " +
            "one of username (3 to 64 characters), email and phone (7 to 20 characters), a password of 8 to 128 " +
            "characters that is not one of the most common passwords, and one or more of the platform's roles; answers " +
            "201 with the account, never its password. 400 validation_error when a field breaks these rules or a role " +
            "is unknown; 409 already_exists when the username, email or phone is taken.").RequireAuthorization(AdminPolicy).WithIdempotency();
        api.MapPost("/api-clients", CreateApiClient).WithName("PlatformCreateApiClient").WithSummary("Issue credentials to an API client; the secret is shown this once (platform admin)")
            .WithDescription("Platform admin only. Creates an API client of one kind (merchant, partner, store or integration) with a " +
            "name and, optionally, a client_id of your choosing (3 to 64 letters, digits, '-', '_' or '.'; one is " +
            "generated when it is omitted), and answers 201 with its client_secret, which no other answer shows. 400 " +
            "validation_error for an unknown kind, a blank or too long name, or a bad client_id; 409 already_exists " +
            "when the client_id is taken.").RequireAuthorization(AdminPolicy).WithIdempotency(storesSecrets: true);
        api.MapGet("/api-clients", ListApiClients).WithName("PlatformListApiClients").WithSummary("List the API clients (platform admin)")
            .WithDescription("Platform admin only. Every API client, oldest first, with its kind, name, whether it is disabled and when " +
            "it was created; never its secret. The optional kind query parameter keeps only the clients of that kind " +
            "(an unknown kind lists none). The list is not paged.").RequireAuthorization(AdminPolicy);
        api.MapDelete("/api-clients/{clientId}", DisableApiClient).WithName("PlatformDisableApiClient").WithSummary("Disable an API client: its secret and tokens stop working (platform admin)")
            .WithDescription("Platform admin only. Disables the API client: its secret no longer signs in and the tokens already issued " +
            "to it stop working. Answers 204, also when the client was already disabled; 404 for an unknown client id.").RequireAuthorization(AdminPolicy);
        api.MapPost("/users/{id:long}/disable", DisableUser).WithName("PlatformDisableUser").ProducesErrors(StatusCodes.Status400BadRequest).WithSummary("Disable a user account and end its sessions (platform admin)")
            .WithDescription("Platform admin only. Disables the account: it can no longer sign in and every session it has ends at " +
            "once, on every surface; the action is logged. Answers the account's id and disabled flag. 400 " +
            "validation_error when admins name their own account; 404 for an unknown user id.").RequireAuthorization(AdminPolicy);
        api.MapPost("/users/{id:long}/password", ResetUserPassword).WithName("PlatformResetUserPassword").WithSummary("Set a user's password and end its sessions (platform admin)")
            .WithDescription("Platform admin only. Sets another user's password (8 to 128 characters, not one of the most common " +
            "passwords) and ends every session of that account; the action is logged. Answers the account's id and " +
            "disabled flag. 400 validation_error for a password that breaks the rule or for the admin's own account " +
            "(that goes through the profile, with the current password); 404 for an unknown user id.").RequireAuthorization(AdminPolicy);
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
