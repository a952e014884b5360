using Serverless.Platform.Storage;

namespace Serverless.Platform.Webhooks;

/// <summary>Settings under <c>Webhooks:</c> (<c>Webhooks__AllowHttp</c> etc. in local.settings.json).</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>Azure Queue storage refuses a visibility timeout beyond seven days.</summary>
    public static readonly TimeSpan QueueVisibilityLimit = QueueDelays.Limit;

    /// <summary>Accept <c>http://</c> targets as well as <c>https://</c>. Unset: only in Development and Testing.</summary>
    public bool? AllowHttp { get; set; }

    /// <summary>
    /// Accept targets that resolve to loopback, private, link-local or other non-public addresses. Off in
    /// production; tests and local development turn it on to reach receivers on 127.0.0.1.
    /// </summary>
    public bool AllowPrivateTargets { get; set; }

    /// <summary>How long one attempt may take, connection included, before it counts as a timeout.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Longest time a retry message stays invisible in the queue; a message that surfaces before its delivery is
    /// due goes back for the rest. At most seven days (the queue's limit); tests set zero so that a retry is made due
    /// by advancing the fake clock instead of waiting.
    /// </summary>
    public TimeSpan MaxVisibilityDelay { get; set; } = QueueVisibilityLimit;
}
