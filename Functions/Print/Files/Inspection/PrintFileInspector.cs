using System.Buffers.Binary;
using DocumentFormat.OpenXml.Packaging;
using UglyToad.PdfPig;
using UglyToad.PdfPig.Exceptions;

namespace Serverless.Print.Files.Inspection;

public enum PrintFileKind { Pdf, Png, Jpeg, Doc, Docx, Ppt, Pptx }

public sealed record InspectedFile(PrintFileKind Kind, string ContentType, int Pages);

/// <summary>Either <see cref="File"/> or <see cref="Problem"/> is set. Problem is a user-facing message naming the file.</summary>
public sealed record FileInspection(InspectedFile? File, string? Problem)
{
    public static FileInspection Of(PrintFileKind kind, int pages) => new(new InspectedFile(kind, PrintFileInspector.ContentTypeOf(kind), pages), null);
    public static FileInspection Refused(string problem) => new(null, problem);
}

/// <summary>
/// Decides what an uploaded print file is and how many pages it bills, without trusting its name or its structure:
/// the magic bytes must match the extension, containers are checked for bombs and loops before any parser sees
/// them, and the parsing runs on its own thread under a time bound.
/// </summary>
public static class PrintFileInspector
{
    public const string PageCountUnavailable = "Page count not available for this file. Please convert to PDF and upload.";
    public const int MaxPages = 2000;

    private static readonly TimeSpan ParseTimeBound = TimeSpan.FromSeconds(10);
    // PdfPig recurses into nested arrays and dictionaries; real documents nest a few dozen levels at most.
    private const int MaxPdfNesting = 256;
    // A dedicated parsing thread gets a generous stack, so the nesting cap, not the stack size, is what stops a hostile file.
    private const int ParseThreadStackBytes = 16 * 1024 * 1024;
    private const int MaxPropertySetBytes = 1024 * 1024;

    private static readonly byte[] PdfMarker = "%PDF-"u8.ToArray();
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly byte[] ZipSignature = [0x50, 0x4B, 0x03, 0x04];

    /// <summary>The kind a file name announces (.pdf .png .jpg .jpeg .doc .docx .ppt .pptx, any case), else null.</summary>
    public static PrintFileKind? KindOf(string fileName) =>
        Path.GetExtension(fileName).ToLowerInvariant() switch
        {
            ".pdf" => PrintFileKind.Pdf,
            ".png" => PrintFileKind.Png,
            ".jpg" or ".jpeg" => PrintFileKind.Jpeg,
            ".doc" => PrintFileKind.Doc,
            ".docx" => PrintFileKind.Docx,
            ".ppt" => PrintFileKind.Ppt,
            ".pptx" => PrintFileKind.Pptx,
            _ => null,
        };

    public static string ContentTypeOf(PrintFileKind kind) => kind switch
    {
        PrintFileKind.Pdf => "application/pdf",
        PrintFileKind.Png => "image/png",
        PrintFileKind.Jpeg => "image/jpeg",
        PrintFileKind.Doc => "application/msword",
        PrintFileKind.Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        PrintFileKind.Ppt => "application/vnd.ms-powerpoint",
        PrintFileKind.Pptx => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>
    /// Inspects <paramref name="content"/> (seekable, positioned at 0) as a file of <paramref name="kind"/>.
    /// Never throws for bad content, only <see cref="OperationCanceledException"/>; a parse that overruns the time
    /// bound answers a problem. The caller disposes the stream afterwards, which also ends an overrunning parse.
    /// </summary>
    public static Task<FileInspection> InspectAsync(Stream content, string fileName, PrintFileKind kind, CancellationToken cancellationToken) =>
        InspectAsync(content, fileName, kind, ParseTimeBound, cancellationToken);

    internal static async Task<FileInspection> InspectAsync(Stream content, string fileName, PrintFileKind kind, TimeSpan timeBound,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        cancellationToken.ThrowIfCancellationRequested();
        var name = DisplayName(fileName);

        FileInspection? refused;
        try
        {
            refused = CheckSignature(content, name, kind);
        }
        catch (Exception e) when (e is IOException or NotSupportedException or ObjectDisposedException)
        {
            refused = FileInspection.Refused($"'{name}' could not be read.");
        }
        if (refused is not null)
            return refused;

        var parse = RunOnParsingThread(() => Parse(content, name, kind));
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var deadline = Task.Delay(timeBound, bound.Token);
        // The deadline comes first so that a bound already over wins even against a finished parse.
        var first = await Task.WhenAny(deadline, parse).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        if (first == deadline)
            return FileInspection.Refused($"'{name}' is too complex to read in time. Please convert to PDF and upload.");
        await bound.CancelAsync().ConfigureAwait(false);
        return await parse.ConfigureAwait(false);
    }

    private static Task<FileInspection> RunOnParsingThread(Func<FileInspection> parse)
    {
        var result = new TaskCompletionSource<FileInspection>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            // An exception escaping a thread would end the process; Parse answers problems, this is the last guard.
            try { result.SetResult(parse()); }
            catch (Exception e) { result.SetException(e); }
        }, ParseThreadStackBytes)
        {
            IsBackground = true,
            Name = "print-file-inspection",
        };
        thread.Start();
        return result.Task;
    }

    private static string DisplayName(string fileName)
    {
        // Some browsers send the client's full path, with either separator, whatever the server's platform.
        var name = fileName ?? "";
        name = name[(name.LastIndexOfAny(['/', '\\']) + 1)..];
        name = new string(name.Where(c => !char.IsControl(c)).ToArray());
        if (name.Length == 0)
            return "file";
        return name.Length <= 200 ? name : name[..200];
    }

    private static string Label(PrintFileKind kind) => kind switch
    {
        PrintFileKind.Jpeg => "JPEG",
        _ => kind.ToString().ToUpperInvariant(),
    };

    private static FileInspection Mismatch(string name, PrintFileKind kind) =>
        FileInspection.Refused($"'{name}' is not a valid {Label(kind)} file: its content does not match its extension.");

    private static FileInspection? CheckSignature(Stream content, string name, PrintFileKind kind)
    {
        if (content.Length == 0)
            return FileInspection.Refused($"'{name}' is empty.");
        var head = new byte[1024];
        content.Position = 0;
        var length = content.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var span = head.AsSpan(0, length);
        var matches = kind switch
        {
            PrintFileKind.Pdf => span.IndexOf(PdfMarker) >= 0,
            // The IHDR chunk must come first, with a positive width and height.
            PrintFileKind.Png => span.StartsWith(PngSignature) && span.Length >= 24
                                 && BinaryPrimitives.ReadUInt32BigEndian(span[8..]) == 13 && span[12..16].SequenceEqual("IHDR"u8)
                                 && BinaryPrimitives.ReadInt32BigEndian(span[16..]) > 0 && BinaryPrimitives.ReadInt32BigEndian(span[20..]) > 0,
            // SOI, then the marker of the first segment.
            PrintFileKind.Jpeg => span.Length >= 4 && span[0] == 0xFF && span[1] == 0xD8 && span[2] == 0xFF && span[3] is >= 0xC0 and < 0xFF,
            PrintFileKind.Docx or PrintFileKind.Pptx => span.StartsWith(ZipSignature),
            PrintFileKind.Doc or PrintFileKind.Ppt => span.StartsWith(CompoundFile.Signature),
            _ => false,
        };
        return matches ? null : Mismatch(name, kind);
    }

    private static FileInspection Parse(Stream content, string name, PrintFileKind kind)
    {
        try
        {
            return kind switch
            {
                PrintFileKind.Png or PrintFileKind.Jpeg => FileInspection.Of(kind, 1),
                PrintFileKind.Pdf => PdfPages(content, name),
                PrintFileKind.Docx => WordPages(content, name),
                PrintFileKind.Pptx => SlidePages(content, name),
                PrintFileKind.Doc => CompoundPages(content, name, kind, "WordDocument", PropertySets.SummaryInformation,
                    PropertySets.SummaryInformationFormat, PropertySets.PageCount),
                PrintFileKind.Ppt => CompoundPages(content, name, kind, "PowerPoint Document", PropertySets.DocumentSummaryInformation,
                    PropertySets.DocumentSummaryInformationFormat, PropertySets.SlideCount),
                _ => Mismatch(name, kind),
            };
        }
        catch (Exception)
        {
            // Any parser failure on hostile or damaged content (a forged length included) is the file's problem, not the server's.
            return kind == PrintFileKind.Pdf
                ? FileInspection.Refused($"'{name}' is not a readable PDF file.")
                : FileInspection.Refused($"'{name}' is not a valid {Label(kind)} file: it could not be read.");
        }
    }

    private static FileInspection Counted(string name, PrintFileKind kind, int pages, string unit)
    {
        if (pages <= 0)
            return FileInspection.Refused($"'{name}' has no {unit}s.");
        if (pages > MaxPages)
            return FileInspection.Refused($"'{name}' has {pages} {unit}s; at most {MaxPages} can be printed from one file.");
        return FileInspection.Of(kind, pages);
    }

    private static FileInspection PdfPages(Stream content, string name)
    {
        content.Position = 0;
        var options = new ParsingOptions
        {
            UseLenientParsing = false,
            SkipMissingFonts = true,
            MaxStackDepth = MaxPdfNesting,
        };
        try
        {
            using var document = PdfDocument.Open(content, options);
            // Even an encryption with an empty user password may forbid printing; the shop must be able to print it.
            if (document.IsEncrypted)
                return Encrypted(name);
            return Counted(name, PrintFileKind.Pdf, document.NumberOfPages, "page");
        }
        catch (PdfDocumentEncryptedException)
        {
            return Encrypted(name);
        }
    }

    private static FileInspection Encrypted(string name) =>
        FileInspection.Refused($"'{name}' is password-protected or encrypted. Please upload an unprotected copy.");

    private static FileInspection WordPages(Stream content, string name)
    {
        if (OfficeOpenXml.ArchiveProblem(content) is { } problem)
            return FileInspection.Refused($"'{name}' is not a valid DOCX file: {problem}.");
        OfficeOpenXml.WordPages counted;
        try
        {
            counted = OfficeOpenXml.WordPageCount(content);
        }
        catch (Exception e) when (e is OpenXmlPackageException or InvalidDataException or IOException or System.Xml.XmlException)
        {
            return Mismatch(name, PrintFileKind.Docx);
        }
        if (!counted.IsWordDocument)
            return Mismatch(name, PrintFileKind.Docx);
        return counted.Pages is > 0 ? Counted(name, PrintFileKind.Docx, counted.Pages.Value, "page") : FileInspection.Refused(PageCountUnavailable);
    }

    private static FileInspection SlidePages(Stream content, string name)
    {
        if (OfficeOpenXml.ArchiveProblem(content) is { } problem)
            return FileInspection.Refused($"'{name}' is not a valid PPTX file: {problem}.");
        int? slides;
        try
        {
            slides = OfficeOpenXml.SlideCount(content);
        }
        catch (Exception e) when (e is OpenXmlPackageException or InvalidDataException or IOException or System.Xml.XmlException)
        {
            return Mismatch(name, PrintFileKind.Pptx);
        }
        return slides is null ? Mismatch(name, PrintFileKind.Pptx) : Counted(name, PrintFileKind.Pptx, slides.Value, "slide");
    }

    private static FileInspection CompoundPages(Stream content, string name, PrintFileKind kind, string mainStream, string propertyStream,
        Guid format, uint propertyId)
    {
        var file = CompoundFile.Open(content);
        if (!file.HasStream(mainStream))
            return Mismatch(name, kind);
        var properties = file.ReadStream(propertyStream, MaxPropertySetBytes);
        var pages = properties is null ? null : PropertySets.ReadInt32(properties, format, propertyId);
        return pages is > 0
            ? Counted(name, kind, pages.Value, kind == PrintFileKind.Ppt ? "slide" : "page")
            : FileInspection.Refused(PageCountUnavailable);
    }
}
