using Microsoft.Extensions.Options;
using Serverless.Platform.Http;

namespace Serverless.Print.Files;

/// <summary>
/// Upload limits and file lifetimes (<c>Print__Files__…</c>): 20 MB per file and 100 MB per upload as the document
/// says, at most 20 files in one upload (one entity-group transaction writes them with their payment), files nobody
/// printed withdrawn and refunded after <see cref="Retention"/>, and lookups by code limited per caller.
/// </summary>
public sealed class FileSettings : Platform.IValidatedSettings
{
    public const string Container = "printfiles";

    public FileSettings(IConfiguration configuration)
    {
        MaxFileBytes = configuration.GetValue("Print:Files:MaxFileMegabytes", 20L) * 1024 * 1024;
        MaxBatchBytes = configuration.GetValue("Print:Files:MaxUploadMegabytes", 100L) * 1024 * 1024;
        MaxFilesPerUpload = configuration.GetValue("Print:Files:MaxFilesPerUpload", 20);
        Retention = configuration.GetValue("Print:Files:Retention", TimeSpan.FromDays(7));
        CodeLookups = RateLimitSettings.From(configuration, "Print:Files:CodeLookups", permits: 120, window: TimeSpan.FromMinutes(1));
        var problems = new List<string>();
        if (MaxFileBytes <= 0 || MaxBatchBytes < MaxFileBytes)
            problems.Add("Print__Files__MaxFileMegabytes must be positive and at most Print__Files__MaxUploadMegabytes.");
        if (MaxFilesPerUpload is < 1 or > 50)
            problems.Add("Print__Files__MaxFilesPerUpload must be between 1 and 50 (the files of an upload are written in one transaction).");
        if (Retention < TimeSpan.FromHours(1))
            problems.Add("Print__Files__Retention must be at least an hour.");
        if (problems.Count > 0)
            throw new OptionsValidationException("Print files", typeof(FileSettings), problems);
    }

    public long MaxFileBytes { get; }
    public long MaxBatchBytes { get; }
    public int MaxFilesPerUpload { get; }

    /// <summary>How long an unprinted file waits before it is withdrawn (and refunded to the wallet) by the sweep.</summary>
    public TimeSpan Retention { get; }

    public RateLimitSettings CodeLookups { get; }

    /// <summary>The upload endpoints' body limit: the batch and room for the form around it.</summary>
    public long MaxRequestBytes => MaxBatchBytes + 1024 * 1024;
}
