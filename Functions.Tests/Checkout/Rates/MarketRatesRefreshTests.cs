using Azure.Data.Tables;
using Serverless.Checkout.Rates;
using Serverless.Platform.Hosting;
using Serverless.Platform.Storage;

namespace Serverless.Tests.Checkout.Rates;

/// <summary>The CheckoutMarketRates timer against a fake feed on loopback, and requests reading what it stored.</summary>
public sealed class MarketRatesRefreshTests(MarketRatesFactory app) : IClassFixture<MarketRatesFactory>
{
    /// <summary>Stores a good table whose USD rate is <paramref name="usd"/> through the timer, as the starting point of a test.</summary>
    private async Task<MarketRatesSnapshot> RefreshWithAsync(string usd)
    {
        app.Feed.Status = 200;
        app.Feed.Abort = false;
        app.Feed.Body = FakeRateFeed.Feed("BRL", ("BRL", "1"), ("USD", usd), ("BTC", "\"0.00000791\""), ("EUR", "0.17"));
        await app.RefreshAsync();
        var current = await app.Rates.CurrentAsync(CancellationToken.None);
        Assert.Equal(usd, current.Rates["USD"]);
        return current;
    }

    private TableClient Table => app.Get<StorageAccount>().Table(MarketRates.TableName);

    [Fact]
    public void The_timer_runs_every_five_minutes_by_default()
    {
        var timer = app.Get<TriggerRegistry>().FindTimer(MarketRatesRefresh.FunctionName);

        Assert.NotNull(timer);
        Assert.Equal("0 */5 * * * *", timer.Schedule);
    }

    [Fact]
    public async Task The_timer_fetches_the_feed_with_the_api_key_and_stores_the_rates()
    {
        app.Feed.Calls.Clear();
        app.Logs.Entries.Clear();
        app.Feed.Status = 200;
        app.Feed.Abort = false;
        app.Feed.Body = FakeRateFeed.Feed("BRL", ("USD", "0.19"), ("BTC", "\"0.00000791\""), ("ETH", "1.1354e-4"), ("ZZZ", "3"), ("AAA", "2"));

        await app.RefreshAsync();

        var call = Assert.Single(app.Feed.Calls);
        Assert.Equal("/latest?base=BRL", call.PathAndQuery);
        Assert.Equal("Bearer " + MarketRatesFactory.ApiKey, call.Authorization);
        var row = (await Table.GetEntityAsync<MarketRatesRow>(MarketRatesRow.Partition, MarketRatesRow.Latest)).Value;
        Assert.Equal("BRL", row.Base);
        Assert.Equal(app.Time.GetUtcNow(), row.AsOf);
        // The base's own rate is added when the feed leaves it out; the document's codes first, then the rest in ordinal order.
        Assert.Equal("""{"BRL":"1","USD":"0.19","BTC":"0.00000791","ETH":"0.00011354","AAA":"2","ZZZ":"3"}""", row.RatesJson);
        Assert.Empty(app.Warnings());
    }

    [Fact]
    public async Task Requests_read_the_stored_rates_without_contacting_the_feed_or_storage()
    {
        var stored = await RefreshWithAsync("0.21");
        app.Feed.Calls.Clear();

        using var meter = StorageMeter.Begin();
        var current = await app.Rates.CurrentAsync(CancellationToken.None);

        Assert.Empty(app.Feed.Calls);
        Assert.Equal(0, meter.Meter.Count);
        Assert.Equal("BRL", current.Base);
        Assert.Equal(["BRL", "USD", "EUR", "BTC"], current.Rates.Keys);
        Assert.Equal(["1", "0.21", "0.17", "0.00000791"], current.Rates.Values);
        Assert.Equal(stored.AsOf, current.AsOf);
    }

    [Fact]
    public async Task Rates_another_instance_stored_are_seen_once_the_cached_ones_are_a_minute_old()
    {
        await RefreshWithAsync("0.19");
        // Another instance's timer stores newer rates.
        var newer = new MarketRatesSnapshot("BRL", MarketRateTable.Ordered([new("BRL", "1"), new("USD", "0.25")]), app.Time.GetUtcNow());
        await Table.UpsertEntityAsync(MarketRatesRow.From(newer), TableUpdateMode.Replace);

        app.Time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal("0.19", (await app.Rates.CurrentAsync(CancellationToken.None)).Rates["USD"]);

        app.Time.Advance(TimeSpan.FromSeconds(1));
        using var meter = StorageMeter.Begin();
        var current = await app.Rates.CurrentAsync(CancellationToken.None);

        Assert.Equal("0.25", current.Rates["USD"]);
        Assert.Equal(1, meter.Meter.Count);
    }

    public static TheoryData<string, int, string, string> BadAnswers => new()
    {
        { "a server error", 500, FakeRateFeed.Feed("BRL", ("USD", "0.5")), "answered 500" },
        { "a body that is not JSON", 200, "<html>rate limit</html>", "not JSON" },
        { "a body cut short", 200, """{"base":"BRL","rates":{"USD":0.5""", "not JSON" },
        { "no rates object", 200, """{"base":"BRL","data":{"USD":0.5}}""", "no \"base\" string and \"rates\" object" },
        { "a lower-case base", 200, FakeRateFeed.Feed("brl", ("USD", "0.5")), "base that is not" },
        { "a lower-case code", 200, FakeRateFeed.Feed("BRL", ("usd", "0.5")), "code that is not" },
        { "a one-letter code", 200, FakeRateFeed.Feed("BRL", ("U", "0.5")), "code that is not" },
        { "a negative rate", 200, FakeRateFeed.Feed("BRL", ("USD", "-0.5")), "rate for USD that is not a positive decimal" },
        { "a zero rate", 200, FakeRateFeed.Feed("BRL", ("USD", "0")), "rate for USD that is not a positive decimal" },
        { "a zero rate as a string", 200, FakeRateFeed.Feed("BRL", ("USD", "\"0.00\"")), "rate for USD that is not a positive decimal" },
        { "a rate that is not a number", 200, FakeRateFeed.Feed("BRL", ("USD", "\"NaN\"")), "rate for USD that is not a positive decimal" },
        { "a null rate", 200, FakeRateFeed.Feed("BRL", ("USD", "null")), "rate for USD that is not a positive decimal" },
        { "a rate too large for a decimal", 200, FakeRateFeed.Feed("BRL", ("USD", "1e400")), "rate for USD that is not a positive decimal" },
        { "a base rate other than one", 200, FakeRateFeed.Feed("BRL", ("BRL", "2"), ("USD", "0.5")), "rate of 2 for its own base BRL" },
        { "no rates at all", 200, FakeRateFeed.Feed("BRL"), "sent no rates" },
        {
            "more than 500 rates", 200,
            FakeRateFeed.Feed("BRL", Enumerable.Range(0, 501).Select(i => ($"C{i:D3}", "1.5")).ToArray()), "more than 500 rates"
        },
        { "a body over 1 MB", 200, FakeRateFeed.Feed("BRL", ("USD", "0.5")) + new string(' ', 1024 * 1024), "body over 1 MB" },
    };

    [Theory]
    [MemberData(nameof(BadAnswers))]
    public async Task A_bad_answer_from_the_feed_logs_one_warning_and_keeps_the_last_good_rates(string answer, int status, string body, string reason)
    {
        var good = await RefreshWithAsync("0.19");
        app.Logs.Entries.Clear();
        app.Feed.Status = status;
        app.Feed.Body = body;

        await app.RefreshAsync();

        var warning = Assert.Single(app.Warnings());
        Assert.Contains(reason, warning);
        Assert.Contains("127.0.0.1", warning);
        Assert.DoesNotContain("base=BRL", warning);
        // Past the cache, read again from storage: still the good rates.
        app.Time.Advance(TimeSpan.FromMinutes(2));
        var current = await app.Rates.CurrentAsync(CancellationToken.None);
        Assert.True(good.Rates.SequenceEqual(current.Rates), answer);
        Assert.Equal(good.AsOf, current.AsOf);
    }

    [Fact]
    public async Task A_dropped_connection_logs_one_warning_and_keeps_the_last_good_rates()
    {
        var good = await RefreshWithAsync("0.18");
        app.Logs.Entries.Clear();
        app.Feed.Abort = true;

        await app.RefreshAsync();

        Assert.Contains("could not be reached", Assert.Single(app.Warnings()));
        app.Time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(good.Rates, (await app.Rates.CurrentAsync(CancellationToken.None)).Rates);
        app.Feed.Abort = false;
    }

    [Fact]
    public async Task A_good_answer_after_a_bad_one_replaces_the_rates()
    {
        await RefreshWithAsync("0.19");
        app.Feed.Status = 500;
        await app.RefreshAsync();

        await RefreshWithAsync("0.20");

        app.Time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal("0.20", (await app.Rates.CurrentAsync(CancellationToken.None)).Rates["USD"]);
    }
}

/// <summary>A configured feed that was never reached: requests are refused rather than priced on made-up rates.</summary>
public sealed class UnreachableFeedTests(UnreachableFeedFactory app) : IClassFixture<UnreachableFeedFactory>
{
    [Fact]
    public async Task A_refused_connection_logs_one_warning_and_requests_get_no_rates_until_a_fetch_succeeds()
    {
        await app.RefreshAsync();

        Assert.Contains("could not be reached", Assert.Single(app.Warnings()));
        Assert.DoesNotContain(MarketRatesFactory.ApiKey, Assert.Single(app.Warnings()));
        var refused = await Assert.ThrowsAsync<MarketRatesUnavailableException>(() => app.Rates.CurrentAsync(CancellationToken.None));
        Assert.Contains("Checkout__MarketRatesUrl", refused.Message);
    }
}
