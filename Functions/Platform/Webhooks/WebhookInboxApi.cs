using System.ComponentModel.DataAnnotations;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Serverless.Platform.Hosting;
using Serverless.Platform.Http;

namespace Serverless.Platform.Webhooks;

public sealed record InboxRequestResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("inbox")] string Inbox,
    [property: JsonPropertyName("received_at")] DateTimeOffset ReceivedAt,
    [property: JsonPropertyName("signature_scheme")] string? SignatureScheme,
    [property: JsonPropertyName("signature")] string Signature,
    [property: JsonPropertyName("signature_detail")] string SignatureDetail,
    [property: JsonPropertyName("headers")] IReadOnlyDictionary<string, string> Headers,
    [property: JsonPropertyName("body")] string Body)
{
    public static InboxRequestResponse From(InboxRequest r) =>
        new(r.Id, r.Inbox, r.ReceivedAt, r.SignatureScheme, r.Signature, r.SignatureDetail,
            JsonSerializer.Deserialize<Dictionary<string, string>>(r.Headers) ?? [], Encoding.UTF8.GetString(r.Body));
}

public sealed record InboxReceipt(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("signature")] string Signature,
    [property: JsonPropertyName("signature_detail")] string SignatureDetail);

public sealed record PutInboxSecretRequest([property: JsonPropertyName("secret"), Required, StringLength(200, MinimumLength = 1)] string Secret);

/// <summary>
/// The development webhook inbox: point a webhook endpoint or a checkout callbackUrl at
/// <c>http://localhost:7071/dev/webhooks/{name}</c> and read what arrived at <c>GET /dev/webhooks/{name}</c>.
/// Mapped only when <c>Webhooks:ExposeInbox</c> is on (by default, in Development only): elsewhere the routes do not
/// exist, so they answer 404 and are not packaged as functions.
/// </summary>
public static class WebhookInboxApi
{
    public const int DefaultLimit = 20;

    /// <summary>An inbox name as <see cref="WebhookInbox.CheckName"/> takes it, for the document.</summary>
    private const string InboxNamePattern = "^[A-Za-z0-9._-]{1,64}$";

    public static void MapWebhookInboxApi(this IEndpointRouteBuilder app)
    {
        if (!DevelopmentSwitch.IsOn(app.ServiceProvider, WebhookInbox.ExposeSetting))
            return;

        var dev = app.MapGroup("/dev/webhooks").WithTags("Development");

        dev.MapGet("", ListAll).WithName("DevWebhookInboxes")
            .WithSummary("What every development webhook inbox received, newest first (Development only)")
            .WithDescription("Served only where the development webhook inbox is switched on (Webhooks:ExposeInbox, by default in " +
            "Development); elsewhere the route does not exist. No credentials. Lists the requests every inbox " +
            "received, newest first, each with its headers, body and signature verdict; limit is 1 to 50 (default 20). " +
            "400 validation_error when limit is out of range.");
        dev.MapPost("/{name}", Receive).WithName("DevWebhookInboxReceive").ProducesErrors(StatusCodes.Status400BadRequest, StatusCodes.Status413PayloadTooLarge)
            .WithSummary("Receive a webhook into a development inbox (Development only)")
            .WithDescription("Served only where the development webhook inbox is switched on (Webhooks:ExposeInbox, by default in " +
            "Development); elsewhere the route does not exist. No credentials. Stores any request sent to the named " +
            "inbox (bodies up to 64 KiB; an inbox keeps its newest 50) and answers 200 with its id and the verdict on " +
            "its signature: verified, invalid, not_verified (signed, but no secret is known) or unsigned. 400 " +
            "invalid_inbox for a name that is not 1 to 64 letters, digits, '.', '_' or '-'.")
            .WithMetadata(new RequestSizeLimitAttribute(WebhookKeys.MaxBodyBytes));
        dev.MapGet("/{name}", List).WithName("DevWebhookInbox")
            .WithSummary("What a development webhook inbox received, newest first, with headers, body and signature verdict (Development only)")
            .WithDescription("Served only where the development webhook inbox is switched on (Webhooks:ExposeInbox, by default in " +
            "Development); elsewhere the route does not exist. No credentials. Lists what the named inbox received, " +
            "newest first (an inbox keeps its newest 50); limit is 1 to 50 (default 20). 400 invalid_inbox for a name " +
            "that is not 1 to 64 letters, digits, '.', '_' or '-'; 400 validation_error when limit is out of range.");
        dev.MapPut("/{name}/secret", PutSecret).WithName("DevWebhookInboxSecret")
            .WithSummary("Give a development inbox the secret to verify signatures with, e.g. a checkout store's webhookSecret (Development only)")
            .WithDescription("Served only where the development webhook inbox is switched on (Webhooks:ExposeInbox, by default in " +
            "Development); elsewhere the route does not exist. No credentials. Sets the secret the named inbox " +
            "verifies signatures with, replacing any, and answers 204. 400 invalid_inbox for a bad name; 400 " +
            "validation_error when secret is blank or longer than 200 characters.");
    }

    public static async Task<Results<Ok<InboxReceipt>, ErrorResult>> Receive([RegularExpression(InboxNamePattern)] string name, HttpRequest request, WebhookInbox inbox)
    {
        if (BadName(name) is { } badName)
            return badName;
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
        var headers = request.Headers.Select(h => new KeyValuePair<string, string>(h.Key, h.Value.ToString()));
        var received = await inbox.ReceiveAsync(name, headers, buffer.ToArray(), request.HttpContext.RequestAborted);
        return TypedResults.Ok(new InboxReceipt(received.Id, received.Signature, received.SignatureDetail));
    }

    public static async Task<Results<Ok<List<InboxRequestResponse>>, ErrorResult>> List(
        [RegularExpression(InboxNamePattern)] string name, [Range(1, WebhookInbox.MaxPerInbox)] int? limit, WebhookInbox inbox, CancellationToken cancellationToken)
    {
        var problem = BadName(name)
                      ?? Check.Range(limit ?? DefaultLimit, "limit", 1, WebhookInbox.MaxPerInbox);
        if (problem is not null)
            return problem;
        var received = await inbox.ListAsync(name, limit ?? DefaultLimit, cancellationToken);
        return TypedResults.Ok(received.Select(InboxRequestResponse.From).ToList());
    }

    public static async Task<Results<Ok<List<InboxRequestResponse>>, ErrorResult>> ListAll(
        [Range(1, WebhookInbox.MaxPerInbox)] int? limit, WebhookInbox inbox, CancellationToken cancellationToken)
    {
        if (Check.Range(limit ?? DefaultLimit, "limit", 1, WebhookInbox.MaxPerInbox) is { } problem)
            return problem;
        var received = await inbox.ListAllAsync(limit ?? DefaultLimit, cancellationToken);
        return TypedResults.Ok(received.Select(InboxRequestResponse.From).ToList());
    }

    public static async Task<Results<NoContent, ErrorResult>> PutSecret(
        [RegularExpression(InboxNamePattern)] string name, PutInboxSecretRequest body, WebhookInbox inbox, CancellationToken cancellationToken)
    {
        var problem = BadName(name)
                      ?? Check.Required(body.Secret, "secret", 200);
        if (problem is not null)
            return problem;
        await inbox.SetSecretAsync(name, body.Secret.Trim(), cancellationToken);
        return TypedResults.NoContent();
    }

    private static ErrorResult? BadName(string name) =>
        WebhookInbox.CheckName(name) is { } problem ? ApiErrors.BadRequest(problem, "invalid_inbox") : null;
}
