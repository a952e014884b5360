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

public sealed record PutInboxSecretRequest([property: JsonPropertyName("secret")] string Secret);

/// <summary>
/// The development webhook inbox: point a webhook endpoint or a checkout callbackUrl at
/// <c>http://localhost:7071/dev/webhooks/{name}</c> and read what arrived at <c>GET /dev/webhooks/{name}</c>.
/// Mapped only when <c>Webhooks:ExposeInbox</c> is on (by default, in Development only): elsewhere the routes do not
/// exist, so they answer 404 and are not packaged as functions.
/// </summary>
public static class WebhookInboxApi
{
    public const int DefaultLimit = 20;

    public static void MapWebhookInboxApi(this IEndpointRouteBuilder app)
    {
        if (!DevelopmentSwitch.IsOn(app.ServiceProvider, WebhookInbox.ExposeSetting))
            return;

        var dev = app.MapGroup("/dev/webhooks").WithTags("Development");

        dev.MapGet("", ListAll).WithName("DevWebhookInboxes")
            .WithSummary("What every development webhook inbox received, newest first (Development only)");
        dev.MapPost("/{name}", Receive).WithName("DevWebhookInboxReceive")
            .WithSummary("Receive a webhook into a development inbox (Development only)")
            .WithDescription("Any body up to the webhook body limit; answers 200 with the verdict on its signature: verified, invalid, " +
                             "not_verified (signed, but no secret is known) or unsigned.")
            .WithMetadata(new RequestSizeLimitAttribute(WebhookKeys.MaxBodyBytes));
        dev.MapGet("/{name}", List).WithName("DevWebhookInbox")
            .WithSummary("What a development webhook inbox received, newest first, with headers, body and signature verdict (Development only)");
        dev.MapPut("/{name}/secret", PutSecret).WithName("DevWebhookInboxSecret")
            .WithSummary("Give a development inbox the secret to verify signatures with, e.g. a checkout store's webhookSecret (Development only)");
    }

    public static async Task<Results<Ok<InboxReceipt>, ErrorResult>> Receive(string name, HttpRequest request, WebhookInbox inbox)
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
        string name, int? limit, WebhookInbox inbox, CancellationToken cancellationToken)
    {
        var problem = BadName(name)
                      ?? Check.Range(limit ?? DefaultLimit, "limit", 1, WebhookInbox.MaxPerInbox);
        if (problem is not null)
            return problem;
        var received = await inbox.ListAsync(name, limit ?? DefaultLimit, cancellationToken);
        return TypedResults.Ok(received.Select(InboxRequestResponse.From).ToList());
    }

    public static async Task<Results<Ok<List<InboxRequestResponse>>, ErrorResult>> ListAll(
        int? limit, WebhookInbox inbox, CancellationToken cancellationToken)
    {
        if (Check.Range(limit ?? DefaultLimit, "limit", 1, WebhookInbox.MaxPerInbox) is { } problem)
            return problem;
        var received = await inbox.ListAllAsync(limit ?? DefaultLimit, cancellationToken);
        return TypedResults.Ok(received.Select(InboxRequestResponse.From).ToList());
    }

    public static async Task<Results<NoContent, ErrorResult>> PutSecret(
        string name, PutInboxSecretRequest body, WebhookInbox inbox, CancellationToken cancellationToken)
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
