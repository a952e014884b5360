namespace Serverless.Platform.Hosting;

/// <summary>
/// How the process was started: by the Azure Functions host as a custom handler, or on its own.
/// The host tells us by setting FUNCTIONS_CUSTOMHANDLER_PORT.
/// </summary>
public sealed record HostingMode(int? CustomHandlerPort)
{
    public const string PortVariable = "FUNCTIONS_CUSTOMHANDLER_PORT";

    public bool IsFunctionsHost => CustomHandlerPort is not null;

    public bool IsStandalone => !IsFunctionsHost;

    public static HostingMode From(IConfiguration configuration)
    {
        var raw = configuration[PortVariable];
        if (string.IsNullOrWhiteSpace(raw))
            return new HostingMode((int?)null);
        if (!int.TryParse(raw, out var port) || port is <= 0 or > 65535)
            throw new InvalidOperationException($"{PortVariable} must be a TCP port number, got '{raw}'.");
        return new HostingMode(port);
    }
}
