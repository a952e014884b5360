using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;

namespace Serverless.Commerce.Identity;

/// <summary>
/// Which company an integration belongs to, in <c>commercemembers</c>: row <c>client-{clientId}</c> of the company's
/// partition (the company's list) and the row of partition <c>client-{clientId}</c> (the token endpoint's point read).
/// </summary>
public sealed record CommerceIntegrationRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string ClientId { get; set; } = "";
    public string CompanyId { get; set; } = "";
    public string Name { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>An integration as the admin API shows it.</summary>
public sealed record CommerceIntegration(string ClientId, string Name, string CompanyId, bool Disabled, DateTimeOffset CreatedAt);

/// <summary>
/// Integrations: platform API clients of kind <c>integration</c> (<see cref="ApiClientDirectory"/>, secrets hashed
/// there) that belong to one company. The membership rows are written before the client, so a client never exists
/// without its company; rows whose client never came to exist are skipped.
/// </summary>
public sealed class CommerceIntegrations(StorageAccount storage, ApiClientDirectory clients, TimeProvider time)
{
    private const string ClientPrefix = "client-";

    private TableClient Members => storage.Table(CommerceAccounts.MembersTable);

    private static string ClientKey(string clientId) => ClientPrefix + TableKeys.Escape(clientId);

    /// <summary>Creates an integration of the company; its secret is in the result this once. Null when the client id is taken.</summary>
    public async Task<CreatedApiClient?> CreateAsync(string companyId, string name, string? clientId = null, string? chosenSecret = null,
        CancellationToken cancellationToken = default)
    {
        clientId ??= $"{ClientKinds.Integration}_{Guid.NewGuid():N}"[..(ClientKinds.Integration.Length + 17)];
        if (await FindCompanyAsync(clientId, cancellationToken) is { } owner && owner != companyId)
            return null;
        var now = time.GetUtcNow();
        CommerceIntegrationRow Row(string partition, string row) =>
            new() { PartitionKey = partition, RowKey = row, ClientId = clientId, CompanyId = companyId, Name = name, CreatedAt = now };
        await Members.UpsertEntityAsync(Row(ClientKey(clientId), ""), TableUpdateMode.Replace, cancellationToken);
        await Members.UpsertEntityAsync(Row(companyId, ClientKey(clientId)), TableUpdateMode.Replace, cancellationToken);
        return await clients.CreateAsync(ClientKinds.Integration, name, clientId, chosenSecret, cancellationToken);
    }

    /// <summary>The company an integration belongs to, or null (a client that is no commerce integration).</summary>
    public async Task<string?> FindCompanyAsync(string clientId, CancellationToken cancellationToken = default) =>
        (await Members.FindAsync<CommerceIntegrationRow>(ClientKey(clientId), "", cancellationToken))?.CompanyId;

    public async Task<IReadOnlyList<CommerceIntegration>> ListAsync(string companyId, CancellationToken cancellationToken = default)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {companyId} and RowKey ge {ClientPrefix} and RowKey lt {"client."}");
        var rows = new List<CommerceIntegrationRow>();
        await foreach (var row in Members.QueryAsync<CommerceIntegrationRow>(filter, cancellationToken: cancellationToken))
            rows.Add(row);
        var found = await Task.WhenAll(rows.Select(r => clients.FindAsync(r.ClientId, cancellationToken)));
        return rows.Zip(found)
            .Where(p => p.Second is { Kind: ClientKinds.Integration })
            .Select(p => new CommerceIntegration(p.First.ClientId, p.Second!.Name, companyId, p.Second.Disabled, p.Second.CreatedAt))
            .OrderBy(i => i.CreatedAt)
            .ToList();
    }

    /// <summary>Disables the company's integration: its secret and tokens stop working. False when the company has no such integration.</summary>
    public async Task<bool> DisableAsync(string companyId, string clientId, CancellationToken cancellationToken = default)
    {
        if (await Members.FindAsync<CommerceIntegrationRow>(companyId, ClientKey(clientId), cancellationToken) is null)
            return false;
        return await clients.DisableAsync(clientId, cancellationToken) is not null;
    }
}
