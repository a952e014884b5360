using System.Net;
using Microsoft.IdentityModel.JsonWebTokens;
using Serverless.Commerce;
using Serverless.Commerce.Identity;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Commerce.Identity;

public sealed class CommerceRefreshTokenTests(CommerceIdentityFactory app) : IClassFixture<CommerceIdentityFactory>
{
    [Fact]
    public async Task A_refresh_token_gives_a_new_pair_once_and_the_new_one_works()
    {
        var account = await app.AccountAsync();
        var (_, first) = await app.TokensAsync(account.Email);

        var rotated = await app.RefreshAsync(first);

        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        var body = await rotated.JsonAsync();
        var second = body.GetProperty("refreshToken").GetString()!;
        Assert.NotEqual(first, second);
        Assert.Equal(CommerceFactory.CompanyId, new JsonWebToken(body.GetProperty("token").GetString()).GetClaim(CommerceClaims.Company).Value);
        Assert.Equal(HttpStatusCode.OK, (await app.RefreshAsync(second)).StatusCode);
    }

    [Fact]
    public async Task Reusing_a_rotated_refresh_token_revokes_the_whole_family()
    {
        var account = await app.AccountAsync();
        var (_, first) = await app.TokensAsync(account.Email);
        var second = (await (await app.RefreshAsync(first)).JsonAsync()).GetProperty("refreshToken").GetString()!;

        var replay = await app.RefreshAsync(first);
        var afterReplay = await app.RefreshAsync(second);

        Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
        Assert.Equal("Invalid refresh token", await replay.MessageAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, afterReplay.StatusCode);
        Assert.True((await app.Get<CommerceSessions>().FindFamilyAsync(second))!.Revoked);
        // A fresh sign-in starts a new family.
        var (_, fresh) = await app.TokensAsync(account.Email);
        Assert.Equal(HttpStatusCode.OK, (await app.RefreshAsync(fresh)).StatusCode);
    }

    [Fact]
    public async Task A_refresh_token_expires_after_its_lifetime()
    {
        var account = await app.AccountAsync();
        var (_, stale) = await app.TokensAsync(account.Email);
        var (_, fresh) = await app.TokensAsync(account.Email);

        app.Time.Advance(TimeSpan.FromDays(30) - TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await app.RefreshAsync(fresh)).StatusCode);
        app.Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(HttpStatusCode.Unauthorized, (await app.RefreshAsync(stale)).StatusCode);
    }

    [Fact]
    public async Task A_refresh_after_a_password_reset_or_disabling_is_refused()
    {
        var reset = await app.AccountAsync();
        var disabled = await app.AccountAsync();
        var (_, resetToken) = await app.TokensAsync(reset.Email);
        var (_, disabledToken) = await app.TokensAsync(disabled.Email);

        await app.Get<UserDirectory>().SetPasswordAsync(reset.User.Id, "a-brand-new-password");
        await app.Get<UserDirectory>().DisableAsync(disabled.User.Id);

        Assert.Equal(HttpStatusCode.Unauthorized, (await app.RefreshAsync(resetToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.RefreshAsync(disabledToken)).StatusCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-refresh-token")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task A_malformed_or_unknown_refresh_token_is_refused(string token)
    {
        var response = await app.RefreshAsync(token);

        Assert.Equal(token.Length == 0 ? HttpStatusCode.BadRequest : HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_forged_token_of_a_real_family_is_refused_without_revoking_it()
    {
        var account = await app.AccountAsync();
        var (_, token) = await app.TokensAsync(account.Email);
        var forged = token[..23] + new string('A', 43);

        Assert.Equal(HttpStatusCode.Unauthorized, (await app.RefreshAsync(forged)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.RefreshAsync(token)).StatusCode);
    }

    [Fact]
    public async Task Twenty_concurrent_refreshes_with_one_token_give_exactly_one_new_pair()
    {
        var account = await app.AccountAsync();
        var (_, token) = await app.TokensAsync(account.Email);

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => app.RefreshAsync(token)));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(19, responses.Count(r => r.StatusCode == HttpStatusCode.Unauthorized));
        var family = await app.Get<CommerceSessions>().FindFamilyAsync(token);
        Assert.Equal(1, family!.Generation);
    }
}

/// <summary>A rotation that storage stored but whose answer was lost: the SDK's retry meets it, and the seam knows it by its operation id.</summary>
public sealed class CommerceRefreshLostAnswerTests(CommerceRefreshLostAnswerTests.Factory app) : IClassFixture<CommerceRefreshLostAnswerTests.Factory>
{
    public sealed class Factory : CommerceIdentityFactory
    {
        public Factory() => FrontTablesWithLossyProxy();
    }

    [Fact]
    public async Task A_rotation_whose_answer_was_lost_answers_the_pair_it_stored()
    {
        var account = await app.AccountAsync();
        var (_, token) = await app.TokensAsync(account.Email);
        var table = app.Get<StorageAccount>().TableName(CommerceSessions.TableName);
        var lost = app.Proxy!.Lost;
        app.Proxy.LoseAnswerTo(r => r.Method == "POST" && LossyStorageProxy.BodyOf(r) is var body
                                                         && body.Contains(table, StringComparison.Ordinal) && body.Contains("rotated-", StringComparison.Ordinal));

        var response = await app.RefreshAsync(token);

        Assert.Equal(lost + 1, app.Proxy.Lost);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var next = (await response.JsonAsync()).GetProperty("refreshToken").GetString()!;
        var family = await app.Get<CommerceSessions>().FindFamilyAsync(next);
        Assert.Equal(1, family!.Generation);
        Assert.False(family.Revoked);
        Assert.Equal(HttpStatusCode.OK, (await app.RefreshAsync(next)).StatusCode);
    }
}
