namespace Serverless.Platform.Hosting;

/// <summary>
/// A development-only feature (the email outbox, the webhook inbox) is on when its setting says so, and when the
/// setting is empty, in Development only. Off, its routes are not mapped at all: neither served nor packaged.
/// </summary>
public static class DevelopmentSwitch
{
    public static bool IsOn(IConfiguration configuration, IHostEnvironment environment, string setting) =>
        string.IsNullOrWhiteSpace(configuration[setting]) ? environment.IsDevelopment() : configuration.GetValue<bool>(setting);

    public static bool IsOn(IServiceProvider services, string setting) =>
        IsOn(services.GetRequiredService<IConfiguration>(), services.GetRequiredService<IHostEnvironment>(), setting);
}
