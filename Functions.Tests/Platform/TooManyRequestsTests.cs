using Microsoft.AspNetCore.Http;
using Serverless.Platform.Http;

namespace Serverless.Tests.Platform;

/// <summary>Every 429 the app answers says when to come back.</summary>
public sealed class TooManyRequestsTests
{
    private static DefaultHttpContext Context() => new() { Response = { Body = new MemoryStream() } };

    [Fact]
    public async Task A_limits_429_carries_its_wait_in_whole_seconds()
    {
        var context = Context();
        await RateLimitPolicies.TooManyRequests(context, TimeSpan.FromMilliseconds(1500)).ExecuteAsync(context);
        Assert.Equal(429, context.Response.StatusCode);
        Assert.Equal("2", context.Response.Headers.RetryAfter.ToString());
    }

    [Fact]
    public async Task A_surfaces_own_429_carries_its_wait()
    {
        var context = Context();
        await RateLimitPolicies.TooManyRequests(context, TimeSpan.FromHours(24), "too_many_invites", "Try again later.").ExecuteAsync(context);
        Assert.Equal("86400", context.Response.Headers.RetryAfter.ToString());
    }

    [Fact]
    public async Task A_429_written_without_a_wait_still_gets_retry_after()
    {
        var context = Context();
        await ApiErrors.WriteAsync(context, new ApiError(429, "too_many_requests", "Too many requests."));
        Assert.Equal("60", context.Response.Headers.RetryAfter.ToString());
    }
}
