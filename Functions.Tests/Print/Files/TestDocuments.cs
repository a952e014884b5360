using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Presentation;
using DocumentFormat.OpenXml.Wordprocessing;
using UglyToad.PdfPig.Writer;
using A = DocumentFormat.OpenXml.Drawing;
using ExtendedProperties = DocumentFormat.OpenXml.ExtendedProperties;
using PageSize = UglyToad.PdfPig.Content.PageSize;
using Text = DocumentFormat.OpenXml.Wordprocessing.Text;

namespace Serverless.Tests.Print.Files;

/// <summary>Print files made at test time: real documents of every accepted kind, and hostile ones.</summary>
public static class TestDocuments
{
    public static readonly Guid SummaryInformation = new("F29F85E0-4FF9-1068-AB91-08002B27B3D9");
    public static readonly Guid DocumentSummaryInformation = new("D5CDD502-2E9C-101B-9397-08002B2CF9AE");

    public static byte[] Pdf(int pages)
    {
        using var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(UglyToad.PdfPig.Fonts.Standard14Fonts.Standard14Font.Helvetica);
        for (var i = 1; i <= pages; i++)
            builder.AddPage(PageSize.A4).AddText($"Page {i}", 12, new UglyToad.PdfPig.Core.PdfPoint(72, 720), font);
        return builder.Build();
    }

    /// <summary>A PDF whose catalog holds arrays nested <paramref name="depth"/> deep.</summary>
    public static byte[] DeeplyNestedPdf(int depth) =>
        RawPdf(
            $"<< /Type /Catalog /Pages 2 0 R /Nested {new string('[', depth)}{new string(']', depth)} >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>");

    /// <summary>A PDF whose inner page tree node lists itself among its kids.</summary>
    public static byte[] PageTreeLoopPdf() =>
        RawPdf(
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Pages /Parent 2 0 R /Kids [4 0 R 3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 3 0 R /MediaBox [0 0 612 792] >>");

    /// <summary>A well-formed PDF with no pages at all.</summary>
    public static byte[] EmptyPagesPdf() =>
        RawPdf(
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [] /Count 0 >>");

    /// <summary>A PDF written object by object (object n is objects[n - 1]) with an exact cross-reference table.</summary>
    public static byte[] RawPdf(params string[] objects)
    {
        var pdf = new StringBuilder("%PDF-1.7\n");
        var offsets = new List<int>();
        for (var i = 0; i < objects.Length; i++)
        {
            offsets.Add(Encoding.ASCII.GetByteCount(pdf.ToString()));
            pdf.Append($"{i + 1} 0 obj\n{objects[i]}\nendobj\n");
        }
        var xref = Encoding.ASCII.GetByteCount(pdf.ToString());
        pdf.Append($"xref\n0 {objects.Length + 1}\n0000000000 65535 f \n");
        foreach (var offset in offsets)
            pdf.Append($"{offset:D10} 00000 n \n");
        pdf.Append($"trailer\n<< /Size {objects.Length + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n");
        return Encoding.ASCII.GetBytes(pdf.ToString());
    }

    /// <summary>A 1×1 RGB PNG.</summary>
    public static byte[] Png()
    {
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, 1);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), 1);
        header[8] = 8;
        header[9] = 2;
        PngChunk(png, "IHDR", header);
        using var pixels = new MemoryStream();
        using (var zlib = new ZLibStream(pixels, CompressionLevel.Optimal, leaveOpen: true))
            zlib.Write([0, 0xFF, 0x80, 0x00]);
        PngChunk(png, "IDAT", pixels.ToArray());
        PngChunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void PngChunk(Stream png, string type, byte[] data)
    {
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(number, data.Length);
        png.Write(number);
        var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(number, Crc32(typed));
        png.Write(number);
    }

    private static uint Crc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }

    /// <summary>The start of a JFIF file: SOI, an APP0 JFIF segment, then EOI.</summary>
    public static byte[] Jpeg() =>
    [
        0xFF, 0xD8,
        0xFF, 0xE0, 0x00, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
        0xFF, 0xD9,
    ];

    /// <summary>
    /// A Word document of <paramref name="pages"/> pages (a page break between each) with <paramref name="paragraphs"/>
    /// paragraphs on each; null pages leaves &lt;Pages&gt; out of docProps/app.xml, as LibreOffice and Google Docs do.
    /// </summary>
    public static byte[] Docx(int? pages, int paragraphs = 3)
    {
        using var stream = new MemoryStream();
        using (var document = WordprocessingDocument.Create(stream, WordprocessingDocumentType.Document))
        {
            var body = new Body();
            var pageCount = pages ?? 1;
            for (var page = 1; page <= pageCount; page++)
            {
                for (var i = 1; i <= paragraphs; i++)
                    body.Append(new Paragraph(new Run(new Text($"Page {page}, paragraph {i}."))));
                if (page < pageCount)
                    body.Append(new Paragraph(new Run(new Break { Type = BreakValues.Page })));
            }
            document.AddMainDocumentPart().Document = new Document(body);
            var properties = new ExtendedProperties.Properties(new ExtendedProperties.Application("Microsoft Office Word"));
            if (pages is { } count)
                properties.Append(new ExtendedProperties.Pages(count.ToString()));
            document.AddExtendedFilePropertiesPart().Properties = properties;
        }
        return stream.ToArray();
    }

    /// <summary>A presentation with <paramref name="slides"/> real slide parts; docProps/app.xml claims <paramref name="claimedSlides"/> (default: the truth).</summary>
    public static byte[] Pptx(int slides, int? claimedSlides = null)
    {
        using var stream = new MemoryStream();
        using (var document = PresentationDocument.Create(stream, PresentationDocumentType.Presentation))
        {
            var presentationPart = document.AddPresentationPart();
            var master = presentationPart.AddNewPart<SlideMasterPart>("rId1");
            var layout = master.AddNewPart<SlideLayoutPart>("rId1");
            layout.SlideLayout = new SlideLayout(new CommonSlideData(EmptyShapeTree()));
            master.SlideMaster = new SlideMaster(
                new CommonSlideData(EmptyShapeTree()),
                new ColorMap
                {
                    Background1 = A.ColorSchemeIndexValues.Light1, Text1 = A.ColorSchemeIndexValues.Dark1,
                    Background2 = A.ColorSchemeIndexValues.Light2, Text2 = A.ColorSchemeIndexValues.Dark2,
                    Accent1 = A.ColorSchemeIndexValues.Accent1, Accent2 = A.ColorSchemeIndexValues.Accent2,
                    Accent3 = A.ColorSchemeIndexValues.Accent3, Accent4 = A.ColorSchemeIndexValues.Accent4,
                    Accent5 = A.ColorSchemeIndexValues.Accent5, Accent6 = A.ColorSchemeIndexValues.Accent6,
                    Hyperlink = A.ColorSchemeIndexValues.Hyperlink, FollowedHyperlink = A.ColorSchemeIndexValues.FollowedHyperlink,
                },
                new SlideLayoutIdList(new SlideLayoutId { Id = 2147483649U, RelationshipId = "rId1" }));
            layout.AddPart(master);

            var slideIds = new SlideIdList();
            for (var i = 0; i < slides; i++)
            {
                var relationshipId = $"rId{i + 2}";
                var slide = presentationPart.AddNewPart<SlidePart>(relationshipId);
                slide.Slide = new Slide(new CommonSlideData(EmptyShapeTree()));
                slide.AddPart(layout);
                slideIds.Append(new SlideId { Id = (uint)(256 + i), RelationshipId = relationshipId });
            }
            presentationPart.Presentation = new Presentation(
                new SlideMasterIdList(new SlideMasterId { Id = 2147483648U, RelationshipId = "rId1" }),
                slideIds,
                new SlideSize { Cx = 9144000, Cy = 6858000 },
                new NotesSize { Cx = 6858000, Cy = 9144000 });
            document.AddExtendedFilePropertiesPart().Properties = new ExtendedProperties.Properties(
                new ExtendedProperties.Application("Microsoft Office PowerPoint"),
                new ExtendedProperties.Slides((claimedSlides ?? slides).ToString()));
        }
        return stream.ToArray();
    }

    private static ShapeTree EmptyShapeTree() => new(
        new NonVisualGroupShapeProperties(
            new NonVisualDrawingProperties { Id = 1U, Name = "" },
            new NonVisualGroupShapeDrawingProperties(),
            new ApplicationNonVisualDrawingProperties()),
        new GroupShapeProperties(new A.TransformGroup()));

    /// <summary>A Word document whose one part unpacks from a few kilobytes to 2 MB of zeros.</summary>
    public static byte[] ZipBombDocx() => WithExtraEntries(Docx(1), [("word/media/padding.bin", new byte[2 * 1024 * 1024])]);

    /// <summary>A Word document whose central directory declares its first part unpacks to 250 MB (the data is unchanged).</summary>
    public static byte[] OversizedDocx()
    {
        var docx = Docx(1);
        for (var at = docx.Length - 46; at >= 0; at--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(docx.AsSpan(at)) != 0x02014B50)
                continue;
            BinaryPrimitives.WriteUInt32LittleEndian(docx.AsSpan(at + 24), 250u * 1024 * 1024);
            return docx;
        }
        throw new InvalidOperationException("The archive has no central directory.");
    }

    /// <summary>A Word document carrying a 5 MB relationships part (incompressible, so no bomb), which packaging would read whole.</summary>
    public static byte[] DocxWithHugeRelationships()
    {
        var noise = new byte[3_750_000];
        new Random(7).NextBytes(noise);
        return WithExtraEntries(Docx(1), [("customXml/_rels/item1.xml.rels", Encoding.ASCII.GetBytes(Convert.ToBase64String(noise)))]);
    }

    /// <summary>A Word document with <paramref name="extra"/> more (empty) entries in its archive.</summary>
    public static byte[] CrowdedDocx(int extra) =>
        WithExtraEntries(Docx(1), Enumerable.Range(0, extra).Select(i => ($"customXml/item{i}.bin", Array.Empty<byte>())).ToArray());

    private static byte[] WithExtraEntries(byte[] zip, (string Name, byte[] Data)[] entries)
    {
        using var stream = new MemoryStream();
        stream.Write(zip);
        using (var archive = new ZipArchive(stream, ZipArchiveMode.Update, leaveOpen: true))
        {
            foreach (var (name, data) in entries)
            {
                using var entry = archive.CreateEntry(name, CompressionLevel.Optimal).Open();
                entry.Write(data);
            }
        }
        return stream.ToArray();
    }

    /// <summary>A Word 97–2003 document: a WordDocument stream and a summary property set with PIDSI_PAGECOUNT (left out when null).</summary>
    public static byte[] Doc(int? pages)
    {
        var wordDocument = new byte[5000];
        BinaryPrimitives.WriteUInt16LittleEndian(wordDocument, 0xA5EC);
        var properties = pages is { } count ? new[] { (0x0Eu, count), (0x0Fu, count * 250) } : [(0x0Fu, 250)];
        return CompoundFileBuilder.Build(
            ("WordDocument", wordDocument),
            ("\u0005SummaryInformation", CompoundFileBuilder.PropertySetStream(SummaryInformation, properties)),
            ("1Table", new byte[700]));
    }

    /// <summary>A PowerPoint 97–2003 presentation: a PowerPoint Document stream and a document summary property set with PIDDSI_SLIDECOUNT (left out when null).</summary>
    public static byte[] Ppt(int? slides)
    {
        var properties = slides is { } count ? new[] { (0x07u, count), (0x08u, 0) } : [(0x08u, 0)];
        return CompoundFileBuilder.Build(
            ("PowerPoint Document", new byte[6000]),
            ("Current User", new byte[60]),
            ("\u0005DocumentSummaryInformation", CompoundFileBuilder.PropertySetStream(DocumentSummaryInformation, properties)));
    }
}
