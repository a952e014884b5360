using System.Security.Claims;
using Serverless.Platform.Http;

namespace Serverless.Platform.Identity;

/// <summary>
/// Who is calling, from the validated token, never from the request body. Handlers take it as a parameter.
/// </summary>
public sealed class CurrentUser(IHttpContextAccessor accessor)
{
    public ClaimsPrincipal Principal => accessor.HttpContext?.User ?? new ClaimsPrincipal(new ClaimsIdentity());

    public bool IsAuthenticated => Principal.Identity?.IsAuthenticated == true;

    /// <summary>The token subject: a user id or an API client id.</summary>
    public string? Id => IsAuthenticated ? Principal.FindFirstValue(PlatformClaims.Subject) : null;

    public string? Name => Principal.FindFirstValue(PlatformClaims.Name);

    public bool IsClient => Principal.FindFirstValue(PlatformClaims.Kind) == PlatformClaims.ClientKindValue;

    public string? ClientKind => IsClient ? Principal.FindFirstValue(PlatformClaims.ClientKind) : null;

    public IReadOnlyList<string> Roles => Principal.FindAll(PlatformClaims.Role).Select(c => c.Value).ToList();

    public bool IsInRole(string role) => Principal.HasClaim(PlatformClaims.Role, role);

    /// <summary>The session version a user's token was issued under (0 when it carries none).</summary>
    public int SessionVersion => int.TryParse(Principal.FindFirstValue(PlatformClaims.SessionVersion), out var version) ? version : 0;

    /// <summary>The numeric user id, for a signed-in user.</summary>
    public long? UserId => !IsClient && long.TryParse(Id, out var id) ? id : null;

    /// <summary>
    /// What a per-caller limit or an idempotency key belongs to: the token's subject, or the client address for
    /// anonymous calls.
    /// </summary>
    public static string ScopeOf(HttpContext context)
    {
        var user = context.User;
        if (user.Identity?.IsAuthenticated == true && user.FindFirstValue(PlatformClaims.Subject) is { } subject)
            return $"{user.FindFirstValue(PlatformClaims.Kind) ?? "user"}:{subject}";
        return "ip:" + RateLimitPolicies.ClientAddress(context);
    }
}
