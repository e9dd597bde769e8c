using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using A = DocumentFormat.OpenXml.Drawing;
using P = DocumentFormat.OpenXml.Presentation;

namespace SecondBrain.Core.Ingestion.Parsing;

/// <summary>.pptx: one slide block per slide (title, body text, tables, speaker notes), section = the slide title.</summary>
internal static class PresentationParser
{
    public static ParseResult Parse(byte[] content, ParsingLimits limits, CancellationToken cancellationToken)
    {
        OfficeParsing.CheckPackage(content, limits);
        using var stream = new MemoryStream(content, writable: false);
        using var document = PresentationDocument.Open(stream, false, OfficeParsing.OpenSettings(limits));
        var presentation = document.PresentationPart ?? throw new DocumentParseException("The PowerPoint file is malformed: it has no presentation part.");
        var slideIds = presentation.Presentation?.SlideIdList?.Elements<P.SlideId>().ToList() ?? [];

        var writer = new BlockWriter();
        var number = 0;
        foreach (var slideId in slideIds)
        {
            cancellationToken.ThrowIfCancellationRequested();
            number++;
            if (slideId.RelationshipId?.Value is not { } relationship
                || !presentation.TryGetPartById(relationship, out var part)
                || part is not SlidePart slidePart)
            {
                continue;
            }

            string? title = null;
            var body = new List<string>();
            if (slidePart.Slide?.CommonSlideData?.ShapeTree is { } tree)
            {
                CollectShapes(tree, ref title, body, 0);
            }

            var notes = new List<string>();
            if (slidePart.NotesSlidePart?.NotesSlide?.CommonSlideData?.ShapeTree is { } notesTree)
            {
                string? ignoredTitle = null;
                CollectShapes(notesTree, ref ignoredTitle, notes, 0, notesOnly: true);
            }

            var text = new StringBuilder();
            if (title is not null)
            {
                text.Append(title).Append("\n\n");
            }

            text.AppendJoin('\n', body);
            if (notes.Count > 0)
            {
                text.Append("\n\nNotes: ").AppendJoin('\n', notes);
            }

            var section = title is null ? $"Slide {number}" : TextCleanup.CollapseWhitespace(title);
            writer.Add(BlockKinds.Slide, text.ToString(), page: number, section: section.Length > 200 ? section[..200] : section);
        }

        var properties = document.PackageProperties;
        return new ParseResult(
            writer.Blocks,
            Title: OfficeParsing.NullIfBlank(properties.Title),
            Author: OfficeParsing.NullIfBlank(properties.Creator),
            Date: OfficeParsing.ToOffset(properties.Created ?? properties.Modified),
            PageCount: slideIds.Count);
    }

    private static void CollectShapes(OpenXmlElement tree, ref string? title, List<string> body, int depth, bool notesOnly = false)
    {
        foreach (var element in tree.ChildElements)
        {
            switch (element)
            {
                case P.Shape shape:
                    var placeholder = shape.NonVisualShapeProperties?.ApplicationNonVisualDrawingProperties?.PlaceholderShape;
                    var type = placeholder?.Type?.Value;
                    // Slide numbers, dates, footers and (in notes) the slide thumbnail are chrome, not content.
                    if (type is { } t && (t == P.PlaceholderValues.SlideNumber || t == P.PlaceholderValues.DateAndTime
                        || t == P.PlaceholderValues.Footer || t == P.PlaceholderValues.Header || t == P.PlaceholderValues.SlideImage))
                    {
                        break;
                    }

                    var text = TextBodyText(shape.TextBody);
                    if (text.Length == 0)
                    {
                        break;
                    }

                    if (!notesOnly && title is null && type is { } titleType
                        && (titleType == P.PlaceholderValues.Title || titleType == P.PlaceholderValues.CenteredTitle))
                    {
                        title = text;
                    }
                    else
                    {
                        body.Add(text);
                    }

                    break;
                case P.GroupShape group when depth < 32:
                    CollectShapes(group, ref title, body, depth + 1, notesOnly);
                    break;
                case P.GraphicFrame frame:
                    foreach (var table in frame.Descendants<A.Table>())
                    {
                        var rows = table.Elements<A.TableRow>()
                            .Select(row => string.Join('\t', row.Elements<A.TableCell>().Select(cell => TextCleanup.CollapseWhitespace(TextBodyText(cell.TextBody)))))
                            .Where(row => row.Replace("\t", "").Trim().Length > 0);
                        var tableText = string.Join('\n', rows);
                        if (tableText.Length > 0)
                        {
                            body.Add(tableText);
                        }
                    }

                    break;
            }
        }
    }

    private static string TextBodyText(OpenXmlElement? textBody)
    {
        if (textBody is null)
        {
            return "";
        }

        var paragraphs = new List<string>();
        foreach (var paragraph in textBody.Elements<A.Paragraph>())
        {
            var builder = new StringBuilder();
            foreach (var child in paragraph.ChildElements)
            {
                switch (child)
                {
                    case A.Run run:
                        builder.Append(run.Text?.Text);
                        break;
                    case A.Field field:
                        builder.Append(field.Text?.Text);
                        break;
                    case A.Break:
                        builder.Append('\n');
                        break;
                }
            }

            var text = builder.ToString().Trim();
            if (text.Length > 0)
            {
                paragraphs.Add(text);
            }
        }

        return string.Join('\n', paragraphs);
    }
}
