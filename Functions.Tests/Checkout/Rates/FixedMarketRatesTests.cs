using Serverless.Checkout.Rates;
using Serverless.Platform.Hosting;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Checkout.Rates;

/// <summary>Without a feed (development, tests): the document's table, and a timer that has nothing to do.</summary>
public sealed class FixedMarketRatesTests(PlatformFactory app) : IClassFixture<PlatformFactory>
{
    [Fact]
    public async Task Without_a_feed_requests_get_the_documents_table()
    {
        var current = await app.Get<MarketRates>().CurrentAsync(CancellationToken.None);

        Assert.Equal("BRL", current.Base);
        Assert.Equal(FixedMarketRates.AsOf, current.AsOf);
        Assert.Equal(
            ["BRL", "USD", "EUR", "JPY", "BTC", "ETH", "XLM", "XRP", "BNB", "MDA", "CELO", "HTR", "ADA", "AVAX", "MATIC", "SOL"],
            current.Rates.Keys);
        Assert.Equal("1.00", current.Rates["BRL"]);
        Assert.Equal("0.19", current.Rates["USD"]);
        Assert.Equal("0.00000791", current.Rates["BTC"]);
        Assert.Equal("0.009048964", current.Rates["SOL"]);
    }

    [Fact]
    public async Task Without_a_feed_the_timer_does_nothing_and_stores_nothing()
    {
        var timer = app.Get<TriggerRegistry>().FindTimer(MarketRatesRefresh.FunctionName)!;

        await app.Get<TriggerInvoker>().InvokeAsync(timer, app.Time.GetUtcNow(), false, CancellationToken.None);

        Assert.Null(await app.Get<MarketRates>().ReadAsync(CancellationToken.None));
    }
}
