using Serverless.Platform.Hosting;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Webhooks;

public static class WebhookRegistration
{
    /// <summary>
    /// The outbound webhook mechanism: its table, the <c>webhooks</c> queue and its <c>WebhookDelivery</c> function,
    /// the Standard Webhooks and body-HMAC signers, the SSRF guard and the guarded HTTP client; where
    /// <c>Webhooks:ExposeInbox</c> is on, the development inbox and its table.
    /// </summary>
    public static IServiceCollection AddWebhooks(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        services.AddOptions<WebhookOptions>().Bind(configuration.GetSection(WebhookOptions.Section))
            .PostConfigure<IHostEnvironment>((o, environment) =>
                o.AllowHttp ??= environment.IsDevelopment() || environment.IsEnvironment("Testing"))
            .Validate(o => o.RequestTimeout > TimeSpan.Zero && o.MaxVisibilityDelay >= TimeSpan.Zero,
                "Webhooks__RequestTimeout must be positive and Webhooks__MaxVisibilityDelay not negative.");
        services.AddStorage(s => s.Table(WebhookKeys.TableName));
        services.AddSingleton<IWebhookSigner, StandardWebhooksSigner>();
        services.AddSingleton<IWebhookSigner, BodyHmacSigner>();
        services.AddSingleton<WebhookSigners>();
        services.AddSingleton<WebhookTargetGuard>();
        services.AddSingleton<WebhookEndpoints>();
        services.AddSingleton<WebhookQueue>();
        services.AddSingleton<WebhookPublisher>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<IOutboxChannel, WebhookOutboxChannel>();
        services.AddHttpClient(WebhookSender.HttpClientName, client =>
            {
                client.Timeout = Timeout.InfiniteTimeSpan; // the sender applies Webhooks:RequestTimeout to the whole attempt
                client.DefaultRequestHeaders.UserAgent.ParseAdd("serverless-webhooks/1.0");
            })
            .ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<WebhookTargetGuard>().CreateHandler())
            // The factory's loggers write a failed request with its stack trace; the sender logs each attempt in one line.
            .RemoveAllLoggers();
        if (DevelopmentSwitch.IsOn(configuration, environment, WebhookInbox.ExposeSetting))
        {
            services.AddStorage(s => s.Table(WebhookInbox.TableName));
            services.AddSingleton<WebhookInbox>();
        }
        services.AddQueueTrigger(WebhookSender.FunctionName, WebhookKeys.QueueName, WebhookSender.HandleAsync);
        return services;
    }
}
