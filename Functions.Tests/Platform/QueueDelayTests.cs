using System.Net.Http.Headers;
using Serverless.Platform.Http;
using Serverless.Platform.Storage;

namespace Serverless.Tests.Platform;

public sealed class QueueDelayTests
{
    [Theory]
    [InlineData(-5.0, 60.0, 0.0)]
    [InlineData(0.0, 60.0, 0.0)]
    [InlineData(0.2, 60.0, 1.0)]
    [InlineData(4.5, 60.0, 5.0)]
    [InlineData(30.0, 60.0, 30.0)]
    [InlineData(90.0, 60.0, 60.0)]
    [InlineData(90.0, 0.0, 0.0)]
    [InlineData(10 * 86400.0, 8 * 86400.0, 7 * 86400.0)]
    public void A_visibility_is_the_wait_capped_and_rounded_up_to_whole_seconds(double delaySeconds, double capSeconds, double expectedSeconds) =>
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), QueueDelays.Visibility(TimeSpan.FromSeconds(delaySeconds), TimeSpan.FromSeconds(capSeconds)));

    [Fact]
    public void Retry_After_is_a_wait_in_seconds_or_until_a_date_and_zero_once_the_date_has_passed()
    {
        var now = new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

        Assert.Equal(TimeSpan.FromSeconds(90), RetryAfterHeader.Wait(new RetryConditionHeaderValue(TimeSpan.FromSeconds(90)), now));
        Assert.Equal(TimeSpan.FromMinutes(10), RetryAfterHeader.Wait(new RetryConditionHeaderValue(now.AddMinutes(10)), now));
        Assert.Equal(TimeSpan.Zero, RetryAfterHeader.Wait(new RetryConditionHeaderValue(now.AddMinutes(-1)), now));
        Assert.Null(RetryAfterHeader.Wait(null, now));
    }
}
