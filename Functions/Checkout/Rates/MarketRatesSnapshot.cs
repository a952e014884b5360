namespace Serverless.Checkout.Rates;

/// <summary>
/// The market rates in force: how much of each currency or coin one unit of <see cref="Base"/> buys
/// (<c>"USD": "0.19"</c> on a BRL base means 1 BRL = 0.19 USD). Codes are upper case; rates are invariant decimal
/// strings, so the checkout documents can show them exactly as stored. <see cref="AsOf"/> is when they were fetched.
/// </summary>
public sealed record MarketRatesSnapshot(string Base, IReadOnlyDictionary<string, string> Rates, DateTimeOffset AsOf);
