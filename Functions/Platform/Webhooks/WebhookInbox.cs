using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Storage;

namespace Serverless.Platform.Webhooks;

/// <summary>
/// A webhook as the development inbox received it. Key design of the <c>webhookinbox</c> table (development only):
/// <code>
/// PK = inbox name
///   RK "secret"                             the secret the inbox was given to verify with (optional)
///   RK "r_&lt;newest-first ticks&gt;_&lt;6 hex&gt;"    one received request, newest first; at most MaxPerInbox are kept
/// </code>
/// </summary>
public sealed record InboxRequest : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string Inbox { get; set; } = "";
    public DateTimeOffset ReceivedAt { get; set; }

    /// <summary>The request's headers as a JSON object, names in lower case.</summary>
    public string Headers { get; set; } = "{}";

    public byte[] Body { get; set; } = [];
    public string? SignatureScheme { get; set; }
    public string Signature { get; set; } = InboxVerdicts.Unsigned;
    public string SignatureDetail { get; set; } = "";

    public string Id => RowKey;
}

/// <summary>The secret an inbox was told to verify signatures with.</summary>
public sealed record InboxSecret : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = WebhookInbox.SecretRow;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string Secret { get; set; } = "";
}

/// <summary>What the inbox concluded about a request's signature.</summary>
public static class InboxVerdicts
{
    /// <summary>The signature holds under a secret the inbox knows.</summary>
    public const string Verified = "verified";

    /// <summary>The inbox knows a secret and the signature does not hold under it (or its timestamp is stale).</summary>
    public const string Invalid = "invalid";

    /// <summary>Signed, but the inbox knows no secret to check it with.</summary>
    public const string NotVerified = "not_verified";

    /// <summary>No signature header at all.</summary>
    public const string Unsigned = "unsigned";
}

/// <summary>A received request's signature: its scheme (null when unsigned), the verdict and why.</summary>
public sealed record InboxVerdict(string? Scheme, string Verdict, string Detail);

/// <summary>
/// The development webhook inbox behind <c>/dev/webhooks/{name}</c>: keeps the newest requests each named inbox
/// received, with their headers, exact body and a verdict on their signature, so webhooks can be watched with
/// nothing but the app running. Standard Webhooks signatures are checked against the secret of every platform
/// endpoint whose URL is this inbox (its path <c>/dev/webhooks/{name}</c>, whatever host names the app) and the
/// secret the inbox was given; an <c>x-webhook-signature</c> (a checkout callback, signed with a store's secret,
/// which the platform does not hold) only against the secret the inbox was given.
/// </summary>
public sealed class WebhookInbox(StorageAccount storage, WebhookSigners signers, TimeProvider time)
{
    public const string TableName = "webhookinbox";
    public const string SecretRow = "secret";
    public const string ExposeSetting = "Webhooks:ExposeInbox";
    public const string Path = "/dev/webhooks/";
    public const int MaxPerInbox = 50;
    public const int MaxNameLength = 64;

    /// <summary>How far a Standard Webhooks timestamp may be from now (the specification's suggestion).</summary>
    public static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    private const string RequestPrefix = "r_";
    private const int MaxHeaderValueLength = 1000;

    private TableClient Table => storage.Table(TableName);

    /// <summary>Null when the name is fine: letters, digits, '.', '_' and '-', at most <see cref="MaxNameLength"/>.</summary>
    public static string? CheckName(string name) =>
        name.Length is > 0 and <= MaxNameLength && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')
            ? null
            : $"An inbox name is 1 to {MaxNameLength} letters, digits, '.', '_' or '-'.";

    /// <summary>Stores a received request with the verdict on its signature; the oldest beyond <see cref="MaxPerInbox"/> go.</summary>
    public async Task<InboxRequest> ReceiveAsync(string name, IEnumerable<KeyValuePair<string, string>> headers, byte[] body,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var headerMap = headers.GroupBy(h => h.Key.ToLowerInvariant(), StringComparer.Ordinal).ToDictionary(
            g => g.Key, g => Truncate(string.Join(", ", g.Select(h => h.Value))), StringComparer.Ordinal);
        var verdict = await VerifyAsync(name, headerMap, body, now, cancellationToken);
        var request = new InboxRequest
        {
            PartitionKey = name,
            RowKey = RequestPrefix + TableKeys.NewestFirst(now) + "_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3)),
            Inbox = name,
            ReceivedAt = now,
            Headers = JsonSerializer.Serialize(headerMap),
            Body = body,
            SignatureScheme = verdict.Scheme,
            Signature = verdict.Verdict,
            SignatureDetail = verdict.Detail,
        };
        await Table.AddEntityAsync(request, cancellationToken);
        await TrimAsync(name, cancellationToken);
        return request;
    }

    /// <summary>An inbox's requests, newest first.</summary>
    public async Task<IReadOnlyList<InboxRequest>> ListAsync(string name, int limit, CancellationToken cancellationToken)
    {
        var rows = new List<InboxRequest>();
        await foreach (var row in Table.QueryAsync<InboxRequest>(RequestsFilter(name), maxPerPage: limit, cancellationToken: cancellationToken))
        {
            rows.Add(row);
            if (rows.Count == limit)
                break;
        }
        return rows;
    }

    /// <summary>Every inbox's requests, newest first: a scan of the table, which only development serves.</summary>
    public async Task<IReadOnlyList<InboxRequest>> ListAllAsync(int limit, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"RowKey ge {RequestPrefix} and RowKey lt {"r`"}");
        var rows = new List<InboxRequest>();
        await foreach (var row in Table.QueryAsync<InboxRequest>(filter, cancellationToken: cancellationToken))
            rows.Add(row);
        return rows.OrderByDescending(r => r.ReceivedAt).ThenBy(r => r.RowKey, StringComparer.Ordinal).Take(limit).ToList();
    }

    /// <summary>Gives the inbox a secret to verify with (a store's webhookSecret, a whsec_ secret), replacing any.</summary>
    public Task SetSecretAsync(string name, string secret, CancellationToken cancellationToken) =>
        Table.UpsertEntityAsync(new InboxSecret { PartitionKey = name, Secret = secret }, TableUpdateMode.Replace, cancellationToken);

    private async Task<InboxVerdict> VerifyAsync(string name, IReadOnlyDictionary<string, string> headers, byte[] body, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var given = await Table.FindAsync<InboxSecret>(name, SecretRow, cancellationToken);
        var told = given is null ? [] : new[] { ("the secret this inbox was given", given.Secret) };
        if (headers.TryGetValue("webhook-signature", out var signatures))
        {
            var secrets = told.Concat(await EndpointSecretsAsync(name, cancellationToken)).ToList();
            return VerifyStandard(name, secrets, headers, signatures, body, now);
        }
        if (headers.TryGetValue(BodyHmacSigner.HeaderName, out var signature))
        {
            if (given is null)
                return new(WebhookSchemes.BodyHmac, InboxVerdicts.NotVerified,
                    $"Signature present, not verified: it is made with a secret of the sender's (a checkout store's webhookSecret); " +
                    $"give it to the inbox with PUT {Path}{name}/secret to verify.");
            var expected = Header(signers.For(WebhookSchemes.BodyHmac), "", now, body, given.Secret, BodyHmacSigner.HeaderName);
            return SameText(signature.Trim(), expected)
                ? new(WebhookSchemes.BodyHmac, InboxVerdicts.Verified, "Signed with the secret this inbox was given.")
                : new(WebhookSchemes.BodyHmac, InboxVerdicts.Invalid, "Does not match the secret this inbox was given.");
        }
        return new(null, InboxVerdicts.Unsigned, "No webhook-signature or x-webhook-signature header.");
    }

    private InboxVerdict VerifyStandard(string name, IReadOnlyList<(string Label, string Secret)> secrets, IReadOnlyDictionary<string, string> headers,
        string signatures, byte[] body, DateTimeOffset now)
    {
        const string scheme = WebhookSchemes.Standard;
        if (!headers.TryGetValue("webhook-id", out var id) || !headers.TryGetValue("webhook-timestamp", out var timestamp)
            || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
            return new(scheme, InboxVerdicts.Invalid, "webhook-id or a numeric webhook-timestamp is missing.");
        if (secrets.Count == 0)
            return new(scheme, InboxVerdicts.NotVerified,
                $"Signature present, not verified: no platform webhook endpoint has this inbox's URL and the inbox was given no secret " +
                $"(PUT {Path}{name}/secret).");
        var sentAt = DateTimeOffset.FromUnixTimeSeconds(seconds);
        if ((now - sentAt).Duration() > Tolerance)
            return new(scheme, InboxVerdicts.Invalid, $"webhook-timestamp {sentAt:O} is more than {Tolerance.TotalMinutes:0} minutes from now ({now:O}).");
        var given = signatures.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        foreach (var (label, secret) in secrets)
        {
            var expected = Header(signers.For(scheme), id, sentAt, body, secret, "webhook-signature");
            if (given.Any(g => SameText(g, expected)))
                return new(scheme, InboxVerdicts.Verified, $"Signed with {label}.");
        }
        return new(scheme, InboxVerdicts.Invalid, $"Matches none of: {string.Join("; ", secrets.Select(s => s.Label))}.");
    }

    /// <summary>The secrets of the platform endpoints that point at this inbox: a scan, which only development serves.</summary>
    private async Task<IReadOnlyList<(string Label, string Secret)>> EndpointSecretsAsync(string name, CancellationToken cancellationToken)
    {
        var found = new List<(string, string)>();
        var filter = TableClient.CreateQueryFilter($"RowKey eq {WebhookKeys.EndpointRow}");
        await foreach (var endpoint in storage.Table(WebhookKeys.TableName).QueryAsync<WebhookEndpoint>(filter, cancellationToken: cancellationToken))
        {
            if (Uri.TryCreate(endpoint.Url, UriKind.Absolute, out var url)
                && string.Equals(url.AbsolutePath.TrimEnd('/'), Path + name, StringComparison.OrdinalIgnoreCase))
                found.Add(($"the secret of the webhook endpoint of owner '{endpoint.OwnerId}'", endpoint.Secret));
        }
        return found;
    }

    private static string Header(IWebhookSigner signer, string id, DateTimeOffset at, byte[] body, string secret, string name) =>
        signer.Sign(new WebhookSigningInput(id, at, body, secret)).First(h => h.Key == name).Value;

    private static bool SameText(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected));

    private async Task TrimAsync(string name, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        await foreach (var row in Table.QueryAsync<TableEntity>(RequestsFilter(name), select: ["RowKey"], cancellationToken: cancellationToken))
            keys.Add(row.RowKey);
        foreach (var key in keys.Skip(MaxPerInbox))
        {
            try
            {
                await Table.DeleteEntityAsync(name, key, ETag.All, cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                // Trimmed by a request received at the same time.
            }
        }
    }

    private static string RequestsFilter(string name) =>
        TableClient.CreateQueryFilter($"PartitionKey eq {name} and RowKey ge {RequestPrefix} and RowKey lt {"r`"}");

    private static string Truncate(string value) => value.Length > MaxHeaderValueLength ? value[..MaxHeaderValueLength] + "..." : value;
}
