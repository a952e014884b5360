using Cronos;
using Microsoft.Extensions.Options;
using Serverless.Platform;

namespace Serverless.Checkout.Rates;

/// <summary>
/// Where the checkout's market rates come from, section <c>Checkout</c> (<c>Checkout__MarketRatesUrl</c> etc. in app
/// settings). Built at start-up through <see cref="IValidatedSettings"/>, so a bad value stops the app with one line.
/// </summary>
public sealed class MarketRatesOptions : IValidatedSettings
{
    public const string Section = "Checkout";
    public const string DefaultSchedule = "0 */5 * * * *";

    /// <summary>
    /// The rate feed: a GET answering <c>{"base":"BRL","rates":{"USD":0.19,...}}</c> (the Open Exchange Rates and
    /// Frankfurter shape), query included. Empty: the fixed development table; required in Production.
    /// </summary>
    public string MarketRatesUrl { get; set; } = "";

    /// <summary>Secret, optional: sent as <c>Authorization: Bearer &lt;key&gt;</c> when set. Never logged.</summary>
    public string MarketRatesApiKey { get; set; } = "";

    /// <summary>When the rates are fetched: a 6-field NCRONTAB expression (seconds first, UTC).</summary>
    public string MarketRatesSchedule { get; set; } = DefaultSchedule;

    /// <summary>How long one fetch may take, whole answer included.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long an instance answers from memory before it reads the stored rates again: a fetch every five minutes
    /// makes fresher reads pointless, and a request then costs no storage request at all.
    /// </summary>
    public static readonly TimeSpan CacheDuration = TimeSpan.FromSeconds(60);

    /// <summary>A source is configured: the fixed table is never used, and rates come from the source only.</summary>
    public bool HasSource => !string.IsNullOrWhiteSpace(MarketRatesUrl);

    /// <summary>
    /// The schedule the timer is registered with, straight from configuration: the function folders are written
    /// (at packaging) without the validation that needs the deployment's settings. A bad value never gets this far
    /// when the app starts, because <see cref="MarketRatesOptionsValidation"/> stops it first.
    /// </summary>
    internal static string ScheduleFrom(IConfiguration configuration)
    {
        var schedule = configuration[$"{Section}:{nameof(MarketRatesSchedule)}"];
        return IsSchedule(schedule) ? schedule!.Trim() : DefaultSchedule;
    }

    internal static bool IsSchedule(string? schedule)
    {
        if (string.IsNullOrWhiteSpace(schedule) || schedule.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries).Length != 6)
            return false;
        try
        {
            CronExpression.Parse(schedule.Trim(), CronFormat.IncludeSeconds);
            return true;
        }
        catch (CronFormatException)
        {
            return false;
        }
    }
}

/// <summary>
/// Checks <see cref="MarketRatesOptions"/> against the environment: Production needs a source, and a source outside
/// Development and Testing must be https (its answers set prices, and its key travels with the request).
/// </summary>
internal sealed class MarketRatesOptionsValidation(IHostEnvironment environment) : IValidateOptions<MarketRatesOptions>
{
    public ValidateOptionsResult Validate(string? name, MarketRatesOptions options)
    {
        var failures = new List<string>();
        if (!options.HasSource)
        {
            if (environment.IsProduction())
                failures.Add("Checkout__MarketRatesUrl must be set in Production (an https URL of the market rate feed).");
        }
        else
        {
            var allowHttp = environment.IsDevelopment() || environment.IsEnvironment("Testing");
            if (!Uri.TryCreate(options.MarketRatesUrl.Trim(), UriKind.Absolute, out var uri)
                || !(uri.Scheme == Uri.UriSchemeHttps || (allowHttp && uri.Scheme == Uri.UriSchemeHttp)))
                failures.Add(allowHttp
                    ? "Checkout__MarketRatesUrl must be an absolute http(s) URL."
                    : "Checkout__MarketRatesUrl must be an absolute https URL.");
        }
        if (options.MarketRatesApiKey.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            failures.Add("Checkout__MarketRatesApiKey must not contain spaces or control characters.");
        if (!MarketRatesOptions.IsSchedule(options.MarketRatesSchedule))
            failures.Add("Checkout__MarketRatesSchedule must be a 6-field NCRONTAB expression (seconds first), such as 0 */5 * * * *.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
