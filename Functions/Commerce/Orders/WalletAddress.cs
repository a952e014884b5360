using System.Text;
using Org.BouncyCastle.Crypto.Digests;

namespace Serverless.Commerce.Orders;

/// <summary>
/// EVM addresses: <c>0x</c> and 40 hex digits. All-lower or all-upper case carries no checksum; mixed case must be
/// the EIP-55 checksum (each letter upper-cased where the Keccak-256 of the lower-case hex has a nibble of 8 or more).
/// </summary>
public static class WalletAddress
{
    public static bool IsValid(string? address)
    {
        if (address is not { Length: 42 } || !address.StartsWith("0x", StringComparison.Ordinal))
            return false;
        var hex = address.AsSpan(2);
        if (hex.IndexOfAnyExcept("0123456789abcdefABCDEF") >= 0)
            return false;
        var hasLower = hex.IndexOfAny("abcdef") >= 0;
        var hasUpper = hex.IndexOfAny("ABCDEF") >= 0;
        return !(hasLower && hasUpper) || address == Checksummed(address);
    }

    /// <summary>The EIP-55 form of an address.</summary>
    public static string Checksummed(string address)
    {
        var lower = address[2..].ToLowerInvariant();
        var digest = new KeccakDigest(256);
        var input = Encoding.ASCII.GetBytes(lower);
        digest.BlockUpdate(input, 0, input.Length);
        var hash = new byte[32];
        digest.DoFinal(hash, 0);
        var result = new StringBuilder("0x", 42);
        for (var i = 0; i < 40; i++)
        {
            var nibble = (hash[i / 2] >> (i % 2 == 0 ? 4 : 0)) & 0xF;
            result.Append(nibble >= 8 ? char.ToUpperInvariant(lower[i]) : lower[i]);
        }
        return result.ToString();
    }
}
