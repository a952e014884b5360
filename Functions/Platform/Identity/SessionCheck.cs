using Microsoft.AspNetCore.Authorization;
using Serverless.Platform.Http;

namespace Serverless.Platform.Identity;

/// <summary>
/// Endpoint metadata of a surface that checks sessions itself, from a row it reads per request anyway (print reads
/// the profile, which carries the same session version in step with the account's).
/// </summary>
public interface ISurfaceSessionCheck;

/// <summary>
/// Runs after authorization on every endpoint that requires it: a user's token must name an account that still
/// exists, is enabled, holds the token's roles and whose session version is the token's (a password change or
/// reset, a role change or disabling raises it); an API client's token must name a client that is still enabled.
/// One point read per request at most: the account row (<c>user-&lt;id&gt;</c>), or the client row, which an instance
/// reads at most every <see cref="ApiClientDirectory.SessionViewLifetime"/> per client. Anonymous endpoints and
/// surfaces that check for themselves (<see cref="ISurfaceSessionCheck"/>) read nothing here.
/// </summary>
public sealed class SessionCheckMiddleware(RequestDelegate next)
{
    public static readonly ApiError SessionEnded = new(401, "session_ended", "This session has ended; sign in again.");

    // Services from the request's scope, and only when used: a middleware whose InvokeAsync takes more than the context
    // costs an expression tree compiled at start-up, and resolves every parameter on every request.
    public async Task InvokeAsync(HttpContext context)
    {
        var caller = context.RequestServices.GetRequiredService<CurrentUser>();
        var endpoint = context.GetEndpoint();
        if (endpoint is null || !caller.IsAuthenticated || endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null
            || endpoint.Metadata.GetMetadata<IAuthorizeData>() is null || endpoint.Metadata.GetMetadata<ISurfaceSessionCheck>() is not null)
        {
            await next(context);
            return;
        }
        var live = caller.IsClient
            ? caller.Id is { } clientId && await context.RequestServices.GetRequiredService<ApiClientDirectory>()
                .FindForSessionAsync(clientId, context.RequestAborted) is { Disabled: false }
            : caller.UserId is { } userId && IsLive(await context.RequestServices.GetRequiredService<UserDirectory>()
                .FindByIdAsync(userId, context.RequestAborted), caller);
        if (!live)
        {
            await ApiErrors.WriteAsync(context, SessionEnded);
            return;
        }
        await next(context);
    }

    private static bool IsLive(UserAccount? account, CurrentUser caller) =>
        account is { Disabled: false }
        && account.SessionVersion == caller.SessionVersion
        && caller.Roles.All(account.RoleList.Contains);
}
