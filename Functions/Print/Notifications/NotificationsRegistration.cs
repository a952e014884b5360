using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Serverless.Platform.Email;
using Serverless.Platform.Http;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;

namespace Serverless.Print.Notifications;

public static class NotificationsRegistration
{
    /// <summary>
    /// Devices, <see cref="PrintNotifications"/>, and the push sender: <see cref="FcmClient"/> when <c>Print:Fcm</c> is
    /// configured (checked at start-up), else the development <see cref="PushOutbox"/>.
    /// </summary>
    public static IServiceCollection AddPrintNotifications(this IServiceCollection services)
    {
        services.AddStorage(s => s.Table(PushOutbox.TableName));
        services.AddOptions<FcmOptions>()
            .BindConfiguration(FcmOptions.Section)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<FcmOptions>, FcmOptionsValidation>();
        services.AddSingleton<Platform.IValidatedSettings>(sp => sp.GetRequiredService<IOptions<FcmOptions>>().Value);
        services.AddSingleton<PrintDevices>();
        services.AddSingleton<IPrintAccountCleanup>(sp => sp.GetRequiredService<PrintDevices>());
        services.AddSingleton<PushOutbox>();
        services.AddSingleton<FcmClient>();
        services.AddSingleton<IPushSender>(sp => sp.GetRequiredService<IOptions<FcmOptions>>().Value.IsConfigured
            ? sp.GetRequiredService<FcmClient>()
            : sp.GetRequiredService<PushOutbox>());
        services.AddSingleton<PrintNotifications>();

        // Google.Apis.Auth follows redirects and decompresses itself: the handler it is given must do neither.
        services.AddHttpClient(FcmClient.TokenHttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = System.Net.DecompressionMethods.None });
        services.AddHttpClient(FcmClient.HttpClientName, (sp, client) =>
            {
                client.BaseAddress = new Uri(sp.GetRequiredService<IOptions<FcmOptions>>().Value.BaseUrl.TrimEnd('/') + "/");
                // Each attempt has its own timeout in the pipeline below; the whole call ends with the caller's token.
                client.Timeout = Timeout.InfiniteTimeSpan;
            })
            .AddResilienceHandler("fcm", (pipeline, context) =>
            {
                var o = context.ServiceProvider.GetRequiredService<IOptions<FcmOptions>>().Value;
                // A network wait is wall-clock time, whatever clock the app's business rules run on.
                pipeline.TimeProvider = TimeProvider.System;
                if (o.Retries > 0)
                    pipeline.AddRetry(new HttpRetryStrategyOptions
                    {
                        MaxRetryAttempts = o.Retries,
                        Delay = o.RetryDelay,
                        BackoffType = DelayBackoffType.Exponential,
                        UseJitter = true,
                        // FCM may ask for minutes; the caller's own retry (the outbox) comes back later instead.
                        ShouldRetryAfterHeader = false,
                        // 5xx, 408, 429, network errors and attempt timeouts. A repeat may notify twice: accepted, FCM has no key.
                        ShouldHandle = args => ValueTask.FromResult(
                            !args.Context.CancellationToken.IsCancellationRequested && HttpClientResiliencePredicates.IsTransient(args.Outcome)),
                    });
                pipeline.AddTimeout(o.Timeout);
            });
        return services;
    }

    /// <summary>The device routes, and the development push outbox where development outboxes are served.</summary>
    public static void MapPrintNotifications(this IEndpointRouteBuilder app)
    {
        app.MapPrintDevices();
        if (EmailApi.ExposesOutbox(app.ServiceProvider))
            app.MapGroup("/dev").WithTags("Development").MapGet("/outbox/push", ListPushOutbox).WithName("DevPushOutbox")
                .WithSummary("Pushes kept instead of sent (no FCM settings), newest first")
                .WithDescription("Lists the push notifications kept instead of sent while no FCM settings are configured, newest first: at most " +
                    "`limit` (1 to 100, default 20), only those for the account `user_id` when it is given. Served only where " +
                    "development outboxes are (by default in Development), and needs no token. 400 `validation_error` when `limit` " +
                    "is out of range.");
    }

    public static async Task<Results<Ok<IReadOnlyList<OutboxPushResponse>>, ErrorResult>> ListPushOutbox(
        [FromQuery(Name = "user_id")] long? userId, [System.ComponentModel.DataAnnotations.Range(1, PushOutbox.MaxLimit)] int? limit, PushOutbox outbox, CancellationToken cancellationToken)
    {
        if (Check.Range(limit ?? PushOutbox.DefaultLimit, "limit", 1, PushOutbox.MaxLimit) is { } problem)
            return problem;
        return TypedResults.Ok(await outbox.ListAsync(userId, limit ?? PushOutbox.DefaultLimit, cancellationToken));
    }
}

/// <summary>Start-up names the exact problem with the FCM settings.</summary>
public sealed class FcmOptionsValidation : IValidateOptions<FcmOptions>
{
    public ValidateOptionsResult Validate(string? name, FcmOptions options) =>
        options.Problem() is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
}
