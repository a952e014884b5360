using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace Serverless.Platform.Storage;

/// <summary>
/// The one storage account the app uses, from the <c>AzureWebJobsStorage</c> setting: a connection string locally
/// (<c>UseDevelopmentStorage=true</c> or Azurite's), or identity-based service URIs in Azure
/// (<c>AzureWebJobsStorage__tableServiceUri</c>, <c>__blobServiceUri</c>, <c>__queueServiceUri</c>).
/// Every table, queue and container name is prefixed with <c>Storage:Prefix</c> so that test classes and
/// side-by-side environments never see each other's data.
/// </summary>
public sealed partial class StorageAccount
{
    public const string ConnectionSetting = "AzureWebJobsStorage";

    private readonly ConcurrentDictionary<string, TableClient> _tables = new();
    private readonly ConcurrentDictionary<string, QueueClient> _queues = new();
    private readonly ConcurrentDictionary<string, Azure.Storage.Blobs.BlobContainerClient> _containers = new();

    public StorageAccount(IConfiguration configuration, StorageCatalog catalog)
    {
        Catalog = catalog;
        Prefix = configuration["Storage:Prefix"] ?? "";
        if (Prefix.Length > 0 && !PrefixPattern().IsMatch(Prefix))
            throw new InvalidOperationException("Storage:Prefix must be lowercase letters and digits, starting with a letter, at most 20 characters.");

        var tableOptions = Configure(new TableClientOptions(), new StorageMeteringPolicy("table"));
        var blobOptions = Configure(new BlobClientOptions(), new StorageMeteringPolicy("blob"));
        var queueOptions = Configure(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 }, new StorageMeteringPolicy("queue"));

        var connectionString = configuration[ConnectionSetting];
        var section = configuration.GetSection(ConnectionSetting);
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            if (connectionString.Trim().Equals("UseDevelopmentStorage=true", StringComparison.OrdinalIgnoreCase))
                connectionString = DevelopmentStorage;
            Description = DescribeConnectionString(connectionString);
            Tables = new TableServiceClient(connectionString, tableOptions);
            Blobs = new BlobServiceClient(connectionString, blobOptions);
            Queues = new QueueServiceClient(connectionString, queueOptions);
        }
        else if (section["tableServiceUri"] is { Length: > 0 } tableUri
                 && section["blobServiceUri"] is { Length: > 0 } blobUri
                 && section["queueServiceUri"] is { Length: > 0 } queueUri)
        {
            TokenCredential credential = section["clientId"] is { Length: > 0 } clientId
                ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
                : new DefaultAzureCredential();
            Description = tableUri;
            Tables = new TableServiceClient(new Uri(tableUri), credential, tableOptions);
            Blobs = new BlobServiceClient(new Uri(blobUri), credential, blobOptions);
            Queues = new QueueServiceClient(new Uri(queueUri), credential, queueOptions);
        }
        else
        {
            throw new StorageNotConfiguredException(
                $"No storage account is configured. Set {ConnectionSetting} to a connection string " +
                $"(UseDevelopmentStorage=true for Azurite) or set {ConnectionSetting}__tableServiceUri, " +
                $"__blobServiceUri and __queueServiceUri for an identity-based connection.");
        }
    }

    /// <summary>Azurite's well-known development account on its default ports.</summary>
    public const string DevelopmentStorage =
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
        "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
        "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;" +
        "TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;";

    public StorageCatalog Catalog { get; }

    public string Prefix { get; }

    /// <summary>Where the account is, safe to log (no keys).</summary>
    public string Description { get; }

    public TableServiceClient Tables { get; }

    public BlobServiceClient Blobs { get; }

    public QueueServiceClient Queues { get; }

    public TableClient Table(string name) =>
        _tables.GetOrAdd(name, n => Tables.GetTableClient(TableName(n)));

    public QueueClient Queue(string name) =>
        _queues.GetOrAdd(name, n => Queues.GetQueueClient(Prefix + n));

    public BlobContainerClient Container(string name) =>
        _containers.GetOrAdd(name, n => Blobs.GetBlobContainerClient(Prefix + n));

    /// <summary>Table names allow letters and digits only, so a logical queue-style name loses its dashes.</summary>
    public string TableName(string name) => Prefix + name.Replace("-", "", StringComparison.Ordinal);

    public string QueueName(string name) => Prefix + name;

    private static T Configure<T>(T options, HttpPipelinePolicy policy) where T : ClientOptions
    {
        // Fail fast when storage is gone: a request should answer 503 within seconds, not hang on retries.
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(2);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
        options.AddPolicy(policy, HttpPipelinePosition.PerRetry);
        options.Diagnostics.IsLoggingContentEnabled = false;
        return options;
    }

    private static string DescribeConnectionString(string connectionString)
    {
        var parts = connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        return parts.GetValueOrDefault("TableEndpoint")
               ?? $"account '{parts.GetValueOrDefault("AccountName") ?? "?"}'";
    }

    [GeneratedRegex("^[a-z][a-z0-9]{0,19}$")]
    private static partial Regex PrefixPattern();
}

/// <summary>The storage setting is missing or malformed: a deployment mistake, reported once and clearly.</summary>
public sealed class StorageNotConfiguredException(string message) : Exception(message);
