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
            .WithSummary($"Register this device's FCM token for push notifications (idempotent; the newest {PrintDevices.MaxPerUser} devices are kept)")
            .WithDescription("Registers this device's FCM token so that the signed-in user's push notifications reach it: 201 with the " +
                "device when the token is new to the account, 200 with the existing registration when it was registered before " +
                "(a repeat changes nothing). An account keeps its newest 10 devices: registering another drops the oldest. Any " +
                "signed-in print-shop account, with the bearer token or the sign-in cookie (the sign-in cookie also needs the " +
                "`X-CSRF-Token` header: 403 `csrf_token_invalid` without it). 400 `validation_error` when `fcm_token` is " +
                "missing or not 1 to 4096 printable characters without spaces; 401 without a valid session.");
        devices.MapGet("/", List).WithName("PrintListDevices").WithSummary("The caller's registered devices, newest first")
            .WithDescription("Lists the signed-in account's registered devices (at most 10), newest registration first, each with its FCM " +
                "token and when it was registered. Any signed-in print-shop account, with the bearer token or the sign-in " +
                "cookie. 401 without a valid session.");
        devices.MapDelete("/{token}", Remove).WithName("PrintRemoveDevice").ProducesErrors(StatusCodes.Status400BadRequest).WithSummary("Stop push notifications to this FCM token")
            .WithDescription("Forgets the signed-in account's device with this FCM token (URL-encoded in the path), so that it gets no more " +
                "push notifications; 204 with no body. Any signed-in print-shop account, with the bearer token or the sign-in " +
                "cookie (the sign-in cookie also needs the `X-CSRF-Token` header: 403 `csrf_token_invalid` without it). 400 " +
                "`validation_error` when the token is not 1 to 4096 printable characters without spaces; 401 without a valid " +
                "session; 404 when this account has no such device (another account's token included).");
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
