using System.Net.Http.Headers;

namespace Serverless.Platform.Http;

/// <summary>Reads the <c>Retry-After</c> header of an answer from a service we call (a webhook receiver, Resend).</summary>
public static class RetryAfterHeader
{
    /// <summary>
    /// The wait the header asks for, from <paramref name="now"/>: its seconds, or the time until its HTTP date (zero
    /// when that date has passed). Null without the header.
    /// </summary>
    public static TimeSpan? Wait(RetryConditionHeaderValue? header, DateTimeOffset now) => header switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date > now ? date - now : TimeSpan.Zero,
        _ => null,
    };
}
