using System.Security.Cryptography;
using System.Text;

namespace Serverless.Platform.Payments;

/// <summary>Razorpay's signatures: lowercase hex HMAC-SHA256, compared in constant time.</summary>
internal static class RazorpaySignature
{
    private const int HexLength = 64;

    public static string Compute(string secret, ReadOnlySpan<byte> message) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message));

    /// <summary>The 32 bytes a 64-character hex signature stands for; false for anything else, without throwing.</summary>
    public static bool TryDecode(string signature, out byte[] bytes)
    {
        bytes = [];
        if (signature.Length != HexLength)
            return false;
        var decoded = new byte[HexLength / 2];
        if (Convert.FromHexString(signature, decoded, out _, out var written) != System.Buffers.OperationStatus.Done || written != decoded.Length)
            return false;
        bytes = decoded;
        return true;
    }

    public static bool Matches(string secret, ReadOnlySpan<byte> message, string signature) =>
        TryDecode(signature, out var given)
        && CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message), given);
}

/// <summary>
/// The signature Razorpay Checkout hands the browser after a payment (<c>razorpay_signature</c>): hex HMAC-SHA256
/// of <c>order_id|payment_id</c> keyed with the API key secret. It proves the ids came from Razorpay; the payment's
/// state still comes from a fetch or a webhook.
/// </summary>
public static class RazorpayCheckoutSignature
{
    public static bool IsValid(string orderId, string paymentId, string signature, string keySecret) =>
        !string.IsNullOrEmpty(orderId) && !string.IsNullOrEmpty(paymentId) && !string.IsNullOrEmpty(signature) && !string.IsNullOrEmpty(keySecret)
        && RazorpaySignature.Matches(keySecret, Encoding.UTF8.GetBytes($"{orderId}|{paymentId}"), signature);
}
