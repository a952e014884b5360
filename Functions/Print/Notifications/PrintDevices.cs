using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;

namespace Serverless.Print.Notifications;

/// <summary>
/// A device that receives a user's push notifications. Key design: in the user's partition of the users table
/// (<see cref="UserDirectory.PartitionOf"/>), row <c>print-device|{sha256 of the FCM token}</c>, so registering the
/// same token again finds the same row, and the user's devices are one prefix query. The token itself is kept:
/// sending needs it. It is the device's address at FCM, not a credential of ours, but it is never logged.
/// </summary>
public sealed record DeviceRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public long UserId { get; set; }
    public string FcmToken { get; set; } = "";
    public DateTimeOffset RegisteredAt { get; set; }
}

/// <summary>The outcome of registering a token: the device's row, and whether this call created it.</summary>
public sealed record DeviceRegistration(DeviceRow Device, bool Created);

/// <summary>
/// Users' devices: register (idempotent per token, at most <see cref="MaxPerUser"/> per user, the oldest dropped),
/// list, and remove, each within the user's own partition.
/// </summary>
public sealed class PrintDevices(StorageAccount storage, TimeProvider time) : IPrintAccountCleanup
{
    public const string RowPrefix = AccountKeys.RowPrefix + "device|";
    public const int MaxPerUser = 10;
    public const int MaxTokenLength = 4096;

    /// <summary><see cref="IsToken"/>'s character rule as a pattern, for the OpenAPI document: printable ASCII, no spaces.</summary>
    public const string TokenPattern = "^[!-~]+$";

    private TableClient Table => storage.Table(UserDirectory.TableName);

    /// <summary>The id of the device a token names: the token's SHA-256, lowercase hex. Safe to log.</summary>
    public static string DeviceId(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    public static string RowKeyOf(string token) => RowPrefix + DeviceId(token);

    /// <summary>1 to 4096 printable ASCII characters without spaces: what FCM registration tokens are made of.</summary>
    public static bool IsToken(string? token) =>
        token is { Length: > 0 and <= MaxTokenLength } && token.All(c => c is > ' ' and <= '~');

    public async Task<DeviceRegistration> RegisterAsync(long userId, string token, CancellationToken cancellationToken = default)
    {
        var row = new DeviceRow
        {
            PartitionKey = UserDirectory.PartitionOf(userId),
            RowKey = RowKeyOf(token),
            UserId = userId,
            FcmToken = token,
            RegisteredAt = time.GetUtcNow(),
        };
        if (!await Table.TryAddAsync(row, cancellationToken))
        {
            // Registered before (or by a parallel request, or by this one whose answer was lost): the same row.
            var existing = await Table.FindAsync<DeviceRow>(row.PartitionKey, row.RowKey, cancellationToken);
            if (existing is not null)
                return new DeviceRegistration(existing, Created: false);
            // Removed in between: register it afresh.
            return await RegisterAsync(userId, token, cancellationToken);
        }
        await KeepNewestAsync(userId, cancellationToken);
        return new DeviceRegistration(row, Created: true);
    }

    /// <summary>The user's devices, newest registration first.</summary>
    public async Task<IReadOnlyList<DeviceRow>> ListAsync(long userId, CancellationToken cancellationToken = default)
    {
        var rows = new List<DeviceRow>();
        await foreach (var row in Table.QueryAsync<DeviceRow>(AccountKeys.StartsWith(userId, RowPrefix), cancellationToken: cancellationToken))
            rows.Add(row);
        return rows.OrderByDescending(r => r.RegisteredAt).ThenBy(r => r.RowKey, StringComparer.Ordinal).ToList();
    }

    /// <summary>Forgets the device this token names; false when the user has no such device.</summary>
    public async Task<bool> RemoveAsync(long userId, string token, CancellationToken cancellationToken = default)
    {
        // The SDK answers a missing row with its 404 response rather than an exception.
        var response = await Table.DeleteEntityAsync(UserDirectory.PartitionOf(userId), RowKeyOf(token), ETag.All, cancellationToken);
        return response.Status != 404;
    }

    /// <summary>Account deletion: every device of the user goes.</summary>
    public async Task RemoveAsync(long userId, CancellationToken cancellationToken)
    {
        var rows = new List<ITableEntity>();
        await foreach (var row in Table.QueryAsync<TableEntity>(AccountKeys.StartsWith(userId, RowPrefix), select: ["PartitionKey", "RowKey"],
                           cancellationToken: cancellationToken))
            rows.Add(row);
        await Table.DeleteRowsAsync(rows, cancellationToken);
    }

    /// <summary>
    /// Drops the oldest registrations past the cap. Two registrations racing may both trim; both drop the same oldest
    /// rows (a row already gone is no error), so the user keeps the newest ten.
    /// </summary>
    private async Task KeepNewestAsync(long userId, CancellationToken cancellationToken)
    {
        var devices = await ListAsync(userId, cancellationToken);
        if (devices.Count > MaxPerUser)
            await Table.DeleteRowsAsync(devices.Skip(MaxPerUser).ToList<ITableEntity>(), cancellationToken);
    }
}
