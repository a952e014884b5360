using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Serverless.Platform.Identity;
using Serverless.Platform.Webhooks;

namespace Serverless.Tests.Platform.Webhooks;

public sealed class WebhookTargetGuardTests
{
    private static WebhookTargetGuard Guard(bool allowHttp = false, bool allowPrivate = false) =>
        new(Options.Create(new WebhookOptions { AllowHttp = allowHttp, AllowPrivateTargets = allowPrivate }));

    [Theory]
    [InlineData("8.8.8.8", true)]
    [InlineData("1.1.1.1", true)]
    [InlineData("172.32.0.1", true)]
    [InlineData("100.128.0.1", true)]
    [InlineData("2606:4700:4700::1111", true)]
    [InlineData("::ffff:8.8.8.8", true)]
    [InlineData("64:ff9b::808:808", true)]
    [InlineData("0.0.0.0", false)]
    [InlineData("0.1.2.3", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("100.127.255.254", false)]
    [InlineData("127.0.0.1", false)]
    [InlineData("127.255.0.9", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("169.254.0.1", false)]
    [InlineData("172.16.0.1", false)]
    [InlineData("172.31.255.255", false)]
    [InlineData("192.168.1.1", false)]
    [InlineData("192.0.2.10", false)]
    [InlineData("198.18.0.1", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("239.255.255.250", false)]
    [InlineData("240.0.0.1", false)]
    [InlineData("255.255.255.255", false)]
    [InlineData("::", false)]
    [InlineData("::1", false)]
    [InlineData("::127.0.0.1", false)]
    [InlineData("::ffff:127.0.0.1", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    [InlineData("::ffff:169.254.169.254", false)]
    [InlineData("64:ff9b::a9fe:a9fe", false)]
    [InlineData("2002:7f00:1::", false)]
    [InlineData("2002:a9fe:a9fe::1", false)]
    [InlineData("fc00::1", false)]
    [InlineData("fd12:3456:789a::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fec0::1", false)]
    [InlineData("ff02::1", false)]
    [InlineData("2001:db8::1", false)]
    [InlineData("2001:0:4136:e378:8000:63bf:3fff:fdd2", false)]
    public void Only_public_addresses_may_be_targeted(string address, bool isPublic) =>
        Assert.Equal(isPublic, WebhookTargetGuard.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData(null, "'url' is required.")]
    [InlineData("not a url", "'url' must be an absolute https:// URL.")]
    [InlineData("/relative/path", "'url' must be an absolute https:// URL.")]
    [InlineData("ftp://example.com/hook", "'url' must be an absolute https:// URL.")]
    [InlineData("http://example.com/hook", "'url' must use https://; plain http:// is not allowed here.")]
    [InlineData("https://user:password@example.com/hook", "'url' must not carry a user name or password.")]
    [InlineData("https://127.0.0.1/hook", "non-public")]
    [InlineData("https://[::1]:8443/hook", "non-public")]
    [InlineData("https://169.254.169.254/latest/meta-data", "169.254.169.254")]
    [InlineData("https://[::ffff:10.0.0.1]/hook", "non-public")]
    [InlineData("https://localhost/hook", "non-public")]
    public async Task A_url_that_is_malformed_or_not_https_or_not_public_is_refused_with_the_reason(string? url, string reason)
    {
        var problem = await Guard().CheckAsync(url, "url", CancellationToken.None);

        Assert.NotNull(problem);
        Assert.Contains(reason, problem);
    }

    [Theory]
    [InlineData("https://93.184.215.14/hook")]
    [InlineData("https://[2606:4700:4700::1111]/hook")]
    public async Task A_public_https_url_passes(string url) =>
        Assert.Null(await Guard().CheckAsync(url, "url", CancellationToken.None));

    [Fact]
    public async Task Settings_can_allow_http_and_private_targets_for_development()
    {
        Assert.Null(await Guard(allowHttp: true, allowPrivate: true).CheckAsync("http://127.0.0.1:5000/hook", "url", CancellationToken.None));
        Assert.Contains("non-public", await Guard(allowHttp: true).CheckAsync("http://127.0.0.1:5000/hook", "url", CancellationToken.None));
    }

    [Fact]
    public async Task At_send_time_a_host_with_only_private_addresses_is_refused_before_connecting()
    {
        var error = await Assert.ThrowsAsync<WebhookTargetRefusedException>(() => Guard().AllowedAddressesAsync("localhost", CancellationToken.None));

        Assert.Contains("non-public", error.Message);
        Assert.Single(await Guard(allowPrivate: true).AllowedAddressesAsync("127.0.0.1", CancellationToken.None));
    }
}

/// <summary>The app as in production: private targets refused (the receiver on 127.0.0.1 is one).</summary>
public sealed class PrivateTargetsRefusedFactory : WebhookFactory
{
    public PrivateTargetsRefusedFactory() => With("Webhooks:AllowPrivateTargets", "false");
}

public sealed class WebhookSsrfTests(PrivateTargetsRefusedFactory app) : IClassFixture<PrivateTargetsRefusedFactory>
{
    [Theory]
    [InlineData("http://169.254.169.254/", "169.254.169.254")]
    [InlineData("http://10.0.0.7:8080/hook", "10.0.0.7")]
    [InlineData("http://[fd00::1]/hook", "fd00::1")]
    [InlineData("http://127.0.0.1:9/hook", "127.0.0.1")]
    public async Task Registering_a_private_or_metadata_address_is_a_400_that_says_why(string url, string address)
    {
        var response = await app.Admin().PutAsJsonAsync("/platform/webhooks/endpoints/ssrf-owner", new { url });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("invalid_url", body.GetProperty("code").GetString());
        Assert.Contains(address, body.GetProperty("detail").GetString());
        Assert.Contains("non-public", body.GetProperty("detail").GetString());
        Assert.Null(await app.Get<WebhookEndpoints>().FindAsync("ssrf-owner"));
    }

    [Fact]
    public async Task A_target_that_resolves_to_a_private_address_at_send_time_is_never_connected_to()
    {
        // Only the URL's form is checked when publishing to an explicit target; the connection checks the address.
        var hook = app.Receiver.Add("rebound");
        var target = new WebhookTarget(hook.Url, "whsec_" + Convert.ToBase64String(new byte[32]));

        var published = await app.Publisher.PublishToAsync(target, "ssrf-owner-2", "pre_order.paid", new JsonObject { ["event"] = "x" });
        await app.DrainAsync();

        Assert.Empty(hook.Received);
        var delivery = await app.DeliveryAsync("ssrf-owner-2", published.DeliveryIds[0]);
        Assert.Equal(WebhookDeliveryStates.Failed, delivery.State);
        Assert.Contains("non-public", delivery.LastError);
    }

    [Fact]
    public void Http_is_allowed_only_because_this_is_the_Testing_environment() =>
        Assert.True(app.Get<IOptions<WebhookOptions>>().Value.AllowHttp);

    [Fact]
    public async Task Non_admins_cannot_register_endpoints_either()
    {
        var response = await app.CreateClientAs(5, Serverless.Print.PrintRoles.Customer).PutAsJsonAsync("/platform/webhooks/endpoints/x", new { url = "https://example.com" });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}
