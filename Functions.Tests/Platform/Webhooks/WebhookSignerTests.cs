using System.Security.Cryptography;
using System.Text;
using Serverless.Platform.Webhooks;

namespace Serverless.Tests.Platform.Webhooks;

public sealed class WebhookSignerTests
{
    [Fact]
    public void The_standard_signature_reproduces_the_published_Standard_Webhooks_test_vector()
    {
        var headers = new StandardWebhooksSigner().Sign(new WebhookSigningInput(
            "msg_p5jXN8AQM9LWM0D4loKWxJek", DateTimeOffset.FromUnixTimeSeconds(1614265330),
            Encoding.UTF8.GetBytes("""{"test": 2432232314}"""), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).ToDictionary();

        Assert.Equal("msg_p5jXN8AQM9LWM0D4loKWxJek", headers["webhook-id"]);
        Assert.Equal("1614265330", headers["webhook-timestamp"]);
        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", headers["webhook-signature"]);
    }

    [Fact]
    public void The_checkout_signature_is_base64_hmac_sha256_of_the_body_keyed_by_the_store_secret()
    {
        var body = Encoding.UTF8.GetBytes("""{"message":"Payment confirmed","status":"confirmed","orderId":"o-9"}""");
        var expected = Convert.ToBase64String(new HMACSHA256(Encoding.UTF8.GetBytes("store-secret-1")).ComputeHash(body));

        var headers = new BodyHmacSigner().Sign(new WebhookSigningInput("msg_1", DateTimeOffset.UnixEpoch, body, "store-secret-1"));

        var header = Assert.Single(headers);
        Assert.Equal("x-webhook-signature", header.Key);
        Assert.Equal(expected, header.Value);
    }

    [Fact]
    public void New_secrets_are_whsec_and_32_random_bytes()
    {
        var a = StandardWebhooksSigner.NewSecret();
        var b = StandardWebhooksSigner.NewSecret();

        Assert.StartsWith("whsec_", a);
        Assert.Equal(32, Convert.FromBase64String(a[6..]).Length);
        Assert.NotEqual(a, b);
    }
}
