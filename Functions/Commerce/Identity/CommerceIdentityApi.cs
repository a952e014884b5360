using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;

namespace Serverless.Commerce.Identity;

/// <summary>
/// Commerce identity: company accounts sign in with email, password and company (a commerce JWT and a rotating
/// refresh token); integrations get tokens by OAuth client credentials; a company's admins (and super admins) manage
/// the company's accounts and integrations.
/// </summary>
public static class CommerceIdentityApi
{
    public const string Tag = "Commerce identity";
    public const int DefaultLimit = 10;
    public const int MaxLimit = 100;

    /// <summary>Roles an account may hold; only a super admin may grant <c>superAdmin</c>.</summary>
    public static readonly IReadOnlySet<string> AccountRoles = new HashSet<string>(StringComparer.Ordinal)
    {
        CommerceRoles.User, CommerceRoles.Admin, CommerceRoles.SuperAdmin,
    };

    public static IEndpointRouteBuilder MapCommerceIdentity(this IEndpointRouteBuilder app)
    {
        var auth = app.MapGroup("/auth").WithTags(Tag).WithErrorShape(CommerceErrorShape.Instance).AllowAnonymous();
        auth.MapPost("/signin", SignIn).WithName("CommerceSignIn").ProducesErrors(StatusCodes.Status401Unauthorized).WithSummary("Sign in to a company with email and password")
            .WithDescription("Anonymous. Returns a short-lived commerce bearer token and a refresh token for the company's account with this email and " +
                             "password (answered with Cache-Control: no-store). 400 when a field is missing or too long, or companyId is not a UUID; " +
                             "401 \"Invalid credentials\" alike for a wrong email, password or company and for a disabled account; 429 when too " +
                             "many attempts come from one address or for one company and email.")
            .RequireRateLimiting(RateLimitPolicies.Auth);
        // A 256-bit token cannot be guessed: the per-caller budget, not the password guessers' one.
        auth.MapPost("/refresh-token", RefreshToken).WithName("CommerceRefreshToken").ProducesErrors(StatusCodes.Status401Unauthorized).WithSummary("Exchange a refresh token for a new token pair")
            .WithDescription("Anonymous: the refresh token is the credential. Returns a new bearer token and a new refresh token; the one sent stops " +
                             "working, and sending a used one again ends the whole sign-in (its newest refresh token stops working too). 400 when " +
                             "refreshToken is missing or longer than 200 characters; 401 \"Invalid refresh token\" when it is unknown, used, " +
                             "expired, or its account was disabled or had its roles changed since.")
            .RequireRateLimiting(RateLimitPolicies.PerCaller);
        auth.MapPost("/token", Token).WithName("CommerceToken").WithSummary("Integration access token (OAuth 2.0 client credentials)")
            .WithDescription("Anonymous: a company's integration sends grant_type=client_credentials as a form, with client_id and client_secret in " +
                             "the form or in a Basic Authorization header. Returns a commerce bearer token with the integration role for the " +
                             "integration's company (Cache-Control: no-store). Errors use the OAuth shape: 400 invalid_request or " +
                             "unsupported_grant_type; 401 invalid_client for an unknown or disabled client, a wrong secret, or a client that is " +
                             "not a commerce integration; 429 when one client id tries too often.")
            .RequireRateLimiting(RateLimitPolicies.Auth).WithErrorShape(OAuthErrorShape.Instance).DisableAntiforgery().AcceptsClientCredentials();

        var admin = app.MapCommerceGroup("/admin/companies/{companyId}", Tag, CommerceRoles.Administrators);
        admin.MapPost("/users", CreateUser).WithName("CommerceCreateUser").ProducesErrors(StatusCodes.Status409Conflict).WithSummary("Create an account of the company")
            .WithDescription("Creates an account in the company with an email, a password, an optional name and its roles (user, companyAdmin, " +
                             "superAdmin), and returns it with 201. " + AdminCaller + "Only a super admin may grant superAdmin (403). 400 when " +
                             "companyId is not a UUID, the email is not valid, the password is not 8 to 128 characters or is a common one, the " +
                             "name is blank or longer than 200 characters once trimmed, or roles is empty or names an unknown role; 409 when the " +
                             "company has an account with this email already (emails compare case-insensitively).");
        admin.MapGet("/users", ListUsers).WithName("CommerceListUsers").WithSummary("The company's accounts, a page at a time")
            .WithDescription("The company's accounts in email order, with their roles and whether they are disabled: page (from 1) and limit (1 to " +
                             "100, 10 when absent), with links to the first, previous, next and last pages. " + AdminCaller + "400 when companyId " +
                             "is not a UUID, or page or limit is not a whole number in its range.");
        admin.MapPatch("/users/{userId:long}", UpdateUser).WithName("CommerceUpdateUser").WithSummary("Change an account's roles or disable it")
            .WithDescription("Replaces the account's roles when roles is given, and disables or enables it when disabled is given; returns the " +
                             "account. A role change or disabling ends the account's sign-ins at once: its tokens and refresh tokens stop working. " +
                             AdminCaller + "Only a super admin may change a super admin's account or grant superAdmin (403). 400 when companyId is " +
                             "not a UUID, roles is empty or names an unknown role, or an admin disables their own account; 404 when the company " +
                             "has no account with this id.");
        admin.MapPost("/integrations", CreateIntegration).WithName("CommerceCreateIntegration").WithSummary("Create an integration (its secret is shown once)")
            .WithDescription("Creates an integration of the company and returns 201 with its client id and secret, which POST /auth/token takes. The " +
                             "secret is shown only in this answer. " + AdminCaller + "400 when companyId is not a UUID, or name is blank or longer " +
                             "than 200 characters.");
        admin.MapGet("/integrations", ListIntegrations).WithName("CommerceListIntegrations").WithSummary("The company's integrations")
            .WithDescription("All the company's integrations, oldest first, with whether each is disabled (never their secrets). " + AdminCaller +
                             "400 when companyId is not a UUID.");
        admin.MapDelete("/integrations/{clientId}", DisableIntegration).WithName("CommerceDisableIntegration").WithSummary("Disable an integration")
            .WithDescription("Disables the company's integration: its secret stops working, and so do the tokens issued to it. Answers 204, also " +
                             "when it was disabled already. " + AdminCaller + "400 when companyId is not a UUID; 404 when the company has no " +
                             "integration with this client id.");
        return app;
    }

    /// <summary>Who may call the company admin's identity routes, and what the route group answers anyone else.</summary>
    private const string AdminCaller =
        "For a commerce token of the company's admin (companyAdmin) or a super admin; 401 without a commerce token, 403 without either " +
        "role, 404 when a company admin's token belongs to another company. ";

    private static readonly ApiError InvalidCredentials = new(401, ApiError.DefaultCode(401), "Invalid credentials");
    private static readonly ApiError InvalidRefreshToken = new(401, ApiError.DefaultCode(401), "Invalid refresh token");

    /// <summary>
    /// Email, password and company: a wrong one of the three answers the same 401, after the same work. Limited per
    /// client address (the route's policy) and per company and email.
    /// </summary>
    public static async Task<Results<Ok<CommerceTokenResponse>, ErrorResult>> SignIn(
        CommerceSignInRequest body, CommerceAccounts accounts, CommerceSessions sessions, TokenService tokens, IdentifierThrottle throttle,
        HttpContext context)
    {
        var companyProblem = CompanyProblem(body.CompanyId, out var companyId);
        var problem = Check.Required(body.Email, "email", 254) ?? Check.Required(body.Password, "password", 256)
                      ?? Check.Required(body.CompanyId, "companyId", 64) ?? companyProblem;
        if (problem is not null)
            return problem;
        if (!throttle.TryAcquire("commerce-sign-in", companyId + "/" + body.Email!.Trim()))
            return RateLimitPolicies.TooManyRequests(context, throttle.Window);
        var account = await accounts.SignInAsync(companyId, body.Email, body.Password!, context.RequestAborted);
        if (account is null)
            return ApiErrors.Result(InvalidCredentials);
        var refresh = await sessions.StartAsync(account, companyId, context.RequestAborted);
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new CommerceTokenResponse(Issue(tokens, account, companyId), refresh.Token));
    }

    /// <summary>Rotates the refresh token: the old one stops working; presenting it again ends the whole sign-in.</summary>
    public static async Task<Results<Ok<CommerceTokenResponse>, ErrorResult>> RefreshToken(
        CommerceRefreshRequest body, CommerceSessions sessions, TokenService tokens, HttpContext context)
    {
        if (Check.Required(body.RefreshToken, "refreshToken", 200) is { } problem)
            return problem;
        var result = await sessions.RefreshAsync(body.RefreshToken!, context.RequestAborted);
        if (result is not { Outcome: RefreshOutcome.Rotated, Account: { } account, Family: { } family, Next: { } next })
            return ApiErrors.Result(InvalidRefreshToken);
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new CommerceTokenResponse(Issue(tokens, account, family.CompanyId), next.Token));
    }

    /// <summary>OAuth 2.0 client credentials for a company's integration; errors in the OAuth shape.</summary>
    public static async Task<Results<Ok<CommerceAccessTokenResponse>, ErrorResult>> Token(
        HttpContext context, ApiClientDirectory clients, CommerceIntegrations integrations, TokenService tokens, IdentifierThrottle throttle)
    {
        var (credentials, error) = await ClientCredentials.ReadAsync(context.Request);
        if (credentials is not { ClientId: var clientId, Secret: var secret })
            return error!;
        if (!throttle.TryAcquire("commerce-token", clientId))
            return RateLimitPolicies.TooManyRequests(context, throttle.Window);
        var client = await clients.AuthenticateAsync(clientId, secret, context.RequestAborted);
        if (client is not { Kind: ClientKinds.Integration }
            || await integrations.FindCompanyAsync(client.ClientId, context.RequestAborted) is not { } companyId)
            return ClientCredentials.InvalidClient();
        var token = tokens.IssueForClient(TokenAudiences.Commerce, client.ClientId, client.Name, ClientKinds.Integration,
            roles: [CommerceRoles.Integration], claims: CompanyClaim(companyId));
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new CommerceAccessTokenResponse(token.Token, "Bearer", token.ExpiresIn));
    }

    public static async Task<Results<Created<CommerceUserResponse>, ErrorResult>> CreateUser(
        string companyId, CreateCommerceUserRequest body, CommerceAccounts accounts, CommerceCaller caller, CancellationToken cancellationToken)
    {
        var problem = CompanyProblem(companyId, out companyId)
                      ?? Check.Required(body.Email, "email", 254) ?? Check.Email(body.Email, "email")
                      ?? PasswordRule.Check(body.Password)
                      ?? (body.Name is null ? null : Check.Length(body.Name.Trim(), "name", 1, 200))
                      ?? RolesProblem(body.Roles, caller);
        if (problem is not null)
            return problem;
        var created = await accounts.CreateAsync(companyId, body.Email!, body.Password!, body.Name?.Trim(), body.Roles!, cancellationToken);
        if (created is null)
            return ApiErrors.Conflict($"The company has an account with email '{CommerceAccounts.NormalizeEmail(body.Email!)}' already.");
        return TypedResults.Created($"/admin/companies/{companyId}/users/{created.User.Id}", UserResponse(created));
    }

    public static async Task<Results<Ok<Page<CommerceUserResponse>>, ErrorResult>> ListUsers(
        string companyId, HttpRequest request, CommerceAccounts accounts, CancellationToken cancellationToken,
        [RegularExpression("^[0-9]*[1-9][0-9]*$")] string? page = null, [RegularExpression("^0*([1-9][0-9]?|100)$")] string? limit = null)
    {
        var problem = CompanyProblem(companyId, out companyId);
        var pageProblem = Whole(page, "page", 1, int.MaxValue, 1, out var number);
        var limitProblem = Whole(limit, "limit", 1, MaxLimit, DefaultLimit, out var size);
        problem ??= pageProblem ?? limitProblem;
        if (problem is not null)
            return problem;
        var (items, total) = await accounts.ListAsync(companyId, number, size, cancellationToken);
        return TypedResults.Ok(CommercePaging.Of(items.Select(UserResponse).ToList(), total, number, size, request));
    }

    /// <summary>
    /// Changes an account's roles or disables (or enables) it. A company admin may not change a super admin, nor
    /// grant that role; nobody disables their own account here.
    /// </summary>
    public static async Task<Results<Ok<CommerceUserResponse>, ErrorResult>> UpdateUser(
        string companyId, long userId, UpdateCommerceUserRequest body, CommerceAccounts accounts, CommerceCaller caller,
        CancellationToken cancellationToken)
    {
        var problem = CompanyProblem(companyId, out companyId) ?? (body.Roles is null ? null : RolesProblem(body.Roles, caller));
        if (problem is not null)
            return problem;
        if (await accounts.GetAsync(companyId, userId, cancellationToken) is not { } account)
            return ApiErrors.NotFound($"User {userId} not found.");
        if (!caller.IsSuperAdmin && account.User.RoleList.Contains(CommerceRoles.SuperAdmin))
            return ApiErrors.Result(new ApiError(403, "forbidden", "Only a superAdmin may change a superAdmin's account."));
        if (body.Disabled == true && caller.UserId == userId.ToString(CultureInfo.InvariantCulture) && !caller.IsIntegration)
            return ApiErrors.BadRequest("An admin cannot disable their own account.", "validation_error");
        var updated = await accounts.UpdateAsync(account, body.Roles, body.Disabled, cancellationToken);
        return TypedResults.Ok(UserResponse(updated));
    }

    public static async Task<Results<Created<CreatedIntegrationResponse>, ErrorResult>> CreateIntegration(
        string companyId, CreateIntegrationRequest body, CommerceIntegrations integrations, CancellationToken cancellationToken)
    {
        var problem = CompanyProblem(companyId, out companyId) ?? Check.Required(body.Name, "name", 200);
        if (problem is not null)
            return problem;
        var created = await integrations.CreateAsync(companyId, body.Name!.Trim(), cancellationToken: cancellationToken)
                      ?? throw new InvalidOperationException("A generated client id was taken.");
        return TypedResults.Created($"/admin/companies/{companyId}/integrations/{created.Client.ClientId}",
            new CreatedIntegrationResponse(created.Client.ClientId, created.Secret, created.Client.Name, companyId));
    }

    public static async Task<Results<Ok<List<IntegrationResponse>>, ErrorResult>> ListIntegrations(
        string companyId, CommerceIntegrations integrations, CancellationToken cancellationToken)
    {
        if (CompanyProblem(companyId, out companyId) is { } problem)
            return problem;
        var list = await integrations.ListAsync(companyId, cancellationToken);
        return TypedResults.Ok(list.Select(i => new IntegrationResponse(i.ClientId, i.Name, i.CompanyId, i.Disabled, i.CreatedAt)).ToList());
    }

    public static async Task<Results<NoContent, ErrorResult>> DisableIntegration(
        string companyId, string clientId, CommerceIntegrations integrations, CancellationToken cancellationToken)
    {
        if (CompanyProblem(companyId, out companyId) is { } problem)
            return problem;
        return await integrations.DisableAsync(companyId, clientId, cancellationToken)
            ? TypedResults.NoContent()
            : ApiErrors.NotFound($"Integration '{clientId}' not found.");
    }

    private static string Issue(TokenService tokens, UserAccount account, string companyId) =>
        tokens.IssueForUser(TokenAudiences.Commerce, account.Id, EmailOf(account), account.RoleList, account.SessionVersion,
            claims: CompanyClaim(companyId)).Token;

    private static Dictionary<string, object> CompanyClaim(string companyId) => new() { [CommerceClaims.Company] = companyId };

    private static string EmailOf(UserAccount account) =>
        account.Username is { } username && username.IndexOf('/', StringComparison.Ordinal) is var slash and >= 0 ? username[(slash + 1)..] : account.DisplayName;

    private static CommerceUserResponse UserResponse(CommerceAccount account) =>
        new(account.User.Id, account.Email, account.Name, account.User.RoleList, account.CompanyId, account.User.Disabled, account.CreatedAt);

    /// <summary>A company id is a UUID; <paramref name="normalized"/> is its lower-case form, the one keys use.</summary>
    private static ErrorResult? CompanyProblem(string? value, out string normalized)
    {
        if (Guid.TryParseExact(value?.Trim(), "D", out var id))
        {
            normalized = id.ToString("D");
            return null;
        }
        normalized = "";
        return ApiErrors.BadRequest("'companyId' must be a UUID.", "validation_error");
    }

    private static ErrorResult? RolesProblem(List<string>? roles, CommerceCaller caller)
    {
        if (roles is null || roles.Count == 0)
            return ApiErrors.BadRequest("'roles' must list at least one role.", "validation_error");
        foreach (var role in roles)
        {
            if (Check.OneOf(role, "roles", AccountRoles) is { } bad)
                return bad;
        }
        return roles.Contains(CommerceRoles.SuperAdmin) && !caller.IsSuperAdmin
            ? ApiErrors.Result(new ApiError(403, "forbidden", "Only a superAdmin may grant the superAdmin role."))
            : null;
    }

    private static ErrorResult? Whole(string? value, string field, int min, int max, int fallback, out int number)
    {
        number = fallback;
        if (value is null)
            return null;
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out number) && number >= min && number <= max
            ? null
            : ApiErrors.BadRequest($"'{field}' must be a whole number from {min} to {max}.", "validation_error");
    }
}
