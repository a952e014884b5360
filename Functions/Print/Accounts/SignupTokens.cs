using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Serverless.Platform.Identity;

namespace Serverless.Print.Accounts;

/// <summary>
/// The <c>signup_token</c> that <c>POST /register/verify-otp</c> hands out: a short-lived JWT saying "this email was
/// verified". Its audience is not the API's, so it can never be used as a bearer token, and only the email it
/// names can register with it.
/// </summary>
public sealed class SignupTokens(IOptions<JwtOptions> jwt, PrintSettings settings, TimeProvider time)
{
    private const string Audience = "print-signup";
    private const string EmailClaim = "email";
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    public string Issue(string email)
    {
        var now = time.GetUtcNow();
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = jwt.Value.Issuer,
            Audience = Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + settings.SignupTokenLifetime).UtcDateTime,
            Claims = new Dictionary<string, object> { [EmailClaim] = email.Trim().ToLowerInvariant() },
            SigningCredentials = new SigningCredentials(jwt.Value.Key(), SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>The verified email the token carries, or null when it is malformed, forged or expired.</summary>
    public async Task<string?> ValidateAsync(string token)
    {
        if (token.Length > 4096)
            return null;
        var result = await _handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = jwt.Value.Issuer,
            ValidAudience = Audience,
            IssuerSigningKey = jwt.Value.Key(),
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            ClockSkew = TimeSpan.Zero,
            LifetimeValidator = (notBefore, expires, _, _) =>
            {
                var now = time.GetUtcNow().UtcDateTime;
                return (notBefore is null || notBefore.Value <= now) && expires is not null && expires.Value > now;
            },
        });
        return result.IsValid && result.Claims.TryGetValue(EmailClaim, out var email) ? email as string : null;
    }
}
