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

    public string Audience { get; set; } = "serverless-api";

    public TimeSpan Lifetime { get; set; } = TimeSpan.FromHours(1);

    internal SymmetricSecurityKey Key()
    {
        if (Encoding.UTF8.GetByteCount(SigningKey) < 32)
            throw new InvalidOperationException(
                "Jwt__SigningKey must be set to a secret of at least 32 characters (see local.settings.sample.json).");
        return new SymmetricSecurityKey(Encoding.UTF8.GetBytes(SigningKey)) { KeyId = "platform" };
    }
}

/// <summary>An issued token and how long it lives.</summary>
public sealed record IssuedToken(string Token, int ExpiresIn, DateTimeOffset ExpiresAt);

/// <summary>Issues the HS256 JWTs every surface hands out; JwtBearer validates them with the same key.</summary>
public sealed class TokenService(IOptions<JwtOptions> options, TimeProvider time)
{
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    public IssuedToken IssueForUser(long userId, string name, IEnumerable<string> roles, TimeSpan? lifetime = null,
        IDictionary<string, object>? extraClaims = null) =>
        Issue(userId.ToString(System.Globalization.CultureInfo.InvariantCulture), name, PlatformClaims.UserKind, null, roles, lifetime, extraClaims);

    public IssuedToken IssueForClient(string clientId, string name, string clientKind, TimeSpan? lifetime = null,
        IDictionary<string, object>? extraClaims = null) =>
        Issue(clientId, name, PlatformClaims.ClientKindValue, clientKind, [], lifetime, extraClaims);

    private IssuedToken Issue(string subject, string name, string kind, string? clientKind, IEnumerable<string> roles,
        TimeSpan? lifetime, IDictionary<string, object>? extraClaims)
    {
        var settings = options.Value;
        var now = time.GetUtcNow();
        var expires = now + (lifetime ?? settings.Lifetime);
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
            Audience = settings.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            Claims = claims,
            SigningCredentials = new SigningCredentials(settings.Key(), SecurityAlgorithms.HmacSha256),
        });
        return new IssuedToken(token, (int)Math.Round((expires - now).TotalSeconds), expires);
    }
}

/// <summary>JwtBearer validation of our own tokens, on the app's clock so expiry tests can move time.</summary>
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
            ValidAudience = settings.Audience,
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
