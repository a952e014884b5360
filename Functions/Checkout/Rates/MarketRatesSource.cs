using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Serverless.Checkout.Rates;

/// <summary>
/// The outside rate feed (<c>Checkout__MarketRatesUrl</c>), over a typed HttpClient: one GET, answered with
/// <c>{"base":"BRL","rates":{"USD":0.19,"BTC":"0.00000791",...}}</c> (rates as numbers or strings; other members,
/// such as Frankfurter's <c>date</c> or Open Exchange Rates' <c>timestamp</c>, are ignored). Everything in the
/// answer is checked before it can price anything; whatever is wrong comes back as a
/// <see cref="MarketRatesSourceException"/> whose message is safe to log (never the URL's query or the key).
/// </summary>
public sealed class MarketRatesSource(HttpClient http, IOptions<MarketRatesOptions> options, TimeProvider time)
{
    /// <summary>A rate table is a few kilobytes; anything near this is not one.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    public async Task<MarketRatesSnapshot> FetchAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        using var request = new HttpRequestMessage(HttpMethod.Get, settings.MarketRatesUrl.Trim());
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (settings.MarketRatesApiKey.Length > 0)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", settings.MarketRatesApiKey);

        // The whole exchange, body included, within the timeout (HttpClient's own covers the headers only here).
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(MarketRatesOptions.Timeout);
        byte[] body;
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            if (!response.IsSuccessStatusCode)
                throw new MarketRatesSourceException($"answered {(int)response.StatusCode}");
            if (response.Content.Headers.ContentLength > MaxBodyBytes)
                throw new MarketRatesSourceException("sent a body over 1 MB");
            body = await ReadLimitedAsync(response.Content, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new MarketRatesSourceException($"did not answer within {MarketRatesOptions.Timeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException ex)
        {
            throw new MarketRatesSourceException($"could not be reached ({ex.HttpRequestError})");
        }
        return Parse(body, time.GetUtcNow());
    }

    /// <summary>Checks a feed's answer and turns it into a snapshot fetched at <paramref name="fetchedAt"/>.</summary>
    public static MarketRatesSnapshot Parse(ReadOnlySpan<byte> body, DateTimeOffset fetchedAt)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException)
        {
            throw new MarketRatesSourceException("sent a body that is not JSON");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("base", out var baseElement) || baseElement.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("rates", out var ratesElement) || ratesElement.ValueKind != JsonValueKind.Object)
                throw new MarketRatesSourceException("sent no \"base\" string and \"rates\" object");
            var baseCode = baseElement.GetString();
            if (!MarketRateTable.IsBaseCode(baseCode))
                throw new MarketRatesSourceException("sent a base that is not 3 to 10 upper-case letters or digits");

            var rates = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in ratesElement.EnumerateObject())
            {
                if (rates.Count == MarketRateTable.MaxEntries)
                    throw new MarketRatesSourceException($"sent more than {MarketRateTable.MaxEntries} rates");
                if (!MarketRateTable.IsRateCode(entry.Name))
                    throw new MarketRatesSourceException($"sent a code that is not 2 to 10 upper-case letters or digits ({Printable(entry.Name)})");
                var rate = entry.Value.ValueKind switch
                {
                    JsonValueKind.Number when entry.Value.TryGetDecimal(out var number) && number > 0 => number,
                    JsonValueKind.String => MarketRateTable.Parse(entry.Value.GetString()),
                    _ => null,
                } ?? throw new MarketRatesSourceException($"sent a rate for {entry.Name} that is not a positive decimal");
                if (!rates.TryAdd(entry.Name, rate.ToString(CultureInfo.InvariantCulture)))
                    throw new MarketRatesSourceException($"sent {entry.Name} twice");
            }
            if (rates.Count == 0)
                throw new MarketRatesSourceException("sent no rates");
            // One unit of the base is one unit of the base; a feed that says otherwise cannot be trusted with the rest.
            if (rates.TryGetValue(baseCode!, out var own) && decimal.Parse(own, CultureInfo.InvariantCulture) != 1m)
                throw new MarketRatesSourceException($"sent a rate of {own} for its own base {baseCode}");
            // Conversions from and to the base need its rate; feeds such as Frankfurter leave it out.
            rates.TryAdd(baseCode!, "1");
            return new MarketRatesSnapshot(baseCode!, MarketRateTable.Ordered(rates), fetchedAt);
        }
    }

    private static async Task<byte[]> ReadLimitedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
                throw new MarketRatesSourceException("sent a body over 1 MB");
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private static string Printable(string code) =>
        code.Length <= 16 && code.All(char.IsAsciiLetterOrDigit) ? code : "a code of " + code.Length + " characters";
}

/// <summary>The rate feed failed or sent something unusable; the message says what, safe to log.</summary>
public sealed class MarketRatesSourceException(string message) : Exception(message);
