using System.Net.Mail;
using Serverless.Platform.Hosting;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Email;

/// <summary>Email settings. The provider's are top-level names, as Azure and Resend's own docs spell them.</summary>
public sealed class EmailOptions
{
    public const string ApiKeySetting = "RESEND_API_KEY";
    public const string FromSetting = "EMAIL_FROM";
    public const string BaseUrlSetting = "Resend:BaseUrl";
    public const string DefaultBaseUrl = "https://api.resend.com";

    /// <summary>Resend API key; empty means no provider: emails go to the development outbox.</summary>
    public string? ApiKey { get; set; }

    /// <summary>The sender, <c>Name &lt;address&gt;</c> or a bare address on a domain verified with Resend.</summary>
    public string From { get; set; } = "";

    public string ResendBaseUrl { get; set; } = DefaultBaseUrl;

    public bool UsesProvider => !string.IsNullOrWhiteSpace(ApiKey);
}

public static class EmailRegistration
{
    /// <summary>Email for every surface: <see cref="Mailer"/> to send, the <c>SendEmail</c> queue function, <see cref="Outbox"/>.</summary>
    public static IServiceCollection AddEmail(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddStorage(s => s.Table(EmailStore.TableName));
        services.AddOptions<EmailOptions>()
            .Configure(o =>
            {
                o.ApiKey = configuration[EmailOptions.ApiKeySetting]?.Trim();
                o.From = configuration[EmailOptions.FromSetting]?.Trim() ?? "";
                o.ResendBaseUrl = configuration[EmailOptions.BaseUrlSetting] is { Length: > 0 } url ? url : EmailOptions.DefaultBaseUrl;
            })
            .Validate(o => !o.UsesProvider || MailAddress.TryCreate(o.From, out _),
                $"{EmailOptions.FromSetting} must be set to the sender (e.g. 'Shop <no-reply@your-domain>') when {EmailOptions.ApiKeySetting} is set.")
            .Validate(o => Uri.TryCreate(o.ResendBaseUrl, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http",
                "Resend__BaseUrl must be an absolute http(s) URL.")
            .ValidateOnStart();
        services.AddHttpClient(ResendClient.HttpClientName, (sp, client) =>
        {
            var baseUrl = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<EmailOptions>>().Value.ResendBaseUrl;
            client.BaseAddress = new Uri(baseUrl.TrimEnd('/') + "/");
            client.Timeout = ResendClient.Timeout;
        });
        services.AddSingleton<EmailStore>();
        services.AddSingleton<Mailer>();
        services.AddSingleton<ResendClient>();
        services.AddSingleton<EmailDelivery>();
        services.AddSingleton<Outbox>();
        services.AddQueueTrigger(EmailDelivery.FunctionName, Mailer.QueueName, EmailDelivery.HandleAsync);
        return services;
    }
}
