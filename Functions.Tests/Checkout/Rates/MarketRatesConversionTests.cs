using Serverless.Checkout.Rates;

namespace Serverless.Tests.Checkout.Rates;

/// <summary>Converting amounts through a rate table: amount / rate[from] × rate[to].</summary>
public sealed class MarketRatesConversionTests
{
    private static readonly MarketRatesSnapshot Document = FixedMarketRates.Snapshot;

    [Theory]
    [InlineData(100, "BRL", "USD", "19.00")]
    [InlineData(19, "USD", "BRL", "100")]
    [InlineData(1, "BRL", "BRL", "1")]
    [InlineData(100, "BRL", "BTC", "0.00079100")]
    [InlineData(2.4025, "XLM", "BRL", "1")]
    [InlineData(0, "USD", "EUR", "0")]
    public void Amounts_convert_through_the_base(decimal amount, string from, string to, string expected)
    {
        Assert.True(MarketRates.TryConvert(Document, amount, from, to, out var converted));
        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), converted);
    }

    [Fact]
    public void Between_two_non_base_codes_the_amount_goes_through_the_base()
    {
        Assert.True(MarketRates.TryConvert(Document, 19m, "USD", "EUR", out var converted));

        Assert.Equal(17m, Math.Round(converted, 20));
    }

    [Fact]
    public void Codes_are_matched_in_upper_case()
    {
        Assert.True(MarketRates.TryConvert(Document, 100m, "brl", "usd", out var converted));
        Assert.Equal(19m, converted);
    }

    [Theory]
    [InlineData("BRL", "GBP")]
    [InlineData("GBP", "USD")]
    [InlineData("", "USD")]
    public void A_missing_code_does_not_convert(string from, string to)
    {
        Assert.False(MarketRates.TryConvert(Document, 100m, from, to, out var converted));
        Assert.Equal(0m, converted);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("not-a-number")]
    public void A_rate_that_is_not_positive_does_not_convert(string rate)
    {
        var table = Document with { Rates = MarketRateTable.Ordered([new("BRL", "1"), new("USD", rate)]) };

        Assert.False(MarketRates.TryConvert(table, 100m, "USD", "BRL", out _));
        Assert.False(MarketRates.TryConvert(table, 100m, "BRL", "USD", out _));
    }

    [Fact]
    public void A_result_too_large_for_a_decimal_does_not_convert()
    {
        var table = Document with { Rates = MarketRateTable.Ordered([new("BRL", "1"), new("TINY", "0.0000000001")]) };

        Assert.False(MarketRates.TryConvert(table, decimal.MaxValue, "TINY", "BRL", out _));
    }
}
