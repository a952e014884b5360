using System.Net;
using System.Net.Http.Json;
using Serverless.Platform.Identity;
using static Serverless.Tests.ECards.ECardsFactory;

namespace Serverless.Tests.ECards;

public sealed class ECardTokenTests(ECardsFactory app) : IClassFixture<ECardsFactory>
{
    private static FormUrlEncodedContent Form(params (string Key, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value)));

    [Fact]
    public async Task Client_credentials_give_a_bearer_token_for_the_external_api()
    {
        var response = await app.CreateClient().PostAsync("/connect/token",
            Form(("client_id", Partner), ("client_secret", Secret), ("grant_type", "client_credentials")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await Json(response);
        Assert.Equal("Bearer", body.GetProperty("token_type").GetString());
        Assert.Equal("external-api", body.GetProperty("scope").GetString());
        Assert.Equal(3600, body.GetProperty("expires_in").GetInt32());
        var client = app.WithToken(body.GetProperty("access_token").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/balance")).StatusCode);
    }

    [Theory]
    [InlineData(Partner, "wrong-secret", "client_credentials", 401, "invalid_client")]
    [InlineData("no-such-partner", Secret, "client_credentials", 401, "invalid_client")]
    [InlineData("a-merchant", Secret, "client_credentials", 401, "invalid_client")]
    [InlineData(Partner, Secret, "password", 400, "unsupported_grant_type")]
    [InlineData(Partner, Secret, "", 400, "invalid_request")]
    [InlineData("", Secret, "client_credentials", 400, "invalid_request")]
    [InlineData(Partner, "", "client_credentials", 400, "invalid_request")]
    public async Task Bad_token_requests_get_oauth_errors(string clientId, string secret, string grantType, int status, string error)
    {
        var response = await app.CreateClient().PostAsync("/connect/token",
            Form(("client_id", clientId), ("client_secret", secret), ("grant_type", grantType)));

        Assert.Equal(status, (int)response.StatusCode);
        var body = await Json(response);
        Assert.Equal(error, body.GetProperty("error").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("error_description").GetString()));
    }

    [Fact]
    public async Task A_json_body_an_empty_body_or_repeated_fields_are_invalid_requests_not_errors()
    {
        var json = await app.CreateClient().PostAsJsonAsync("/connect/token",
            new { client_id = Partner, client_secret = Secret, grant_type = "client_credentials" });
        var empty = await app.CreateClient().PostAsync("/connect/token", null);
        var repeated = await app.CreateClient().PostAsync("/connect/token",
            Form(("client_id", Partner), ("client_id", OtherPartner), ("client_secret", Secret), ("grant_type", "client_credentials")));
        var garbage = await app.CreateClient().PostAsync("/connect/token",
            new StringContent("%%%&&&==%zz", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"));

        foreach (var response in new[] { json, empty, repeated })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("invalid_request", (await Json(response)).GetProperty("error").GetString());
        }
        Assert.True((int)garbage.StatusCode is 400);
    }

    [Fact]
    public async Task Client_credentials_may_come_in_a_basic_authorization_header()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token") { Content = Form(("grant_type", "client_credentials")) };
        request.Headers.Authorization = new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Partner}:{Secret}")));
        var wrong = new HttpRequestMessage(HttpMethod.Post, "/connect/token") { Content = Form(("grant_type", "client_credentials")) };
        wrong.Headers.Authorization = new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Partner}:nope")));
        var garbled = new HttpRequestMessage(HttpMethod.Post, "/connect/token") { Content = Form(("grant_type", "client_credentials")) };
        garbled.Headers.Authorization = new("Basic", "!!!not-base64");

        Assert.Equal(HttpStatusCode.OK, (await app.CreateClient().SendAsync(request)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().SendAsync(wrong)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await app.CreateClient().SendAsync(garbled)).StatusCode);
    }

    [Fact]
    public async Task The_v1_api_needs_a_partner_token()
    {
        var anonymous = await app.CreateClient().GetAsync("/v1/balance");
        var merchant = await app.CreateClientFor("a-merchant", ClientKinds.Merchant).GetAsync("/v1/orders");
        var user = await app.CreateClientAs(7, Serverless.Print.PrintRoles.Customer).GetAsync("/v1/ecards");

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("unauthorized", (await Json(anonymous)).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, merchant.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, user.StatusCode);
        Assert.True((await Json(user)).TryGetProperty("message", out _));
    }
}

/// <summary>The token endpoint's own limit per client_id, with a small budget.</summary>
public sealed class ECardTokenLimitFactory : ECardsFactory
{
    public ECardTokenLimitFactory() => With("RateLimits:Auth:PermitLimit", "3");
}

public sealed class ECardTokenLimitTests(ECardTokenLimitFactory app) : IClassFixture<ECardTokenLimitFactory>
{
    [Fact]
    public async Task Token_requests_are_rate_limited_with_an_oauth_shaped_429()
    {
        HttpResponseMessage last = null!;
        for (var i = 0; i < 5; i++)
            last = await app.CreateClient().PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["client_id"] = Partner, ["client_secret"] = "wrong", ["grant_type"] = "client_credentials",
            }));

        Assert.Equal(HttpStatusCode.TooManyRequests, last.StatusCode);
        Assert.True(last.Headers.RetryAfter?.Delta is { TotalSeconds: >= 1 }, last.Headers.ToString());
        var body = await Json(last);
        // RFC 6749 §5.2 has no code for "too many requests": invalid_request, with the wait in the description.
        Assert.Equal("invalid_request", body.GetProperty("error").GetString());
        Assert.Contains("retry after", body.GetProperty("error_description").GetString());
        Assert.Equal("no-store", last.Headers.CacheControl?.ToString());
    }
}
