using System.Net;
using System.Net.Http.Json;
using System.Text;
using Serverless.Platform.Identity;
using Serverless.Tests.Print;

namespace Serverless.Tests.Platform;

/// <summary>
/// Requests the contract fuzzer (Functions.Tests/Fuzz) found answered with a 500 or a status the document did not
/// list. Each answer here is also held to the document by the ContractRecorder, so an undocumented status fails.
/// </summary>
public sealed class HostileRequestTests(PrintFactory app) : IClassFixture<PrintFactory>
{
    [Fact]
    public async Task A_json_body_whose_charset_is_no_encoding_is_a_415_not_a_500()
    {
        var content = new StringContent("{\"username\":\"x\",\"password\":\"y\"}", Encoding.UTF8);
        content.Headers.Remove("Content-Type");
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=\"\"");
        var response = await app.CreateClientAs(1, Roles.Admin).PostAsync("/platform/users", content);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("unsupported_media_type", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_body_over_the_limit_is_a_documented_413_also_where_the_operation_reads_none()
    {
        var body = new ByteArrayContent(new byte[Serverless.Platform.PlatformRegistration.DefaultMaxRequestBodyBytes + 1]);
        body.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        var response = await app.CreateClient().SendAsync(new HttpRequestMessage(HttpMethod.Get, "/health") { Content = body });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task An_admin_disabling_their_own_account_gets_the_documented_400()
    {
        var response = await app.CreateClientAs(1, Roles.Admin).PostAsync("/platform/users/1/disable", null);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task An_id_longer_than_storage_keys_is_not_found_not_a_500()
    {
        var response = await app.CreateClientAs(1, Roles.Admin)
            .PutAsJsonAsync($"/api/admin/merchants/{new string('a', 20_000)}/webhook", new { url = "https://example.test/hook" });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task A_merchant_name_longer_than_storage_keys_has_no_webhook_deliveries_not_a_500()
    {
        var response = await app.CreateClientAs(1, Roles.Admin).GetAsync($"/api/admin/merchants/{new string('a', 20_000)}/webhook/deliveries");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("[]", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_owner_id_too_long_for_a_webhook_endpoint_is_the_documented_400()
    {
        var response = await app.CreateClientAs(1, Roles.Admin).GetAsync($"/platform/webhooks/endpoints/{new string('a', 5_000)}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Print_answers_its_documented_400_and_415_to_a_device_token_too_long_and_a_cost_request_that_is_not_a_form()
    {
        var customer = app.Bearer(await app.SignUpAsync());
        Assert.Equal(HttpStatusCode.BadRequest, (await customer.DeleteAsync($"/devices/{new string('a', 5_000)}")).StatusCode);
        var cost = await customer.PostAsJsonAsync("/calculate-cost", new { copies = 1 });
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, cost.StatusCode);
    }
}
