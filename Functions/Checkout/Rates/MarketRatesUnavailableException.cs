namespace Serverless.Checkout.Rates;

/// <summary>
/// A rate source is configured but no rates were ever fetched from it: a caller answers 503 (with Retry-After)
/// rather than price anything on made-up rates.
/// </summary>
public sealed class MarketRatesUnavailableException(string message) : Exception(message);
