using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Serverless.Platform.Identity;

public sealed class JwtOptions
{
    public const string Section = "Jwt";

    /// <summary>HMAC key, at least 32 characters (Key Vault in Azure).</summary>
    public string SigningKey { get; set; } = "";

    public string Issuer { get; set; } = "serverless";

    /// <summary>The prefix of every token's <c>aud</c>: <c>{Audience}/{audience name}</c>.</summary>
    public string Audience { get; set; } = "serverless-api";

    /// <summary>Token lifetimes by audience key (<c>Jwt__Lifetimes__Platform</c>); an audience not listed keeps its default.</summary>
    public Dictionary<string, TimeSpan> Lifetimes { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public TimeSpan LifetimeOf(TokenAudience audience) =>
        Lifetimes.TryGetValue(audience.Key, out var lifetime) && lifetime > TimeSpan.Zero ? lifetime : audience.DefaultLifetime;

    /// <summary>The <c>aud</c> value of this audience's tokens.</summary>
    public string AudienceValue(TokenAudience audience) => $"{Audience}/{audience.Name}";

    internal SymmetricSecurityKey Key()
    {
        if (Encoding.UTF8.GetByteCount(SigningKey) < 32)
            throw new InvalidOperationException(
                "Jwt__SigningKey must be set to a secret of at least 32 characters (see local.settings.sample.json).");
        return new SymmetricSecurityKey(Encoding.UTF8.GetBytes(SigningKey)) { KeyId = "platform" };
    }
}

/// <summary>
/// Who a token is for: one surface's client-facing API. A surface accepts only tokens of its own audience; the
/// platform's operator APIs (under <c>/platform</c> and each surface's admin routes) take <see cref="TokenAudiences.Platform"/>.
/// </summary>
/// <param name="Name">The <c>aud</c> suffix and the authentication scheme's name.</param>
/// <param name="Key">The settings key of its lifetime: <c>Jwt__Lifetimes__{Key}</c>.</param>
public sealed record TokenAudience(string Name, string Key, TimeSpan DefaultLifetime)
{
    /// <summary>The JwtBearer scheme that accepts this audience's tokens, and only them.</summary>
    public string Scheme => "jwt-" + Name;
}

/// <summary>Every audience the app issues tokens for; adding a surface is one line here.</summary>
public static class TokenAudiences
{
    private static readonly List<TokenAudience> Declared = [];

    public static readonly TokenAudience Platform = Declare("platform", "Platform", TimeSpan.FromHours(1));
    public static readonly TokenAudience PreOrders = Declare("pre-orders", "PreOrders", TimeSpan.FromSeconds(3600));
    public static readonly TokenAudience ECards = Declare("e-cards", "ECards", TimeSpan.FromSeconds(3600));
    // Print's sign-in passes its own lifetime, Print__SessionLifetime (7 days).
    public static readonly TokenAudience Print = Declare("print", "Print", TimeSpan.FromDays(7));
    public static readonly TokenAudience Commerce = Declare("commerce", "Commerce", TimeSpan.FromMinutes(15));

    /// <summary>Every declared audience; each gets its JwtBearer scheme.</summary>
    public static IReadOnlyList<TokenAudience> All => Declared;

    private static TokenAudience Declare(string name, string key, TimeSpan defaultLifetime)
    {
        var audience = new TokenAudience(name, key, defaultLifetime);
        Declared.Add(audience);
        return audience;
    }

    public static TokenAudience? ForScheme(string? scheme) => All.FirstOrDefault(a => a.Scheme == scheme);
}

/// <summary>An issued token and how long it lives.</summary>
public sealed record IssuedToken(string Token, int ExpiresIn, DateTimeOffset ExpiresAt);

/// <summary>Issues the HS256 JWTs every surface hands out; JwtBearer validates them with the same key.</summary>
public sealed class TokenService(IOptions<JwtOptions> options, TimeProvider time)
{
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>
    /// A token for a user, carrying the session version it was issued under (<see cref="PlatformClaims.SessionVersion"/>):
    /// once the account's version moves past it, <see cref="SessionCheckMiddleware"/> (or the surface's own check) refuses it.
    /// </summary>
    /// <param name="claims">A surface's own claims (commerce: the company), added to the platform's.</param>
    public IssuedToken IssueForUser(TokenAudience audience, long userId, string name, IEnumerable<string> roles, int sessionVersion,
        TimeSpan? lifetime = null, IReadOnlyDictionary<string, object>? claims = null) =>
        Issue(audience, userId.ToString(System.Globalization.CultureInfo.InvariantCulture), name, PlatformClaims.UserKind, null, roles,
            lifetime, With(claims, new Dictionary<string, object> { [PlatformClaims.SessionVersion] = sessionVersion }));

    public IssuedToken IssueForClient(TokenAudience audience, string clientId, string name, string clientKind, TimeSpan? lifetime = null,
        IEnumerable<string>? roles = null, IReadOnlyDictionary<string, object>? claims = null) =>
        Issue(audience, clientId, name, PlatformClaims.ClientKindValue, clientKind, roles ?? [], lifetime, With(claims, []));

    private static Dictionary<string, object> With(IReadOnlyDictionary<string, object>? surface, Dictionary<string, object> platform)
    {
        foreach (var (name, value) in surface ?? new Dictionary<string, object>())
            platform.TryAdd(name, value);
        return platform;
    }

    private IssuedToken Issue(TokenAudience audience, string subject, string name, string kind, string? clientKind, IEnumerable<string> roles,
        TimeSpan? lifetime, IDictionary<string, object>? extraClaims)
    {
        var settings = options.Value;
        var now = time.GetUtcNow();
        var expires = now + (lifetime ?? settings.LifetimeOf(audience));
        var claims = new Dictionary<string, object>(extraClaims ?? new Dictionary<string, object>())
        {
            [PlatformClaims.Subject] = subject,
            [PlatformClaims.Name] = name,
            [PlatformClaims.Kind] = kind,
            [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
        };
        var roleList = roles.Distinct(StringComparer.Ordinal).ToArray();
        if (roleList.Length > 0)
            claims[PlatformClaims.Role] = roleList;
        if (clientKind is not null)
            claims[PlatformClaims.ClientKind] = clientKind;
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = settings.Issuer,
            Audience = settings.AudienceValue(audience),
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            Claims = claims,
            SigningCredentials = new SigningCredentials(settings.Key(), SecurityAlgorithms.HmacSha256),
        });
        return new IssuedToken(token, (int)Math.Round((expires - now).TotalSeconds), expires);
    }
}

/// <summary>
/// JwtBearer validation of our own tokens, on the app's clock so expiry tests can move time. Each audience's scheme
/// (<see cref="TokenAudience.Scheme"/>) accepts that audience only; a scheme that is no audience's (a surface's
/// cookie scheme) is given its audience by the surface.
/// </summary>
public sealed class ConfigureJwtBearer(IOptions<JwtOptions> options, TimeProvider time) : IConfigureNamedOptions<JwtBearerOptions>
{
    public void Configure(string? name, JwtBearerOptions bearer)
    {
        var settings = options.Value;
        bearer.MapInboundClaims = false;
        bearer.TimeProvider = time;
        bearer.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = settings.Issuer,
            ValidAudience = TokenAudiences.ForScheme(name) is { } audience ? settings.AudienceValue(audience) : null,
            ValidateAudience = true,
            IssuerSigningKey = settings.Key(),
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            NameClaimType = PlatformClaims.Name,
            RoleClaimType = PlatformClaims.Role,
            ClockSkew = TimeSpan.FromSeconds(30),
            LifetimeValidator = (notBefore, expires, _, parameters) =>
            {
                var now = time.GetUtcNow().UtcDateTime;
                return (notBefore is null || notBefore.Value <= now + parameters.ClockSkew)
                       && expires is not null && expires.Value > now - parameters.ClockSkew;
            },
        };
    }

    public void Configure(JwtBearerOptions bearer) => Configure(Options.DefaultName, bearer);
}
