using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Serverless.Platform.Http;
using Serverless.Print.Accounts;

namespace Serverless.Print.Notifications;

/// <summary>The body of <c>POST /devices</c>: <c>fcm_token</c> is 1 to 4096 printable ASCII characters without spaces.</summary>
public sealed record RegisterDeviceRequest(
    [property: JsonPropertyName("fcm_token"), Required, StringLength(PrintDevices.MaxTokenLength, MinimumLength = 1), RegularExpression(PrintDevices.TokenPattern)] string? FcmToken);

public sealed record DeviceResponse(
    [property: JsonPropertyName("fcm_token")] string FcmToken,
    [property: JsonPropertyName("registered_at")] string RegisteredAt);

/// <summary>
/// The devices that receive a signed-in user's push notifications (the document's "the customer receives an FCM
/// notification" needs them): <c>POST /devices</c>, <c>GET /devices</c>, <c>DELETE /devices/{token}</c>. A user reaches
/// only their own devices: another user's token answers 404.
/// </summary>
public static class DevicesApi
{
    public static void MapPrintDevices(this IEndpointRouteBuilder app)
    {
        var devices = app.MapGroup("/devices").WithTags("Print-shop notifications").WithErrorShape(PrintErrorShape.Instance)
            .RequireAuthorization(PrintAuth.UserPolicy).WithMetadata(PrintAuth.OpenApiSecurity).WithMetadata(PrintAccountRequired.Instance).RequireRateLimiting(RateLimitPolicies.PerCaller);
        devices.MapPost("/", Register).WithName("PrintRegisterDevice")
            .WithSummary($"Register this device's FCM token for push notifications (idempotent; the newest {PrintDevices.MaxPerUser} devices are kept)");
        devices.MapGet("/", List).WithName("PrintListDevices").WithSummary("The caller's registered devices, newest first");
        devices.MapDelete("/{token}", Remove).WithName("PrintRemoveDevice").WithSummary("Stop push notifications to this FCM token");
    }

    public static async Task<Results<Created<DeviceResponse>, Ok<DeviceResponse>, ErrorResult>> Register(
        RegisterDeviceRequest? body, PrintSession session, PrintDevices devices, CancellationToken cancellationToken)
    {
        if (!PrintDevices.IsToken(body?.FcmToken))
            return InvalidToken("fcm_token");
        var registration = await devices.RegisterAsync(session.UserId, body!.FcmToken!, cancellationToken);
        var view = View(registration.Device);
        return registration.Created ? TypedResults.Created("/devices", view) : TypedResults.Ok(view);
    }

    public static async Task<Ok<List<DeviceResponse>>> List(PrintSession session, PrintDevices devices, CancellationToken cancellationToken) =>
        TypedResults.Ok((await devices.ListAsync(session.UserId, cancellationToken)).Select(View).ToList());

    public static async Task<Results<NoContent, ErrorResult>> Remove(
        [StringLength(PrintDevices.MaxTokenLength, MinimumLength = 1), RegularExpression(PrintDevices.TokenPattern)] string token, PrintSession session, PrintDevices devices,
        CancellationToken cancellationToken)
    {
        if (!PrintDevices.IsToken(token))
            return InvalidToken("token");
        return await devices.RemoveAsync(session.UserId, token, cancellationToken)
            ? TypedResults.NoContent()
            : ApiErrors.NotFound("No such device is registered to this account.");
    }

    private static DeviceResponse View(DeviceRow row) => new(row.FcmToken, PrintTimes.Format(row.RegisteredAt));

    private static ErrorResult InvalidToken(string field) => ApiErrors.BadRequest(
        $"'{field}' must be an FCM registration token: 1 to {PrintDevices.MaxTokenLength} printable characters without spaces.", "validation_error");
}
