using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serverless.Checkout.Rates;
using Serverless.Platform.Hosting;
using Serverless.Tests.Infrastructure;
using Serverless.Tests.Platform.Email;

namespace Serverless.Tests.Checkout.Rates;

/// <summary>The app with its market rate feed pointed at a <see cref="FakeRateFeed"/> on loopback, with an API key.</summary>
public class MarketRatesFactory : PlatformFactory
{
    public const string ApiKey = "rates-test-key-0123456789";

    public FakeRateFeed Feed { get; } = new();

    public LogCapture Logs { get; } = new();

    /// <summary>Where the app fetches from; the fake feed unless a subclass says otherwise.</summary>
    protected virtual string FeedUrl => Feed.Url + "/latest?base=BRL";

    public override async Task InitializeAsync()
    {
        await Feed.StartAsync();
        With("Checkout:MarketRatesUrl", FeedUrl);
        With("Checkout:MarketRatesApiKey", ApiKey);
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Feed.DisposeAsync();
    }

    protected override void ConfigureTestServices(IServiceCollection services) => services.AddSingleton<ILoggerProvider>(Logs);

    public MarketRates Rates => Get<MarketRates>();

    /// <summary>Runs the CheckoutMarketRates timer once, as the pump or the Functions host would.</summary>
    public Task RefreshAsync() =>
        Get<TriggerInvoker>().InvokeAsync(Get<TriggerRegistry>().FindTimer(MarketRatesRefresh.FunctionName)!, Time.GetUtcNow(), false, CancellationToken.None);

    /// <summary>The warnings the refresh logged.</summary>
    public List<string> Warnings() =>
        Logs.Entries.Where(e => e.Level == LogLevel.Warning && e.Category == typeof(MarketRatesRefresh).FullName).Select(e => e.Message).ToList();
}

/// <summary>The feed is configured at an address where nothing listens: every connection is refused.</summary>
public sealed class UnreachableFeedFactory : MarketRatesFactory
{
    private readonly int _closedPort = Azurite.FreePort();

    protected override string FeedUrl => $"http://127.0.0.1:{_closedPort}/latest";
}
