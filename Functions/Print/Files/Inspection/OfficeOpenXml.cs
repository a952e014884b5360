using System.Buffers.Binary;
using System.IO.Compression;
using System.Xml;
using DocumentFormat.OpenXml.Packaging;

namespace Serverless.Print.Files.Inspection;

/// <summary>
/// Page counts of Office Open XML files (.docx, .pptx). The ZIP container is checked for bombs before the
/// Open XML SDK sees it, and the few XML parts read are streamed with a character cap, never loaded whole.
/// </summary>
internal static class OfficeOpenXml
{
    public const int MaxEntries = 2000;
    public const long MaxUncompressedBytes = 200L * 1024 * 1024;
    public const int MaxCompressionRatio = 100;
    public const long RatioCheckedAbove = 1024 * 1024;

    // Real central directories are a few kilobytes; this cap keeps a forged one from costing more than a little memory.
    private const long MaxCentralDirectoryBytes = 4 * 1024 * 1024;
    private const long MaxPartCharacters = 16 * 1024 * 1024;
    private const long MaxPackagingPartBytes = 4 * 1024 * 1024;

    private const string ExtendedPropertiesNamespace = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties";
    private const string PresentationNamespace = "http://schemas.openxmlformats.org/presentationml/2006/main";
    private const string RelationshipsNamespace = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

    // The SDK opens any package and follows its officeDocument relationship, whatever that part is; the content type tells.
    private static readonly HashSet<string> WordMainContentTypes =
    [
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
        "application/vnd.ms-word.document.macroEnabled.main+xml",
        "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
    ];
    private static readonly HashSet<string> PresentationMainContentTypes =
    [
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
        "application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml",
        "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml",
        "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml",
        "application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml",
    ];

    private static readonly OpenSettings ReadOnlySettings = new() { MaxCharactersInPart = MaxPartCharacters, AutoSave = false };

    /// <summary>Null when the archive is safe to open; otherwise why it is refused.</summary>
    public static string? ArchiveProblem(Stream content)
    {
        if (CentralDirectoryProblem(content) is { } problem)
            return problem;

        content.Position = 0;
        using var archive = new ZipArchive(content, ZipArchiveMode.Read, leaveOpen: true);
        if (archive.Entries.Count > MaxEntries)
            return "its archive has too many entries";
        long total = 0;
        foreach (var entry in archive.Entries)
        {
            total += entry.Length;
            if (total > MaxUncompressedBytes)
                return "its archive unpacks to more than 200 MB";
            if (entry.Length > RatioCheckedAbove && entry.Length > (long)MaxCompressionRatio * entry.CompressedLength)
                return "its archive contains a part compressed beyond any real document (a zip bomb)";
            // The packaging layer reads these whole when the SDK opens the file, before any of our caps apply.
            if (entry.Length > MaxPackagingPartBytes && (entry.FullName.EndsWith(".rels", StringComparison.OrdinalIgnoreCase)
                                                         || entry.FullName == "[Content_Types].xml"))
                return "its package relationships are too large";
        }
        return null;
    }

    /// <summary>Reads the end of central directory record, so a forged directory is refused before .NET reads it whole.</summary>
    private static string? CentralDirectoryProblem(Stream content)
    {
        const int recordSize = 22;
        var tailLength = (int)Math.Min(content.Length, recordSize + ushort.MaxValue);
        var tail = new byte[tailLength];
        content.Position = content.Length - tailLength;
        if (content.ReadAtLeast(tail, tailLength, throwOnEndOfStream: false) < tailLength)
            return "its archive is damaged";
        for (var at = tailLength - recordSize; at >= 0; at--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(at)) != 0x06054B50)
                continue;
            // 0xFFFF entries announces ZIP64, which no document of a believable size needs.
            if (BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(at + 10)) > MaxEntries)
                return "its archive has too many entries";
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(at + 12)) > MaxCentralDirectoryBytes)
                return "its archive directory is too large";
            return null;
        }
        return "its archive is damaged";
    }

    /// <summary>The page count a word processor stored in docProps/app.xml, or null when the document is not a Word document.</summary>
    public static WordPages WordPageCount(Stream content)
    {
        content.Position = 0;
        using var document = WordprocessingDocument.Open(content, false, ReadOnlySettings);
        if (document.MainDocumentPart is not { } main || !WordMainContentTypes.Contains(main.ContentType))
            return new WordPages(IsWordDocument: false, Pages: null);
        var pages = document.ExtendedFilePropertiesPart is { } properties
            ? ReadInt(properties, ExtendedPropertiesNamespace, "Pages")
            : null;
        return new WordPages(IsWordDocument: true, pages);
    }

    public readonly record struct WordPages(bool IsWordDocument, int? Pages);

    /// <summary>The number of slides in the presentation's slide id list that lead to a slide part, or null when the file is not a presentation.</summary>
    public static int? SlideCount(Stream content)
    {
        content.Position = 0;
        using var document = PresentationDocument.Open(content, false, ReadOnlySettings);
        if (document.PresentationPart is not { } presentation || !PresentationMainContentTypes.Contains(presentation.ContentType))
            return null;

        var slideIds = new HashSet<string>(StringComparer.Ordinal);
        using var reader = XmlReader.Create(presentation.GetStream(FileMode.Open, FileAccess.Read), XmlSettings);
        var depthOfList = -1;
        while (reader.Read())
        {
            if (reader.NodeType != XmlNodeType.Element || reader.NamespaceURI != PresentationNamespace)
                continue;
            if (reader.LocalName == "sldIdLst")
                depthOfList = reader.Depth;
            else if (reader.LocalName == "sldId" && depthOfList >= 0 && reader.Depth == depthOfList + 1
                     && reader.GetAttribute("id", RelationshipsNamespace) is { } relationshipId
                     && presentation.TryGetPartById(relationshipId, out var part) && part is SlidePart)
                slideIds.Add(relationshipId);
        }
        return slideIds.Count;
    }

    private static readonly XmlReaderSettings XmlSettings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        MaxCharactersInDocument = MaxPartCharacters,
        CloseInput = true,
    };

    private static int? ReadInt(OpenXmlPart part, string ns, string localName)
    {
        using var reader = XmlReader.Create(part.GetStream(FileMode.Open, FileAccess.Read), XmlSettings);
        while (reader.Read())
        {
            if (reader.NodeType == XmlNodeType.Element && reader.LocalName == localName && reader.NamespaceURI == ns)
                return int.TryParse(reader.ReadElementContentAsString().Trim(), out var value) ? value : null;
        }
        return null;
    }
}
