using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Serverless.Platform.Http;
using Serverless.Print.Files.Inspection;

namespace Serverless.Print.Files;

/// <summary>One file of an upload, streamed to a temporary file while its size and SHA-256 were taken.</summary>
public sealed class UploadedPart
{
    public required string FileName { get; init; }
    public required PrintFileKind Kind { get; init; }
    public required string TempPath { get; init; }
    public required long Size { get; init; }
    public required string Sha256 { get; init; }

    /// <summary>Set once the content was inspected: its type and page count.</summary>
    public InspectedFile? Inspected { get; set; }

    public FileStream OpenRead() => new(TempPath, FileMode.Open, FileAccess.Read, FileShare.Read, 81_920, FileOptions.Asynchronous | FileOptions.SequentialScan);
}

/// <summary>
/// A multipart upload (<c>POST /upload</c>, <c>POST /calculate-cost</c>) read as a stream: form fields (small, a few),
/// and files (<c>files[]</c>, <c>files</c> or <c>file</c>) copied to temporary files while their size is counted
/// against the per-file and per-batch limits, so no file is ever held whole in memory and a body that is too large is
/// refused as soon as it passes the limit. Disposing deletes the temporary files.
/// </summary>
public sealed class UploadForm : IDisposable
{
    private const int MaxFieldBytes = 2_048;
    private const int MaxFields = 32;
    private static readonly string[] FileFields = ["files[]", "files", "file"];

    private readonly string _directory;

    private UploadForm(string directory) => _directory = directory;

    public Dictionary<string, string> Fields { get; } = new(StringComparer.Ordinal);

    public List<UploadedPart> Files { get; } = [];

    public string? Field(string name) => Fields.TryGetValue(name, out var value) ? value : null;

    public long TotalBytes => Files.Sum(f => f.Size);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Reads the request's form; an <see cref="ApiError"/> (400, 413, 415) names what is wrong with it.</summary>
    public static async Task<(UploadForm? Form, ApiError? Error)> ReadAsync(HttpRequest request, FileSettings limits, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(contentType.Boundary).Value is not { Length: > 0 and <= 200 } boundary)
            return (null, new ApiError(415, "unsupported_media_type", "Send the files as multipart/form-data (form fields 'files[]' or 'file')."));

        var directory = Path.Combine(Path.GetTempPath(), "print-uploads", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var form = new UploadForm(directory);
        try
        {
            var error = await form.ReadPartsAsync(new MultipartReader(boundary, request.Body) { HeadersCountLimit = 16, HeadersLengthLimit = 4_096 },
                limits, cancellationToken);
            if (error is null && form.Files.Count == 0)
                error = new ApiError(400, "file_required", "No file was sent: send it in the form field 'files[]' (several) or 'file' (one).");
            if (error is null)
                return (form, null);
            form.Dispose();
            return (null, error);
        }
        catch (Exception e) when (e is InvalidDataException or IOException && !cancellationToken.IsCancellationRequested)
        {
            form.Dispose();
            // A malformed multipart body, or one larger than the endpoint allows (Kestrel's limit surfaces as an IOException).
            return (null, e is BadHttpRequestException { StatusCode: 413 }
                ? new ApiError(413, "payload_too_large", $"The upload is larger than {Megabytes(limits.MaxBatchBytes)} in all.")
                : new ApiError(400, "invalid_multipart", "The multipart/form-data body could not be read: " + e.Message));
        }
        catch
        {
            form.Dispose();
            throw;
        }
    }

    private async Task<ApiError?> ReadPartsAsync(MultipartReader reader, FileSettings limits, CancellationToken cancellationToken)
    {
        long total = 0;
        while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
                return new ApiError(400, "invalid_multipart", "Every part of the form needs a Content-Disposition: form-data header with a name.");
            var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
            if (disposition.IsFileDisposition())
            {
                if (!FileFields.Contains(name))
                    return new ApiError(400, "invalid_field", $"Files go in the form field 'files[]' or 'file', not '{Shorten(name)}'.");
                if (Files.Count >= limits.MaxFilesPerUpload)
                    return new ApiError(400, "too_many_files", $"At most {limits.MaxFilesPerUpload} files can be uploaded at once.");
                var fileName = CleanFileName(HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value);
                if (fileName.Length == 0)
                    return new ApiError(400, "file_name_required", "Every file needs a file name with its extension (.pdf, .png, .jpg, .jpeg, .doc, .docx, .ppt, .pptx).");
                if (PrintFileInspector.KindOf(fileName) is not { } kind)
                    return new ApiError(400, "unsupported_file_type",
                        $"'{fileName}' is not a supported file type: upload PDF, PNG, JPG, JPEG, DOC, DOCX, PPT or PPTX files.");
                var (part, error) = await CopyAsync(section.Body, fileName, kind, limits, limits.MaxBatchBytes - total, cancellationToken);
                if (error is not null)
                    return error;
                total += part!.Size;
                Files.Add(part);
                continue;
            }
            if (Fields.Count >= MaxFields)
                return new ApiError(400, "too_many_fields", "The form has too many fields.");
            var value = await ReadFieldAsync(section.Body, cancellationToken);
            if (value is null)
                return new ApiError(400, "invalid_field", $"The form field '{Shorten(name)}' is longer than {MaxFieldBytes} bytes or is not UTF-8 text.");
            Fields[name] = value;
        }
        return null;
    }

    private async Task<(UploadedPart? Part, ApiError? Error)> CopyAsync(Stream body, string fileName, PrintFileKind kind, FileSettings limits,
        long batchLeft, CancellationToken cancellationToken)
    {
        var path = Path.Combine(_directory, (Files.Count + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(81_920);
        long size = 0;
        try
        {
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(0, buffer.Length), cancellationToken)) > 0)
            {
                size += read;
                if (size > limits.MaxFileBytes)
                    return (null, new ApiError(413, "file_too_large", $"'{fileName}' is larger than {Megabytes(limits.MaxFileBytes)}."));
                if (size > batchLeft)
                    return (null, new ApiError(413, "payload_too_large", $"The files are larger than {Megabytes(limits.MaxBatchBytes)} in all."));
                hash.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return (new UploadedPart
        {
            FileName = fileName, Kind = kind, TempPath = path, Size = size, Sha256 = Convert.ToHexStringLower(hash.GetHashAndReset()),
        }, null);
    }

    private static async Task<string?> ReadFieldAsync(Stream body, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxFieldBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
            length += read;
        if (length > MaxFieldBytes)
            return null;
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(buffer, 0, length);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>The name without any path, control characters or surrounding blanks, at most 200 characters.</summary>
    public static string CleanFileName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
            return "";
        var last = name.Replace('\\', '/').Split('/').LastOrDefault() ?? "";
        var clean = new string(last.Where(c => !char.IsControl(c) && c is not ('"' or '<' or '>' or '|' or ':' or '*' or '?')).ToArray()).Trim();
        if (clean.Length <= 200)
            return clean;
        var extension = Path.GetExtension(clean);
        return clean[..(200 - extension.Length)] + extension;
    }

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "…";

    private static string Megabytes(long bytes) => $"{bytes / (1024 * 1024)} MB";
}
