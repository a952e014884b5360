using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Identity;

namespace Serverless.Platform.Identity;

/// <summary>
/// Hashing of everything secret we store. People's passwords (low entropy) use ASP.NET Core's PBKDF2
/// <see cref="PasswordHasher{TUser}"/>, which is slow on purpose. Secrets we generate (256 random bits) use
/// SHA-256, which is safe for that entropy and cheap enough to check on every request.
/// </summary>
public static class Secrets
{
    private const string GeneratedPrefix = "sha256:";
    private const string PasswordPrefix = "pbkdf2:";
    private static readonly PasswordHasher<object> Hasher = new();
    private static readonly object Nobody = new();

    /// <summary>A hash of a dummy password, verified when the account does not exist so timing reveals nothing.</summary>
    private static readonly string DecoyHash = HashPassword(Convert.ToHexString(RandomNumberGenerator.GetBytes(16)));

    public static string HashPassword(string password) => PasswordPrefix + Hasher.HashPassword(Nobody, password);

    public static string HashGenerated(string secret) =>
        GeneratedPrefix + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>Checks a presented secret against a stored hash of either kind, in constant time.</summary>
    public static bool Verify(string? storedHash, string presented)
    {
        if (storedHash is null)
        {
            Hasher.VerifyHashedPassword(Nobody, DecoyHash[PasswordPrefix.Length..], presented);
            return false;
        }
        if (storedHash.StartsWith(GeneratedPrefix, StringComparison.Ordinal))
        {
            var expected = Encoding.ASCII.GetBytes(storedHash);
            var actual = Encoding.ASCII.GetBytes(HashGenerated(presented));
            return CryptographicOperations.FixedTimeEquals(expected, actual);
        }
        if (storedHash.StartsWith(PasswordPrefix, StringComparison.Ordinal))
            return Hasher.VerifyHashedPassword(Nobody, storedHash[PasswordPrefix.Length..], presented) != PasswordVerificationResult.Failed;
        return false;
    }

    /// <summary>A new random secret: <paramref name="prefix"/> then 256 bits, URL-safe.</summary>
    public static string Generate(string prefix) =>
        prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
