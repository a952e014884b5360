using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Serverless.Platform.Identity;

/// <summary>
/// Encrypts secrets that must be read back (a signing secret the platform signs with, which a hash cannot serve):
/// AES-256-GCM under a key derived (HKDF-SHA256) from <c>Jwt:SigningKey</c>, bound to what the secret belongs to,
/// so a sealed value copied onto another row does not open. Sealed values read <c>sealed:v1:&lt;base64&gt;</c>; a
/// value without that prefix (written before sealing existed) opens as itself.
/// </summary>
public sealed class SecretSealer
{
    private const string Prefix = "sealed:v1:";
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] _key;

    public SecretSealer(IOptions<JwtOptions> jwt) =>
        _key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(jwt.Value.SigningKey), 32, salt: [],
            info: "sealed-secrets"u8.ToArray());

    public string Seal(string secret, string boundTo)
    {
        var plaintext = Encoding.UTF8.GetBytes(secret);
        var sealedBytes = new byte[NonceSize + TagSize + plaintext.Length];
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plaintext, sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize),
            Encoding.UTF8.GetBytes(boundTo));
        return Prefix + Convert.ToBase64String(sealedBytes);
    }

    /// <summary>The secret, or null when the value was sealed under another key or for something else, or altered.</summary>
    public string? Open(string? value, string boundTo)
    {
        if (value is null || !value.StartsWith(Prefix, StringComparison.Ordinal))
            return value;
        byte[] sealedBytes;
        try
        {
            sealedBytes = Convert.FromBase64String(value[Prefix.Length..]);
        }
        catch (FormatException)
        {
            return null;
        }
        if (sealedBytes.Length < NonceSize + TagSize)
            return null;
        var plaintext = new byte[sealedBytes.Length - NonceSize - TagSize];
        try
        {
            using var aes = new AesGcm(_key, TagSize);
            aes.Decrypt(sealedBytes.AsSpan(0, NonceSize), sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize),
                plaintext, Encoding.UTF8.GetBytes(boundTo));
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
        return Encoding.UTF8.GetString(plaintext);
    }
}
