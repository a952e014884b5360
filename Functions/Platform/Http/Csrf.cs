using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Serverless.Platform.Identity;

namespace Serverless.Platform.Http;

/// <summary>
/// CSRF protection for requests a browser authenticates by cookie. <c>GET /csrf-token</c> gives the page a token;
/// the page sends it back in <c>X-CSRF-Token</c> on every state-changing request. The token is an HMAC of a random
/// secret kept in an HttpOnly cookie (a signed double submit): another site can make the browser send the cookie
/// but can read neither it nor the token. Requests with a bearer token need none of this, as no browser adds an
/// <c>Authorization</c> header by itself.
/// </summary>
public sealed class CsrfTokens(IOptions<JwtOptions> jwt)
{
    public const string CookieName = "csrf_secret";
    public const string HeaderName = "X-CSRF-Token";

    /// <summary>Header names other CSRF libraries use; accepted so that existing front ends work unchanged.</summary>
    public static readonly IReadOnlyList<string> HeaderNames = [HeaderName, "X-XSRF-Token", "CSRF-Token", "XSRF-Token"];

    private readonly byte[] _key = HMACSHA256.HashData(Encoding.UTF8.GetBytes(jwt.Value.SigningKey), "csrf-tokens"u8);

    /// <summary>The token for this browser, setting the secret cookie when it has none yet.</summary>
    public string Issue(HttpContext context)
    {
        var secret = context.Request.Cookies[CookieName];
        if (!IsSecret(secret))
        {
            secret = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
            context.Response.Cookies.Append(CookieName, secret, BrowserCookies.Options(context));
        }
        return TokenFor(secret!);
    }

    /// <summary>True when the request carries the token that matches its secret cookie.</summary>
    public bool IsValid(HttpContext context)
    {
        var secret = context.Request.Cookies[CookieName];
        if (!IsSecret(secret))
            return false;
        var presented = HeaderNames.Select(h => context.Request.Headers[h].ToString()).FirstOrDefault(v => v.Length > 0);
        if (presented is null || presented.Length > 128)
            return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(TokenFor(secret!)), Encoding.ASCII.GetBytes(presented));
    }

    public static bool IsStateChanging(string method) =>
        !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method));

    private string TokenFor(string secret) => WebEncoders.Base64UrlEncode(HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(secret)));

    private static bool IsSecret(string? value) => value is { Length: 43 } && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}

/// <summary>The options of every cookie the app sets: out of reach of scripts, sent only over https when the request came that way.</summary>
public static class BrowserCookies
{
    public static CookieOptions Options(HttpContext context, TimeSpan? maxAge = null) => new()
    {
        HttpOnly = true,
        Secure = context.Request.IsHttps,
        SameSite = SameSiteMode.Lax,
        Path = "/",
        MaxAge = maxAge,
        IsEssential = true,
    };
}
