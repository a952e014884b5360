namespace Serverless.Platform.Email;

/// <summary>One email as the development outbox shows it.</summary>
public sealed record OutboxEmail(
    string Id, IReadOnlyList<string> To, string Subject, string? Text, string? Html, string Status, DateTimeOffset CreatedAt);

/// <summary>
/// Reads the emails the app has queued, newest first, with their bodies while they are kept: what
/// <c>GET /dev/outbox</c> serves, and how tests read the codes an email carried (sign-up OTPs, e-card codes).
/// Without <c>RESEND_API_KEY</c> every email ends here with status <c>outbox</c>; an email still waiting for the
/// <c>SendEmail</c> function is listed too, as <c>queued</c>.
/// </summary>
public sealed class Outbox(EmailStore emails)
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    public async Task<IReadOnlyList<OutboxEmail>> ListAsync(string? to = null, int limit = DefaultLimit, CancellationToken cancellationToken = default)
    {
        var records = await emails.ListAsync(to, Math.Clamp(limit, 1, MaxLimit), cancellationToken);
        var contents = await Task.WhenAll(records.Select(r => emails.ReadContentAsync(r.Id, cancellationToken)));
        return records.Zip(contents, (r, content) =>
            new OutboxEmail(r.Id, r.Recipients, r.Subject, content?.Text, content?.Html, r.Status, r.CreatedAt)).ToList();
    }

    /// <summary>The newest email to <paramref name="to"/>, or null.</summary>
    public async Task<OutboxEmail?> LatestAsync(string to, CancellationToken cancellationToken = default) =>
        (await ListAsync(to, 1, cancellationToken)).FirstOrDefault();
}
