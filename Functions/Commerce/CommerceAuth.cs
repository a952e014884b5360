using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Serverless.Platform.Http;
using Serverless.Platform.Identity;

namespace Serverless.Commerce;

/// <summary>The commerce claims beyond the platform's: the company a token belongs to.</summary>
public static class CommerceClaims
{
    public const string Company = "company";
}

/// <summary>The roles the commerce document names, spelled as it spells them.</summary>
public static class CommerceRoles
{
    public const string User = Roles.User;
    public const string SuperAdmin = Roles.SuperAdmin;
    public const string Integration = Roles.Integration;

    /// <summary>
    /// A company's own administrator (the company's admin routes and catalogue). Never the platform's <c>admin</c>:
    /// an account that administers one company must not read as an operator of the whole platform anywhere.
    /// </summary>
    public const string Admin = "companyAdmin";

    /// <summary>Who may use the buyer's order routes.</summary>
    public static readonly string[] Buyers = [User, SuperAdmin, Integration];

    /// <summary>Who may use a company's admin routes.</summary>
    public static readonly string[] Administrators = [SuperAdmin, Admin];
}

/// <summary>
/// The commerce caller, from a validated commerce token: whose orders they are (<see cref="OwnerId"/>: a user id,
/// or an integration's client id), which company the token belongs to, and what the roles allow.
/// </summary>
public sealed class CommerceCaller(CurrentUser user)
{
    public string? CompanyId => user.Principal.FindFirst(CommerceClaims.Company)?.Value;

    /// <summary>The owner of the orders this caller creates: <c>user-&lt;id&gt;</c> or <c>client-&lt;id&gt;</c>.</summary>
    public string OwnerId => user.IsClient ? "client-" + user.Id : "user-" + user.Id;

    /// <summary>The <c>userId</c> the document shows on an order: the user's id, or the integration's client id.</summary>
    public string UserId => user.Id ?? "";

    public string? Name => user.Name;

    public bool IsAuthenticated => user.IsAuthenticated;

    public bool IsSuperAdmin => user.IsInRole(CommerceRoles.SuperAdmin);

    public bool IsIntegration => user.IsInRole(CommerceRoles.Integration) || user.ClientKind == ClientKinds.Integration;

    public IReadOnlyList<string> Roles
    {
        get
        {
            var roles = user.Roles.ToList();
            if (user.ClientKind == ClientKinds.Integration && !roles.Contains(CommerceRoles.Integration))
                roles.Add(CommerceRoles.Integration);
            return roles;
        }
    }

    public bool HasAnyRole(IEnumerable<string> roles) => roles.Any(Roles.Contains);

    /// <summary>
    /// Whether the caller may act in <paramref name="companyId"/>: a super admin anywhere, anyone else only in the
    /// company their token belongs to (another company answers 404, not 403).
    /// </summary>
    public bool BelongsTo(string companyId) => IsSuperAdmin || string.Equals(CompanyId, companyId, StringComparison.OrdinalIgnoreCase);
}

/// <summary>The roles a commerce route group admits (endpoint metadata, read by <see cref="CommerceRoleCheck"/>).</summary>
public sealed record CommerceRoleRequirement(IReadOnlyList<string> Roles)
{
    public static ApiError MissingRole(IEnumerable<string> roles) =>
        new(403, "forbidden", "User doesn't have any of the expected roles: " + string.Join(", ", roles));
}

/// <summary>
/// Refuses a caller without any of its route's roles (403, the document's message) and one outside the path's
/// company (404), after authentication (an anonymous caller has had its 401) and before the request body is read, so a
/// caller without the role learns nothing about what the route would accept.
/// </summary>
public sealed class CommerceRoleCheck(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<CommerceRoleRequirement>() is not { } requirement
            || context.RequestServices.GetRequiredService<CommerceCaller>() is not { IsAuthenticated: true } caller)
            return next(context);
        if (!caller.HasAnyRole(requirement.Roles))
            return ApiErrors.WriteAsync(context, CommerceRoleRequirement.MissingRole(requirement.Roles));
        if (context.Request.RouteValues.TryGetValue("companyId", out var value) && value is string companyId && !caller.BelongsTo(companyId))
            return ApiErrors.WriteAsync(context, ApiError.NotFound($"Company {companyId} not found."));
        return next(context);
    }
}

/// <summary>
/// The commerce error body, as the original (a NestJS service) answers: <c>{statusCode, message, error}</c>, plus
/// <c>errorCode</c> for the business refusals the document names (<c>similar-order-not-accepted</c>, ...).
/// </summary>
public sealed class CommerceErrorShape : IErrorShape
{
    public static readonly CommerceErrorShape Instance = new();

    public ErrorBodySchema BodySchema { get; } = ErrorBodySchema.Object("CommerceError",
        "A commerce error: the status, a message naming the problem, the status's reason phrase, and a machine code when there is a more precise one than the status.",
        ["message", "error", "errorCode"], integers: ["statusCode"], optional: ["errorCode"]);

    public Task WriteAsync(HttpContext context, ApiError error)
    {
        var body = new Dictionary<string, object?>
        {
            ["statusCode"] = error.Status,
            ["message"] = error.Message,
            ["error"] = ReasonPhrases.GetReasonPhrase(error.Status),
        };
        if (error.Code != ApiError.DefaultCode(error.Status))
            body["errorCode"] = error.Code;
        return context.Response.WriteAsJsonAsync(body, (JsonSerializerOptions?)null, "application/json", context.RequestAborted);
    }
}

public static class CommerceRouteGroups
{
    public const string Policy = "commerce";

    /// <summary>
    /// A commerce route group: commerce tokens only, the commerce error shape, a per-caller rate limit, and the roles
    /// that may call it.
    /// </summary>
    public static RouteGroupBuilder MapCommerceGroup(this IEndpointRouteBuilder app, string prefix, string tag, IReadOnlyList<string> roles) =>
        app.MapGroup(prefix).WithTags(tag)
            .RequireAuthorization(Policy)
            .RequireRateLimiting(RateLimitPolicies.PerCaller)
            .WithErrorShape(CommerceErrorShape.Instance)
            .WithMetadata(new CommerceRoleRequirement(roles));

    /// <summary>The commerce role check, after authentication and the session check.</summary>
    public static WebApplication UseCommerce(this WebApplication app)
    {
        app.UseMiddleware<CommerceRoleCheck>();
        return app;
    }
}
