using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Serverless.Platform.Webhooks;

/// <summary>The signature schemes a delivery can be signed with.</summary>
public static class WebhookSchemes
{
    /// <summary>Standard Webhooks: <c>webhook-id</c>, <c>webhook-timestamp</c>, <c>webhook-signature: v1,...</c>; <c>whsec_</c> secrets.</summary>
    public const string Standard = "standard-webhooks";

    /// <summary>One header, <c>x-webhook-signature</c> = base64(HMAC-SHA256(body, secret)); the checkout document's scheme.</summary>
    public const string BodyHmac = "x-webhook-signature";
}

/// <summary>What a signer signs: the event id, the attempt's time, the exact body bytes and the target's secret.</summary>
public sealed record WebhookSigningInput(string MessageId, DateTimeOffset Timestamp, ReadOnlyMemory<byte> Body, string Secret);

/// <summary>
/// Signs one attempt by returning the headers to add. A surface whose document fixes its own scheme registers one
/// (<c>services.AddSingleton&lt;IWebhookSigner, MySigner&gt;()</c>) and publishes with its <see cref="Scheme"/>.
/// </summary>
public interface IWebhookSigner
{
    string Scheme { get; }

    IReadOnlyList<KeyValuePair<string, string>> Sign(WebhookSigningInput input);
}

/// <summary>Standard Webhooks v1: HMAC-SHA256 of <c>"{id}.{timestamp}.{body}"</c>, keyed by the base64 part of the <c>whsec_</c> secret.</summary>
public sealed class StandardWebhooksSigner : IWebhookSigner
{
    public const string SecretPrefix = "whsec_";

    public string Scheme => WebhookSchemes.Standard;

    public IReadOnlyList<KeyValuePair<string, string>> Sign(WebhookSigningInput input)
    {
        var timestamp = input.Timestamp.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var prefix = Encoding.UTF8.GetBytes($"{input.MessageId}.{timestamp}.");
        var content = new byte[prefix.Length + input.Body.Length];
        prefix.CopyTo(content, 0);
        input.Body.Span.CopyTo(content.AsSpan(prefix.Length));
        var signature = Convert.ToBase64String(HMACSHA256.HashData(Key(input.Secret), content));
        return
        [
            new("webhook-id", input.MessageId),
            new("webhook-timestamp", timestamp),
            new("webhook-signature", "v1," + signature),
        ];
    }

    /// <summary>A new secret: <c>whsec_</c> and 32 random bytes in base64 (the spec asks for 24 to 64).</summary>
    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static byte[] Key(string secret) =>
        secret.StartsWith(SecretPrefix, StringComparison.Ordinal)
            ? Convert.FromBase64String(secret[SecretPrefix.Length..])
            : Encoding.UTF8.GetBytes(secret);
}

/// <summary>The checkout callbacks' scheme: <c>x-webhook-signature</c> = base64(HMAC-SHA256(body, UTF-8 secret)).</summary>
public sealed class BodyHmacSigner : IWebhookSigner
{
    public const string HeaderName = "x-webhook-signature";

    public string Scheme => WebhookSchemes.BodyHmac;

    public IReadOnlyList<KeyValuePair<string, string>> Sign(WebhookSigningInput input) =>
        [new(HeaderName, Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(input.Secret), input.Body.Span)))];
}

/// <summary>The registered signers, by scheme.</summary>
public sealed class WebhookSigners(IEnumerable<IWebhookSigner> signers)
{
    private readonly Dictionary<string, IWebhookSigner> _byScheme = signers.ToDictionary(s => s.Scheme, StringComparer.Ordinal);

    public bool Has(string scheme) => _byScheme.ContainsKey(scheme);

    public IWebhookSigner For(string scheme) =>
        _byScheme.TryGetValue(scheme, out var signer)
            ? signer
            : throw new InvalidOperationException($"No webhook signer is registered for the scheme '{scheme}'.");
}
