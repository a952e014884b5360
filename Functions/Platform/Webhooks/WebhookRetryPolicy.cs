using System.Net.Http.Headers;
using Serverless.Platform.Http;

namespace Serverless.Platform.Webhooks;

/// <summary>What an attempt's result means for the delivery.</summary>
public enum AttemptOutcome
{
    Delivered,
    Retry,
    Failed,

    /// <summary>410 Gone: the receiver wants no more webhooks; the delivery fails and the endpoint is disabled.</summary>
    Gone,
}

/// <summary>
/// When to try again: the Standard Webhooks schedule (after the first attempt 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
/// 14 h, 20 h, 24 h), each step ±10% at random so that retries of many deliveries do not arrive together, or the
/// receiver's <c>Retry-After</c> when that is longer (up to a day). Ten attempts in all, then the delivery fails.
/// </summary>
public static class WebhookRetryPolicy
{
    public static readonly IReadOnlyList<TimeSpan> Schedule =
    [
        TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2),
        TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(14), TimeSpan.FromHours(20), TimeSpan.FromHours(24),
    ];

    public const double Jitter = 0.1;

    /// <summary>The longest <c>Retry-After</c> honoured; a receiver asking for more is tried again after this.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromHours(24);

    public static int MaxAttempts => Schedule.Count + 1;

    public static AttemptOutcome Classify(int statusCode) => statusCode switch
    {
        >= 200 and < 300 => AttemptOutcome.Delivered,
        410 => AttemptOutcome.Gone,
        408 or 429 or >= 500 => AttemptOutcome.Retry,
        // Redirects are not followed (the URL should be updated) and other 4xx will not fix themselves.
        _ => AttemptOutcome.Failed,
    };

    /// <summary>The wait before the attempt after <paramref name="attempt"/>, or null when that was the last one.</summary>
    public static TimeSpan? DelayAfter(int attempt, TimeSpan? retryAfter, Random random)
    {
        if (attempt < 1 || attempt >= MaxAttempts)
            return null;
        var step = Schedule[attempt - 1] * (1 + Jitter * (2 * random.NextDouble() - 1));
        if (retryAfter is { } asked && asked > step)
            return asked < MaxRetryAfter ? asked : MaxRetryAfter;
        return step;
    }

    /// <summary>
    /// A <c>Retry-After</c> header as a wait from <paramref name="now"/>: seconds, or an HTTP date; null when it asks
    /// for no wait (none, or a date that has passed), which leaves the schedule's step as it is.
    /// </summary>
    public static TimeSpan? RetryAfter(RetryConditionHeaderValue? header, DateTimeOffset now) =>
        RetryAfterHeader.Wait(header, now) is { } wait && wait > TimeSpan.Zero ? wait : null;
}
