using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Serverless.Platform.Hosting;
using Serverless.Platform.Http;

namespace Serverless.Platform.Email;

public sealed record OutboxEmailResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("to")] IReadOnlyList<string> To,
    [property: JsonPropertyName("subject")] string Subject,
    [property: JsonPropertyName("text")] string? Text,
    [property: JsonPropertyName("html")] string? Html,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt);

/// <summary>
/// The development outbox: <c>GET /dev/outbox?to=&amp;limit=</c> lists emails newest first, so a developer can read
/// the codes the app mailed. Mapped only when <c>Email:ExposeOutbox</c> is on (by default, in Development only):
/// elsewhere the route does not exist at all, so it is neither served nor packaged as a function.
/// </summary>
public static class EmailApi
{
    public const string ExposeOutboxSetting = "Email:ExposeOutbox";

    public static void MapEmailApi(this IEndpointRouteBuilder app)
    {
        if (!ExposesOutbox(app.ServiceProvider))
            return;

        var dev = app.MapGroup("/dev").WithTags("Development");

        dev.MapGet("/outbox", ListOutbox).WithName("DevOutbox").WithSummary("The development email outbox: emails that would have been sent (Development only)")
            .WithDescription("Served only where the development outbox is switched on (Email:ExposeOutbox, by default in Development); " +
            "elsewhere the route does not exist. No credentials. Lists the emails the app would have sent, newest " +
            "first, with recipients, subject, text and HTML bodies; to keeps those sent to one address, and limit is 1 " +
            "to 100 (default 20). 400 validation_error when to is not an email address or limit is out of range.");
    }

    /// <summary>Whether development outboxes are served (<c>Email:ExposeOutbox</c>; by default, in Development only).</summary>
    public static bool ExposesOutbox(IServiceProvider services) => DevelopmentSwitch.IsOn(services, ExposeOutboxSetting);

    public static async Task<Results<Ok<List<OutboxEmailResponse>>, ErrorResult>> ListOutbox(
        string? to, [Range(1, Outbox.MaxLimit)] int? limit, Outbox outbox, CancellationToken cancellationToken)
    {
        var problem = Check.Email(to, "to") ?? Check.Range(limit ?? Outbox.DefaultLimit, "limit", 1, Outbox.MaxLimit);
        if (problem is not null)
            return problem;
        var emails = await outbox.ListAsync(to, limit ?? Outbox.DefaultLimit, cancellationToken);
        return TypedResults.Ok(emails.Select(e => new OutboxEmailResponse(e.Id, e.To, e.Subject, e.Text, e.Html, e.Status, e.CreatedAt)).ToList());
    }
}
