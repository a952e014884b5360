using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Serverless.Platform.Hosting;
using Serverless.Platform.Http;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;

namespace Serverless.Print.Shops;

public sealed record ShopView(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("username")] string Username,
    [property: JsonPropertyName("shop_name")] string ShopName,
    [property: JsonPropertyName("lat")] double Lat,
    [property: JsonPropertyName("long")] double Long,
    [property: JsonPropertyName("distance")] double Distance,
    [property: JsonPropertyName("is_open")] bool IsOpen,
    [property: JsonPropertyName("address")] string? Address);

public sealed record ShopStatusRequest([property: JsonPropertyName("is_open"), Required] bool? IsOpen);

public sealed record ShopStatusResponse(
    [property: JsonPropertyName("is_open")] bool IsOpen,
    [property: JsonPropertyName("message")] string Message);

public sealed record ShopHeartbeatResponse(
    [property: JsonPropertyName("ok")] bool Ok,
    [property: JsonPropertyName("is_open")] bool IsOpen);

/// <summary>
/// Shops near you (<c>GET /shops</c>, any signed-in print user), and the shopkeeper's open/closed switch and app
/// heartbeat (<c>POST /shop/status</c>, <c>POST /shop/heartbeat</c>), in the document's order.
/// </summary>
public static class ShopsApi
{
    public static void MapPrintShops(this IEndpointRouteBuilder app)
    {
        var users = app.MapGroup("").WithTags("Print-shop shops").WithErrorShape(PrintErrorShape.Instance)
            .RequireAuthorization(PrintAuth.UserPolicy).WithMetadata(PrintAuth.OpenApiSecurity).WithMetadata(PrintAccountRequired.Instance).RequireRateLimiting(RateLimitPolicies.PerCaller);
        users.MapGet("/shops", Nearest).WithName("PrintNearestShops").WithSummary(NearestSummary)
            .WithDescription("Lists the shops within `radius` km (more than 0, at most 50, default 10) of the point `lat`/`long`, nearest " +
                "first, at most `limit` of them (1 to 100, default 20), open and closed alike; each has its `distance` in km, " +
                "rounded to 2 decimals, and whether it `is_open`. Any signed-in print-shop account, with the bearer token or " +
                "the sign-in cookie. 400 `validation_error` when `lat` or `long` is missing or out of range, or `radius` or " +
                "`limit` is out of range; 401 without a valid session.");

        var shop = app.MapGroup("/shop").WithTags("Print-shop shops").WithErrorShape(PrintErrorShape.Instance)
            .RequireAuthorization(PrintAuth.ShopkeeperPolicy).WithMetadata(PrintAuth.OpenApiSecurity).WithMetadata(PrintAccountRequired.Instance).RequireRateLimiting(RateLimitPolicies.PerCaller);
        shop.MapPost("/status", Status).WithName("PrintShopStatus").WithSummary("Open or close the caller's shop: {\"is_open\": true|false}")
            .WithDescription("Opens (`is_open: true`) or closes (`false`) the caller's shop and answers with the stored state; customers " +
                "see the change at once, and an open shop that is seen neither by its app's heartbeat nor by the shopkeeper's " +
                "activity for a while is closed as stale. Sending the state the shop already has changes nothing. Shopkeepers " +
                "only, with the bearer token or the sign-in cookie (the sign-in cookie also needs the `X-CSRF-Token` header: " +
                "403 `csrf_token_invalid` without it). 400 `validation_error` when `is_open` is missing or null; 401 without a " +
                "valid session, or `session_ended` when the account is gone; 403 for customers and admins.");
        shop.MapPost("/heartbeat", Heartbeat).WithName("PrintShopHeartbeat").WithMetadata(AppHeartbeatEndpoint.Instance)
            .WithSummary("The shop app's sign of life (no body): keeps an open shop from being closed as stale; it never reopens a closed shop")
            .WithDescription("Records a sign of life from the shop app (no request body) and answers `ok` with whether the shop `is_open`: " +
                "an open shop whose app keeps sending it is not closed as stale, and a closed shop stays closed (only POST " +
                "/shop/status reopens it). Shopkeepers only, with the bearer token or the sign-in cookie (the sign-in cookie " +
                "also needs the `X-CSRF-Token` header: 403 `csrf_token_invalid` without it). 401 without a valid session, or " +
                "`session_ended` when the account is gone; 403 for customers and admins.");
    }

    public const string NearestSummary =
        "Shops within `radius` km (default 10, at most 50) of lat/long, nearest first, at most `limit` (default 20, at most 100); " +
        "open and closed shops alike (`is_open` tells); `distance` in km, rounded to 2 decimals";

    public static async Task<Results<Ok<IReadOnlyList<ShopView>>, ErrorResult>> Nearest(
        ShopIndex index, CancellationToken cancellationToken, [Required, Range(-90.0, 90.0)] double? lat = null,
        [FromQuery(Name = "long"), Required, Range(-180.0, 180.0)] double? longitude = null,
        [Range(0.0, ShopIndex.MaxRadiusKm, MinimumIsExclusive = true)] double? radius = null, [Range(1, ShopIndex.MaxLimit)] int? limit = null)
    {
        var problem = Coordinate(lat, "lat", 90) ?? Coordinate(longitude, "long", 180)
                      ?? (radius is null or (> 0 and <= ShopIndex.MaxRadiusKm) && (radius is null || double.IsFinite(radius.Value)) ? null
                          : Invalid($"'radius' must be more than 0 and at most {ShopIndex.MaxRadiusKm} (km)."))
                      ?? (limit is null ? null : Check.Range(limit.Value, "limit", 1, ShopIndex.MaxLimit));
        if (problem is not null)
            return problem;
        var shops = await index.NearAsync(lat!.Value, longitude!.Value, radius ?? ShopIndex.DefaultRadiusKm, limit ?? ShopIndex.DefaultLimit,
            cancellationToken);
        return TypedResults.Ok<IReadOnlyList<ShopView>>(shops.Select(View).ToList());
    }

    public static async Task<Results<Ok<ShopStatusResponse>, ErrorResult>> Status(
        ShopStatusRequest body, PrintSession session, ShopPresence presence, CancellationToken cancellationToken)
    {
        if (body.IsOpen is not { } open)
            return Invalid("'is_open' is required: true to open the shop, false to close it.");
        var stored = await presence.SetOpenAsync(session.Profile, open, cancellationToken);
        if (stored is null)
            return ApiErrors.Result(PrintSessionMiddleware.SessionEnded);
        return TypedResults.Ok(new ShopStatusResponse(stored.IsOpen,
            stored.IsOpen ? "Shop is now open: customers see it as open." : "Shop is now closed: customers see it as closed."));
    }

    public static async Task<Results<Ok<ShopHeartbeatResponse>, ErrorResult>> Heartbeat(
        PrintSession session, ShopPresence presence, CancellationToken cancellationToken)
    {
        var stored = await presence.HeartbeatAsync(session.Profile, cancellationToken);
        return stored is null ? ApiErrors.Result(PrintSessionMiddleware.SessionEnded) : TypedResults.Ok(new ShopHeartbeatResponse(true, stored.IsOpen));
    }

    public static ShopView View(NearbyShop found) => new(found.Shop.ShopId, found.Shop.Username, found.Shop.ShopName, found.Shop.Lat,
        found.Shop.Long, Math.Round(found.DistanceKm, 2, MidpointRounding.AwayFromZero), found.Shop.IsOpen, found.Shop.Address);

    private static ErrorResult? Coordinate(double? value, string field, double max) => value switch
    {
        null => Invalid($"'{field}' is required."),
        { } v when !double.IsFinite(v) || v < -max || v > max => Invalid($"'{field}' must be between {-max} and {max}."),
        _ => null,
    };

    private static ErrorResult Invalid(string message) => ApiErrors.BadRequest(message, "validation_error");
}

/// <summary>Registers the shop index, shop presence and the stale-shop sweeper.</summary>
public static class ShopsRegistration
{
    public static IServiceCollection AddPrintShops(this IServiceCollection services)
    {
        services.AddStorage(s => s.Table(ShopKeys.TableName));
        services.AddSingleton<ShopSettings>();
        services.AddSingleton<Platform.IValidatedSettings>(sp => sp.GetRequiredService<ShopSettings>());
        services.AddSingleton<ShopIndex>();
        services.AddSingleton<IPrintProfileListener>(sp => sp.GetRequiredService<ShopIndex>());
        services.AddSingleton<IPrintAccountCleanup>(sp => sp.GetRequiredService<ShopIndex>());
        services.AddSingleton<ShopPresence>();
        services.AddTimerTrigger(ShopPresence.SweepFunction, ShopPresence.SweepSchedule, invocation =>
            invocation.Services.GetRequiredService<ShopPresence>().SweepAsync(invocation.CancellationToken));
        return services;
    }
}
