namespace Serverless.Tests.Print.Files.Inspection;

// Inside this namespace the bare name Inspection would mean the namespace Serverless.Tests.Print.Files.Inspection.
using Serverless.Print.Files.Inspection;

/// <summary>Every file is written to disk and inspected through a read-only FileStream, as the upload endpoint does.</summary>
public sealed class InspectionTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("print-inspection-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private async Task<FileInspection> InspectAsync(byte[] content, string fileName, TimeSpan? timeBound = null)
    {
        var path = Path.Combine(folder, Guid.NewGuid().ToString("N") + Path.GetExtension(fileName));
        await File.WriteAllBytesAsync(path, content);
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var kind = PrintFileInspector.KindOf(fileName) ?? throw new ArgumentException("Not a print file name.", nameof(fileName));
        return timeBound is { } bound
            ? await PrintFileInspector.InspectAsync(stream, fileName, kind, bound, CancellationToken.None)
            : await PrintFileInspector.InspectAsync(stream, fileName, kind, CancellationToken.None);
    }

    private async Task<InspectedFile> AcceptedAsync(byte[] content, string fileName)
    {
        var inspection = await InspectAsync(content, fileName);
        Assert.True(inspection.File is not null, inspection.Problem);
        Assert.Null(inspection.Problem);
        return inspection.File;
    }

    private async Task<string> RefusedAsync(byte[] content, string fileName)
    {
        var inspection = await InspectAsync(content, fileName);
        Assert.Null(inspection.File);
        Assert.NotNull(inspection.Problem);
        return inspection.Problem;
    }

    // Kinds

    [Theory]
    [InlineData("report.pdf", PrintFileKind.Pdf)]
    [InlineData("REPORT.PDF", PrintFileKind.Pdf)]
    [InlineData("photo.png", PrintFileKind.Png)]
    [InlineData("photo.jpg", PrintFileKind.Jpeg)]
    [InlineData("photo.JPEG", PrintFileKind.Jpeg)]
    [InlineData("letter.doc", PrintFileKind.Doc)]
    [InlineData("letter.Docx", PrintFileKind.Docx)]
    [InlineData("slides.ppt", PrintFileKind.Ppt)]
    [InlineData("slides.pptx", PrintFileKind.Pptx)]
    [InlineData("archive.tar.pdf", PrintFileKind.Pdf)]
    public void A_print_file_kind_comes_from_the_extension_in_any_case(string fileName, PrintFileKind kind) =>
        Assert.Equal(kind, PrintFileInspector.KindOf(fileName));

    [Theory]
    [InlineData("notes.txt")]
    [InlineData("book.xlsx")]
    [InlineData("pdf")]
    [InlineData("report.pdf.exe")]
    [InlineData("")]
    public void Other_extensions_are_not_print_files(string fileName) => Assert.Null(PrintFileInspector.KindOf(fileName));

    // Page counts

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    public async Task A_pdf_bills_its_pages(int pages)
    {
        var file = await AcceptedAsync(TestDocuments.Pdf(pages), "report.pdf");
        Assert.Equal(new InspectedFile(PrintFileKind.Pdf, "application/pdf", pages), file);
    }

    [Fact]
    public async Task A_png_bills_one_page() =>
        Assert.Equal(new InspectedFile(PrintFileKind.Png, "image/png", 1), await AcceptedAsync(TestDocuments.Png(), "photo.png"));

    [Theory]
    [InlineData("photo.jpg")]
    [InlineData("photo.jpeg")]
    public async Task A_jpeg_bills_one_page(string fileName) =>
        Assert.Equal(new InspectedFile(PrintFileKind.Jpeg, "image/jpeg", 1), await AcceptedAsync(TestDocuments.Jpeg(), fileName));

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public async Task A_docx_bills_the_pages_its_word_processor_counted(int pages)
    {
        var file = await AcceptedAsync(TestDocuments.Docx(pages), "letter.docx");
        Assert.Equal(new InspectedFile(PrintFileKind.Docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", pages), file);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public async Task A_pptx_bills_its_slides(int slides)
    {
        var file = await AcceptedAsync(TestDocuments.Pptx(slides), "slides.pptx");
        Assert.Equal(new InspectedFile(PrintFileKind.Pptx, "application/vnd.openxmlformats-officedocument.presentationml.presentation", slides), file);
    }

    [Fact]
    public async Task A_pptx_bills_the_slides_it_holds_not_the_count_its_properties_claim()
    {
        Assert.Equal(3, (await AcceptedAsync(TestDocuments.Pptx(3, claimedSlides: 1), "slides.pptx")).Pages);
        Assert.Equal(2, (await AcceptedAsync(TestDocuments.Pptx(2, claimedSlides: 40), "slides.pptx")).Pages);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(12)]
    public async Task A_doc_bills_the_page_count_of_its_summary_information(int pages)
    {
        var file = await AcceptedAsync(TestDocuments.Doc(pages), "letter.doc");
        Assert.Equal(new InspectedFile(PrintFileKind.Doc, "application/msword", pages), file);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    public async Task A_ppt_bills_the_slide_count_of_its_document_summary_information(int slides)
    {
        var file = await AcceptedAsync(TestDocuments.Ppt(slides), "slides.ppt");
        Assert.Equal(new InspectedFile(PrintFileKind.Ppt, "application/vnd.ms-powerpoint", slides), file);
    }

    // Empty and lying files

    [Theory]
    [InlineData("report.pdf")]
    [InlineData("photo.png")]
    [InlineData("photo.jpg")]
    [InlineData("letter.doc")]
    [InlineData("letter.docx")]
    [InlineData("slides.ppt")]
    [InlineData("slides.pptx")]
    public async Task An_empty_file_is_refused_by_name(string fileName) =>
        Assert.Equal($"'{fileName}' is empty.", await RefusedAsync([], fileName));

    public static TheoryData<string, string, string> LyingExtensions() => new()
    {
        { "report.pdf", "png", "PDF" },
        { "photo.png", "jpeg", "PNG" },
        { "photo.jpg", "pdf", "JPEG" },
        { "letter.doc", "docx", "DOC" },
        { "letter.docx", "doc", "DOCX" },
        { "slides.ppt", "pdf", "PPT" },
        { "slides.pptx", "png", "PPTX" },
        { "notes.pdf", "text", "PDF" },
    };

    [Theory]
    [MemberData(nameof(LyingExtensions))]
    public async Task A_file_whose_content_is_another_kind_is_refused(string fileName, string content, string label)
    {
        var bytes = content switch
        {
            "png" => TestDocuments.Png(),
            "jpeg" => TestDocuments.Jpeg(),
            "pdf" => TestDocuments.Pdf(1),
            "docx" => TestDocuments.Docx(1),
            "doc" => TestDocuments.Doc(1),
            _ => "Just some text, not a document."u8.ToArray(),
        };
        Assert.Equal($"'{fileName}' is not a valid {label} file: its content does not match its extension.", await RefusedAsync(bytes, fileName));
    }

    [Fact]
    public async Task A_presentation_named_docx_is_refused() =>
        Assert.Equal("'letter.docx' is not a valid DOCX file: its content does not match its extension.",
            await RefusedAsync(TestDocuments.Pptx(2), "letter.docx"));

    [Fact]
    public async Task A_word_document_named_pptx_is_refused() =>
        Assert.Equal("'slides.pptx' is not a valid PPTX file: its content does not match its extension.",
            await RefusedAsync(TestDocuments.Docx(2), "slides.pptx"));

    [Fact]
    public async Task A_ppt_named_doc_is_refused() =>
        Assert.Equal("'letter.doc' is not a valid DOC file: its content does not match its extension.",
            await RefusedAsync(TestDocuments.Ppt(3), "letter.doc"));

    [Fact]
    public async Task A_doc_named_ppt_is_refused() =>
        Assert.Equal("'slides.ppt' is not a valid PPT file: its content does not match its extension.",
            await RefusedAsync(TestDocuments.Doc(3), "slides.ppt"));

    [Fact]
    public async Task A_png_without_its_header_chunk_is_refused()
    {
        var png = TestDocuments.Png();
        png[12] = (byte)'X';
        Assert.Equal("'photo.png' is not a valid PNG file: its content does not match its extension.", await RefusedAsync(png, "photo.png"));
    }

    [Theory]
    [InlineData("C:\\Users\\me\\report.pdf")]
    [InlineData("/home/me/report.pdf")]
    public async Task The_problem_names_the_file_without_its_folder(string fileName) =>
        Assert.Equal("'report.pdf' is empty.", await RefusedAsync([], fileName));

    // Page counts that cannot be known

    [Fact]
    public async Task A_docx_whose_properties_have_no_page_count_is_refused_as_page_count_unavailable() =>
        Assert.Equal(PrintFileInspector.PageCountUnavailable, await RefusedAsync(TestDocuments.Docx(null, paragraphs: 5), "letter.docx"));

    [Fact]
    public async Task A_docx_claiming_zero_pages_is_refused_as_page_count_unavailable() =>
        Assert.Equal(PrintFileInspector.PageCountUnavailable, await RefusedAsync(TestDocuments.Docx(0), "letter.docx"));

    [Fact]
    public async Task A_doc_without_a_page_count_property_is_refused_as_page_count_unavailable() =>
        Assert.Equal(PrintFileInspector.PageCountUnavailable, await RefusedAsync(TestDocuments.Doc(null), "letter.doc"));

    [Fact]
    public async Task A_ppt_without_a_slide_count_property_is_refused_as_page_count_unavailable() =>
        Assert.Equal(PrintFileInspector.PageCountUnavailable, await RefusedAsync(TestDocuments.Ppt(null), "slides.ppt"));

    [Fact]
    public async Task A_ppt_claiming_zero_slides_is_refused_as_page_count_unavailable() =>
        Assert.Equal(PrintFileInspector.PageCountUnavailable, await RefusedAsync(TestDocuments.Ppt(0), "slides.ppt"));

    [Fact]
    public async Task A_pptx_without_slides_is_refused() =>
        Assert.Equal("'slides.pptx' has no slides.", await RefusedAsync(TestDocuments.Pptx(0), "slides.pptx"));

    [Fact]
    public async Task A_pdf_without_pages_is_refused() =>
        Assert.Equal("'report.pdf' has no pages.", await RefusedAsync(TestDocuments.EmptyPagesPdf(), "report.pdf"));

    // Hostile files

    [Fact]
    public async Task A_pdf_of_more_pages_than_anyone_prints_is_refused() =>
        Assert.Equal($"'report.pdf' has {PrintFileInspector.MaxPages + 1} pages; at most {PrintFileInspector.MaxPages} can be printed from one file.",
            await RefusedAsync(TestDocuments.Pdf(PrintFileInspector.MaxPages + 1), "report.pdf"));

    [Fact]
    public async Task A_doc_claiming_more_pages_than_anyone_prints_is_refused() =>
        Assert.Equal($"'letter.doc' has 1000000 pages; at most {PrintFileInspector.MaxPages} can be printed from one file.",
            await RefusedAsync(TestDocuments.Doc(1_000_000), "letter.doc"));

    [Fact]
    public async Task A_docx_claiming_more_pages_than_anyone_prints_is_refused() =>
        Assert.Equal($"'letter.docx' has 5000 pages; at most {PrintFileInspector.MaxPages} can be printed from one file.",
            await RefusedAsync(TestDocuments.Docx(5000, paragraphs: 0), "letter.docx"));

    [Fact]
    public async Task A_truncated_pdf_is_refused_as_unreadable()
    {
        var pdf = TestDocuments.Pdf(3);
        Assert.Equal("'report.pdf' is not a readable PDF file.", await RefusedAsync(pdf[..(pdf.Length / 2)], "report.pdf"));
    }

    [Fact]
    public async Task A_deeply_nested_pdf_is_refused_within_the_time_bound()
    {
        var inspection = await InspectAsync(TestDocuments.DeeplyNestedPdf(200_000), "report.pdf");
        Assert.Equal("'report.pdf' is not a readable PDF file.", inspection.Problem);
    }

    [Fact]
    public async Task A_pdf_whose_page_tree_contains_itself_is_refused() =>
        Assert.Equal("'report.pdf' is not a readable PDF file.", await RefusedAsync(TestDocuments.PageTreeLoopPdf(), "report.pdf"));

    [Fact]
    public async Task A_zip_bomb_docx_is_refused() =>
        Assert.Equal("'letter.docx' is not a valid DOCX file: its archive contains a part compressed beyond any real document (a zip bomb).",
            await RefusedAsync(TestDocuments.ZipBombDocx(), "letter.docx"));

    [Fact]
    public async Task A_docx_declaring_more_than_200_MB_unpacked_is_refused() =>
        Assert.Equal("'letter.docx' is not a valid DOCX file: its archive unpacks to more than 200 MB.",
            await RefusedAsync(TestDocuments.OversizedDocx(), "letter.docx"));

    [Fact]
    public async Task A_docx_with_oversized_package_relationships_is_refused() =>
        Assert.Equal("'letter.docx' is not a valid DOCX file: its package relationships are too large.",
            await RefusedAsync(TestDocuments.DocxWithHugeRelationships(), "letter.docx"));

    [Fact]
    public async Task A_docx_of_two_thousand_entries_is_accepted() =>
        Assert.Equal(1, (await AcceptedAsync(TestDocuments.CrowdedDocx(2000 - EntriesOf(TestDocuments.Docx(1))), "letter.docx")).Pages);

    private static int EntriesOf(byte[] zip)
    {
        using var archive = new System.IO.Compression.ZipArchive(new MemoryStream(zip));
        return archive.Entries.Count;
    }

    [Fact]
    public async Task A_docx_of_more_than_two_thousand_entries_is_refused() =>
        Assert.Equal("'letter.docx' is not a valid DOCX file: its archive has too many entries.",
            await RefusedAsync(TestDocuments.CrowdedDocx(2000), "letter.docx"));

    [Fact]
    public async Task A_truncated_docx_is_refused()
    {
        var docx = TestDocuments.Docx(2);
        Assert.Equal("'letter.docx' is not a valid DOCX file: its archive is damaged.", await RefusedAsync(docx[..(docx.Length - 30)], "letter.docx"));
    }

    [Fact]
    public async Task A_doc_whose_directory_chain_loops_is_refused() =>
        Assert.Equal("'letter.doc' is not a valid DOC file: it could not be read.",
            await RefusedAsync(CompoundFileBuilder.WithDirectoryLoop(TestDocuments.Doc(2)), "letter.doc"));

    [Fact]
    public async Task A_doc_whose_summary_stream_chain_loops_in_the_mini_stream_is_refused() =>
        Assert.Equal("'letter.doc' is not a valid DOC file: it could not be read.",
            await RefusedAsync(CompoundFileBuilder.WithMiniFatEntry(TestDocuments.Doc(2), miniSector: 0, next: 0), "letter.doc"));

    [Theory]
    [InlineData(48, 0x00FFFFFFu)]
    [InlineData(44, 0x7FFFFFFFu)]
    [InlineData(60, 0x00FFFFFFu)]
    public async Task A_ppt_pointing_outside_itself_is_refused(int headerOffset, uint value) =>
        Assert.Equal("'slides.ppt' is not a valid PPT file: it could not be read.",
            await RefusedAsync(CompoundFileBuilder.WithHeaderField(TestDocuments.Ppt(4), headerOffset, value), "slides.ppt"));

    [Fact]
    public async Task A_truncated_doc_is_refused() =>
        Assert.Equal("'letter.doc' is not a valid DOC file: it could not be read.",
            await RefusedAsync(TestDocuments.Doc(2)[..1024], "letter.doc"));

    [Fact]
    public async Task A_parse_that_overruns_its_time_bound_answers_a_problem()
    {
        var inspection = await InspectAsync(TestDocuments.Pdf(2), "report.pdf", timeBound: TimeSpan.Zero);
        Assert.Null(inspection.File);
        Assert.Equal("'report.pdf' is too complex to read in time. Please convert to PDF and upload.", inspection.Problem);
    }

    [Fact]
    public async Task A_cancelled_inspection_throws_operation_cancelled()
    {
        var path = Path.Combine(folder, "report.pdf");
        await File.WriteAllBytesAsync(path, TestDocuments.Pdf(1));
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            PrintFileInspector.InspectAsync(stream, "report.pdf", PrintFileKind.Pdf, new CancellationToken(canceled: true)));
    }
}
