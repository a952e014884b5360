using Microsoft.Extensions.Options;

namespace Serverless.Checkout.Rates;

/// <summary>
/// The <c>CheckoutMarketRates</c> timer's work: fetch the feed and store what it sent. Safe to repeat and to skip:
/// a failed or unusable fetch logs one warning and leaves the last good rates in place for the next run to replace.
/// </summary>
public sealed class MarketRatesRefresh(MarketRatesSource source, MarketRates rates, IOptions<MarketRatesOptions> options,
    ILogger<MarketRatesRefresh> logger)
{
    public const string FunctionName = "CheckoutMarketRates";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!settings.HasSource)
            return;
        MarketRatesSnapshot snapshot;
        try
        {
            snapshot = await source.FetchAsync(cancellationToken);
        }
        catch (MarketRatesSourceException ex)
        {
            // The host only: the URL's query may carry the feed's key.
            logger.LogWarning("Market rates not refreshed: the feed at {Host} {Reason}; the last stored rates stay in use.",
                new Uri(settings.MarketRatesUrl.Trim()).Host, ex.Message);
            return;
        }
        await rates.StoreAsync(snapshot, cancellationToken);
        logger.LogInformation("Market rates refreshed: {Count} rates on base {Base}.", snapshot.Rates.Count, snapshot.Base);
    }
}
