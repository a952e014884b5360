using System.Text.Json;
using Serverless.Checkout.Orders;
using Serverless.Checkout.Stores;

namespace Serverless.Tests.Checkout;

public sealed class PricingTests
{
    private static CheckoutOrder Order(Dictionary<string, string> rates) => new()
    {
        PartitionKey = "store", RowKey = CheckoutOrder.NewId(DateTimeOffset.UnixEpoch), OrderCurrency = "USD", PayableMinor = 2_794,
        RatesBase = "BRL", MarketRatesJson = JsonSerializer.Serialize(rates),
    };

    [Fact]
    public void A_coin_amount_is_the_payable_converted_with_the_orders_rates_rounded_up_to_the_protocols_digits()
    {
        var amount = Pricing.InCoin(Order(new() { ["BRL"] = "1", ["USD"] = "0.19", ["ETH"] = "0.00011354" }), Protocols.All["ETHEREUM"]);
        // 27.94 USD / 0.19 × 0.00011354 = 0.0166963557..., rounded up at 8 digits.
        Assert.Equal(0.01669636m, amount);
    }

    [Fact]
    public void Rates_that_lack_the_coin_or_overflow_offer_no_amount_instead_of_failing()
    {
        Assert.Null(Pricing.InCoin(Order(new() { ["BRL"] = "1", ["USD"] = "0.19" }), Protocols.All["ETHEREUM"]));
        Assert.Null(Pricing.InCoin(Order(new() { ["BRL"] = "1", ["USD"] = "0.0000000001", ["SOL"] = "9999999999999" }), Protocols.All["SOLANA"]));
    }
}
