using QRCoder;

namespace Serverless.Platform.Http;

/// <summary>QR codes for pages and payment addresses, as PNG data URIs that an HTML page or a JSON answer carries inline.</summary>
public static class QrCodes
{
    public static string DataUri(string text)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.M);
        var png = new PngByteQRCode(data).GetGraphic(6);
        return "data:image/png;base64," + Convert.ToBase64String(png);
    }
}
