namespace Serverless.Platform.Storage;

/// <summary>How long a queue message stays invisible before it is handled: the one rule every queue user follows.</summary>
public static class QueueDelays
{
    /// <summary>Azure Queue storage refuses a visibility timeout beyond seven days.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromDays(7);

    /// <summary>
    /// The visibility timeout for a message that should surface after <paramref name="delay"/>: none for a wait
    /// that is over, at most <paramref name="cap"/> (and the queue's <see cref="Limit"/>), in whole seconds rounded
    /// up. Queues count visibility in whole seconds; rounding down would surface the message before its time, and a
    /// message too early goes back for the rest of the wait, over and over. A wait longer than the cap is a chain of
    /// messages, each sending the remainder.
    /// </summary>
    public static TimeSpan Visibility(TimeSpan delay, TimeSpan cap)
    {
        if (delay <= TimeSpan.Zero)
            return TimeSpan.Zero;
        var limit = cap < Limit ? cap : Limit;
        var capped = delay < limit ? delay : limit;
        return TimeSpan.FromSeconds(Math.Ceiling(capped.TotalSeconds));
    }
}
