using Microsoft.Extensions.Options;
using Serverless.Platform;
using Serverless.Platform.Hosting;
using Serverless.Platform.Storage;

namespace Serverless.Checkout.Rates;

public static class MarketRatesRegistration
{
    /// <summary>
    /// The checkout's market rates: <see cref="MarketRates"/> for requests, the <c>CheckoutMarketRates</c> timer that
    /// refreshes them from the feed, its typed HttpClient, its table, and its settings (checked at start-up).
    /// </summary>
    public static IServiceCollection AddCheckoutMarketRates(this IServiceCollection services)
    {
        services.AddStorage(s => s.Table(MarketRates.TableName));
        services.AddOptions<MarketRatesOptions>().BindConfiguration(MarketRatesOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MarketRatesOptions>, MarketRatesOptionsValidation>();
        services.AddSingleton<IValidatedSettings>(sp => sp.GetRequiredService<IOptions<MarketRatesOptions>>().Value);
        services.AddSingleton<MarketRates>();
        services.AddHttpClient<MarketRatesSource>(client =>
        {
            // The source's own deadline covers the whole exchange, body included.
            client.Timeout = Timeout.InfiniteTimeSpan;
            client.MaxResponseContentBufferSize = MarketRatesSource.MaxBodyBytes;
        });
        services.AddTransient<MarketRatesRefresh>();
        services.AddSingleton(sp => new TimerTrigger(MarketRatesRefresh.FunctionName,
            MarketRatesOptions.ScheduleFrom(sp.GetRequiredService<IConfiguration>()),
            invocation => invocation.Services.GetRequiredService<MarketRatesRefresh>().RunAsync(invocation.CancellationToken)));
        return services;
    }
}
