using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Serverless.Commerce.Orders;

/// <summary>Commerce settings (<c>Commerce__*</c>).</summary>
public sealed class CommerceSettings : Platform.IValidatedSettings
{
    public CommerceSettings(IConfiguration configuration, IHostEnvironment environment)
    {
        var configured = configuration["Commerce:GasFeeSigningKey"];
        var jwtKey = configuration["Jwt:SigningKey"] ?? "";
        if (configured is { Length: > 0 })
        {
            if (configured.Length < 32)
                throw Invalid("Commerce__GasFeeSigningKey must be at least 32 characters.");
            if (configured == jwtKey)
                throw Invalid("Commerce__GasFeeSigningKey must differ from Jwt__SigningKey.");
            GasFeeKey = Encoding.UTF8.GetBytes(configured);
        }
        else if (environment.IsProduction())
            throw Invalid("Commerce__GasFeeSigningKey is required in Production (at least 32 characters, a Key Vault reference in Azure).");
        else
            // Development and tests: a key derived from the token key (never the token key itself).
            GasFeeKey = HMACSHA256.HashData(Encoding.UTF8.GetBytes(jwtKey), "commerce-gas-fee-signing"u8);

        GasFeeValidity = configuration.GetValue("Commerce:GasFeeValidity", TimeSpan.FromSeconds(40));
        // Empty (as the sample has it) keeps each company's own window.
        var window = configuration["Commerce:SimilarOrderWindow"];
        SimilarOrderWindow = string.IsNullOrWhiteSpace(window) ? null
            : TimeSpan.TryParse(window, System.Globalization.CultureInfo.InvariantCulture, out var parsed) && parsed >= TimeSpan.Zero ? parsed
            : throw Invalid($"Commerce__SimilarOrderWindow must be empty or a time span such as 00:05:00; '{window}' is not.");
        var baseUrl = configuration["PublicBaseUrl"];
        PublicBaseUrl = (string.IsNullOrEmpty(baseUrl) ? "http://localhost:7071" : baseUrl).TrimEnd('/');
    }

    private static OptionsValidationException Invalid(string message) => new("Commerce", typeof(CommerceSettings), [message]);

    public byte[] GasFeeKey { get; }

    /// <summary>How long a preview's gas fee signature is accepted (the document's 40 seconds).</summary>
    public TimeSpan GasFeeValidity { get; }

    /// <summary>Overrides every company's window for "similar" orders when set.</summary>
    public TimeSpan? SimilarOrderWindow { get; }

    public string PublicBaseUrl { get; }
}

/// <summary>
/// Signs the gas fee a preview quotes, so an order can carry it without the client choosing its own: the signature
/// binds the company, the currency, the amount and the moment it expires. Format:
/// <c>base64url(amountMinor.expiresUnixSeconds).base64url(HMAC-SHA256)</c>, compared in constant time.
/// </summary>
public sealed class GasFeeSigner(CommerceSettings settings, TimeProvider time)
{
    public sealed record Signed(long AmountMinor, DateTimeOffset ExpiresAt, string Signature);

    public Signed Sign(string companyId, string currencyId, long amountMinor)
    {
        var expires = time.GetUtcNow() + settings.GasFeeValidity;
        var seconds = expires.ToUnixTimeSeconds();
        var claim = amountMinor.ToString(CultureInfo.InvariantCulture) + "." + seconds.ToString(CultureInfo.InvariantCulture);
        var mac = Mac(companyId, currencyId, claim);
        return new Signed(amountMinor, DateTimeOffset.FromUnixTimeSeconds(seconds),
            Base64Url(Encoding.ASCII.GetBytes(claim)) + "." + Base64Url(mac));
    }

    public enum Verdict { Valid, Expired, Forged }

    /// <summary>Checks a signature for this company and currency; the amount it signed comes back when valid.</summary>
    public (Verdict Verdict, long AmountMinor) Verify(string companyId, string currencyId, string? signature)
    {
        if (signature is not { Length: > 0 and < 200 } || signature.Split('.') is not [var encodedClaim, var encodedMac])
            return (Verdict.Forged, 0);
        byte[] claimBytes, mac;
        try
        {
            claimBytes = Convert.FromBase64String(Pad(encodedClaim));
            mac = Convert.FromBase64String(Pad(encodedMac));
        }
        catch (FormatException)
        {
            return (Verdict.Forged, 0);
        }
        var claim = Encoding.ASCII.GetString(claimBytes);
        if (!CryptographicOperations.FixedTimeEquals(mac, Mac(companyId, currencyId, claim)))
            return (Verdict.Forged, 0);
        if (claim.Split('.') is not [var amountText, var secondsText]
            || !long.TryParse(amountText, NumberStyles.None, CultureInfo.InvariantCulture, out var amount)
            || !long.TryParse(secondsText, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            return (Verdict.Forged, 0);
        return time.GetUtcNow().ToUnixTimeSeconds() > seconds ? (Verdict.Expired, amount) : (Verdict.Valid, amount);
    }

    private byte[] Mac(string companyId, string currencyId, string claim) =>
        HMACSHA256.HashData(settings.GasFeeKey, Encoding.UTF8.GetBytes($"commerce-gas-fee\n{companyId.ToLowerInvariant()}\n{currencyId.ToLowerInvariant()}\n{claim}"));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Pad(string value)
    {
        var s = value.Replace('-', '+').Replace('_', '/');
        return (s.Length % 4) switch { 2 => s + "==", 3 => s + "=", 1 => "!", _ => s };
    }
}
