using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Serverless.Platform.Identity;

namespace Serverless.Checkout.Orders;

/// <summary>
/// An order's <c>sessionToken</c>: a JWT (HS256) naming the store and the order, which opens the hosted checkout page
/// of that order and nothing else. Its key is derived (HKDF) from <c>Jwt:SigningKey</c> for this use alone, and its
/// audience is its own, so no API accepts it and it accepts no API token. It lives until
/// <see cref="PageLifetime"/> after the order's expiry, so a customer coming back later still sees the outcome.
/// </summary>
public sealed class SessionTokens
{
    public const string Audience = "checkout-session";
    public static readonly TimeSpan PageLifetime = TimeSpan.FromDays(30);
    private const string StoreClaim = "store";

    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly SymmetricSecurityKey _key;
    private readonly string _issuer;
    private readonly TimeProvider _time;

    public SessionTokens(IOptions<JwtOptions> jwt, TimeProvider time)
    {
        _key = new SymmetricSecurityKey(HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(jwt.Value.SigningKey), 32, salt: [],
            info: "checkout-session-tokens"u8.ToArray())) { KeyId = "checkout-session" };
        _issuer = jwt.Value.Issuer;
        _time = time;
    }

    public string Issue(string storeId, string orderId, DateTimeOffset issuedAt, DateTimeOffset orderExpiresAt) =>
        _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _issuer,
            Audience = Audience,
            IssuedAt = issuedAt.UtcDateTime,
            NotBefore = issuedAt.UtcDateTime,
            Expires = (orderExpiresAt + PageLifetime).UtcDateTime,
            Claims = new Dictionary<string, object> { [JwtRegisteredClaimNames.Sub] = orderId, [StoreClaim] = storeId },
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.HmacSha256),
        });

    /// <summary>The store and order a valid, unexpired token names, or null.</summary>
    public async Task<(string StoreId, string OrderId)?> ReadAsync(string token)
    {
        if (token.Length is 0 or > 2000)
            return null;
        var result = await _handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = _issuer,
            ValidAudience = Audience,
            IssuerSigningKey = _key,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            LifetimeValidator = (notBefore, expires, _, _) =>
            {
                var now = _time.GetUtcNow().UtcDateTime;
                return (notBefore is null || notBefore <= now.AddMinutes(5)) && expires is { } e && now < e;
            },
        });
        if (!result.IsValid || result.ClaimsIdentity.FindFirst(JwtRegisteredClaimNames.Sub)?.Value is not { } orderId
            || result.ClaimsIdentity.FindFirst(StoreClaim)?.Value is not { } storeId)
            return null;
        return (storeId, orderId);
    }
}
