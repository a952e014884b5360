using Azure.Data.Tables;
using Serverless.Platform.Hosting;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;
using Serverless.Print.Payments;

namespace Serverless.Print.Files;

/// <summary>
/// The hourly file sweep (<see cref="FunctionName"/>): reads the sweep rows of every hour that has ended since it last
/// ran (<see cref="FileSweepRow"/>, written before each file's content) and settles each file: content whose upload
/// never finished is deleted; a file nobody printed within the retention is withdrawn and its cost refunded to the
/// wallet; a file being printed is looked at again a day later; the content of a file already printed, withdrawn or
/// cancelled is deleted if something left it behind.
/// </summary>
public sealed class FileSweep(StorageAccount storage, PrintFiles files, TimeProvider time, ILogger<FileSweep> logger)
{
    public const string FunctionName = "PrintFileSweep";
    public const string Schedule = "0 7 * * * *";
    private const int MaxHoursPerRun = 72;

    private TableClient Sweep => storage.Table(PrintFiles.SweepTable);
    private TableClient Users => storage.Table(UserDirectory.TableName);

    /// <summary>Sweeps the hours that ended; returns how many files it settled.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var thisHour = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero);
        var cursor = await Sweep.FindAsync<FileSweepCursor>("cursor", "", cancellationToken)
                     ?? new FileSweepCursor { NextHour = thisHour.AddHours(-MaxHoursPerRun) };
        var settled = 0;
        var hour = cursor.NextHour;
        for (var swept = 0; hour < thisHour && swept < MaxHoursPerRun; swept++, hour = hour.AddHours(1))
        {
            for (var shard = 0; shard < FileSweepRow.Shards; shard++)
            {
                var partition = FileSweepRow.HourOf(hour) + "-" + shard;
                await foreach (var row in Sweep.QueryAsync<FileSweepRow>(r => r.PartitionKey == partition, cancellationToken: cancellationToken))
                {
                    await SettleAsync(row, now, cancellationToken);
                    await Sweep.DeleteEntityAsync(row.PartitionKey, row.RowKey, Azure.ETag.All, cancellationToken);
                    settled++;
                }
            }
        }
        await Sweep.UpsertEntityAsync(cursor with { PartitionKey = "cursor", RowKey = "", NextHour = hour }, TableUpdateMode.Replace, cancellationToken);
        return settled;
    }

    private async Task SettleAsync(FileSweepRow row, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var file = await Users.FindAsync<PrintFileRow>(AccountKeys.Partition(row.CustomerId), FileKeys.File(row.PaymentOrderId, row.FileId), cancellationToken);
        switch (file?.Status)
        {
            case FileStatus.Uploaded:
                var (_, refund, error) = await files.WithdrawAsync(file, toWallet: true, "not printed in time", cancellationToken);
                logger.LogInformation("Print file {FileId} was not printed in time: withdrawn ({Outcome}).", file.Id,
                    error?.Message ?? refund?.Outcome.ToString());
                break;
            case FileStatus.Printing:
                await Sweep.UpsertEntityAsync(FileSweepRow.For(now.AddDays(1), row.CustomerId, row.PaymentOrderId, row.FileId, row.BlobName),
                    TableUpdateMode.Replace, cancellationToken);
                break;
            default:
                await files.Blobs.DeleteBlobIfExistsAsync(row.BlobName, cancellationToken: cancellationToken);
                break;
        }
    }
}

/// <summary>An account with prints still waiting (its own, or in its shop's queue) cannot be deleted until they are settled.</summary>
public sealed class OpenFilesDeletionCheck(StorageAccount storage) : IPrintAccountDeletionCheck
{
    public const string Code = "prints_pending";

    private TableClient Users => storage.Table(UserDirectory.TableName);

    public async Task<DeletionRefusal?> RefusalAsync(long userId, CancellationToken cancellationToken)
    {
        var partition = AccountKeys.Partition(userId);
        await foreach (var file in Users.QueryAsync<PrintFileRow>(FileKeys.StartsWith(partition, FileKeys.FilePrefix), select: ["Status"],
                           cancellationToken: cancellationToken))
        {
            if (FileStatus.IsOpen(file.Status))
                return new DeletionRefusal(Code, "You have prints waiting at a shop. Withdraw them (POST /withdraw/:fileId) or let them print before deleting your account.");
        }
        var queue = TableClient.CreateQueryFilter(
            $"PartitionKey eq {partition} and RowKey ge {FileKeys.QueuePrefix} and RowKey lt {FileKeys.QueuePrefix + '\uffff'} and Closed eq false");
        await foreach (var _ in Users.QueryAsync<ShopQueueRow>(queue, select: ["RowKey"], cancellationToken: cancellationToken))
            return new DeletionRefusal(Code, "Your shop's queue has orders waiting. Print or cancel them before deleting your account.");
        return null;
    }
}

/// <summary>Deletes the content of an account's files when the account is deleted (its rows go with the account).</summary>
public sealed class FileContentCleanup(PrintFiles files) : IPrintAccountCleanup
{
    public async Task RemoveAsync(long userId, CancellationToken cancellationToken)
    {
        await foreach (var blob in files.Blobs.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, FileKeys.CustomerBlobPrefix(userId), cancellationToken))
            await files.Blobs.DeleteBlobIfExistsAsync(blob.Name, cancellationToken: cancellationToken);
    }
}

public static class FilesRegistration
{
    public static IServiceCollection AddPrintFiles(this IServiceCollection services)
    {
        services.AddStorage(s => s.Table(PrintFiles.PointerTable).Table(PrintFiles.SweepTable).Container(FileSettings.Container));
        services.AddSingleton<FileSettings>();
        services.AddSingleton<Platform.IValidatedSettings>(sp => sp.GetRequiredService<FileSettings>());
        services.AddSingleton<PrintFiles>();
        services.AddSingleton<CodeLookupThrottle>();
        services.AddSingleton<IOutboxChannel, PrintFileChannel>();
        services.AddSingleton<FileSweep>();
        services.AddSingleton<IPrintAccountDeletionCheck, OpenFilesDeletionCheck>();
        services.AddSingleton<IPrintAccountCleanup, FileContentCleanup>();
        services.AddTimerTrigger(FileSweep.FunctionName, FileSweep.Schedule, invocation =>
            invocation.Services.GetRequiredService<FileSweep>().RunAsync(invocation.CancellationToken));
        return services;
    }
}
