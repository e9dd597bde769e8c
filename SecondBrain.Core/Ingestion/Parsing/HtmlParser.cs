using System.Text;
using System.Text.RegularExpressions;
using HtmlAgilityPack;

namespace SecondBrain.Core.Ingestion.Parsing;

/// <summary>
/// HTML with HtmlAgilityPack: scripts, styles and the head (except its title) are dropped; block elements end a
/// paragraph so text is never run together; h1-h6 become heading blocks; lists and tables keep their shape.
/// </summary>
internal static partial class HtmlParser
{
    private const int MaxDepth = 300;

    private static readonly HashSet<string> Skipped = new(StringComparer.OrdinalIgnoreCase)
    {
        "script", "style", "noscript", "template", "head", "title", "svg", "math", "canvas", "iframe", "object", "embed",
        "audio", "video", "select", "button", "input", "textarea", "map", "meta", "link", "base"
    };

    private static readonly HashSet<string> BlockElements = new(StringComparer.OrdinalIgnoreCase)
    {
        "p", "div", "section", "article", "header", "footer", "main", "nav", "aside", "address", "figure", "figcaption",
        "dl", "dt", "dd", "form", "fieldset", "legend", "hr", "center", "details", "summary", "caption", "body", "html",
        "li", "tr", "td", "th", "tbody", "thead", "tfoot"
    };

    [GeneratedRegex(@"<meta[^>]+charset\s*=\s*[""']?\s*([A-Za-z0-9_\-:.]+)", RegexOptions.IgnoreCase | RegexOptions.NonBacktracking)]
    private static partial Regex MetaCharset();

    public static ParseResult Parse(byte[] content, string? declaredCharset, CancellationToken cancellationToken) =>
        Parse(Decode(content, declaredCharset), cancellationToken);

    /// <summary>
    /// The browsers' order: BOM first (a UTF-16 page may still claim utf-8 in its meta tag), then the charset of
    /// the content type, then the meta charset, then detection.
    /// </summary>
    public static string Decode(byte[] content, string? declaredCharset)
    {
        if (TextDecoding.HasWideEncoding(content))
        {
            return TextDecoding.Decode(content);
        }

        var charset = TextDecoding.TryGetEncoding(declaredCharset) is not null ? declaredCharset : null;
        if (charset is null)
        {
            var head = Encoding.Latin1.GetString(content, 0, Math.Min(content.Length, 4096));
            var meta = MetaCharset().Match(head);
            charset = meta.Success ? meta.Groups[1].Value : null;
        }

        return TextDecoding.Decode(content, charset);
    }

    public static ParseResult Parse(string html, CancellationToken cancellationToken, bool quoteBlockquotes = false)
    {
        var document = new HtmlDocument { OptionMaxNestedChildNodes = 10_000 };
        document.LoadHtml(html);
        cancellationToken.ThrowIfCancellationRequested();

        var title = document.DocumentNode.SelectSingleNode("//title") is { } titleNode
            ? TextCleanup.CollapseWhitespace(HtmlEntity.DeEntitize(titleNode.InnerText)) : null;
        var walker = new Walker(cancellationToken, quoteBlockquotes);
        walker.Walk(document.DocumentNode, 0);
        walker.Flush();
        return new ParseResult(walker.Writer.Blocks, Title: string.IsNullOrWhiteSpace(title) ? null : title);
    }

    private sealed class Walker(CancellationToken cancellationToken, bool quoteBlockquotes)
    {
        private readonly StringBuilder _paragraph = new();
        private int _visited;
        private int _quoteDepth;

        public BlockWriter Writer { get; } = new();

        public void Walk(HtmlNode node, int depth)
        {
            if ((++_visited & 0x3FF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            switch (node.NodeType)
            {
                case HtmlNodeType.Comment:
                    return;
                case HtmlNodeType.Text:
                    AppendInline(HtmlEntity.DeEntitize(((HtmlTextNode)node).Text));
                    return;
                case HtmlNodeType.Document:
                    WalkChildren(node, depth);
                    return;
            }

            var name = node.Name.ToLowerInvariant();
            if (Skipped.Contains(name))
            {
                return;
            }

            // Pathologically deep markup is flattened rather than recursed, so it cannot exhaust the stack.
            if (depth > MaxDepth)
            {
                AppendInline(HtmlEntity.DeEntitize(node.InnerText));
                return;
            }

            switch (name)
            {
                case "h1" or "h2" or "h3" or "h4" or "h5" or "h6":
                    Flush();
                    Writer.Heading(InlineText(node), name[1] - '0');
                    return;
                case "br":
                    _paragraph.Append('\n');
                    return;
                case "pre" or "listing" or "xmp" or "plaintext":
                    // Preformatted text keeps its lines; blank lines still separate its paragraphs.
                    Flush();
                    foreach (var paragraph in TextCleanup.SplitParagraphs(HtmlEntity.DeEntitize(node.InnerText)))
                    {
                        Writer.Add(BlockKinds.Paragraph, Quote(paragraph));
                    }

                    return;
                case "ul" or "ol" or "menu":
                    Flush();
                    var items = new List<string>();
                    CollectList(node, items, 0, depth);
                    Writer.Add(BlockKinds.List, Quote(string.Join('\n', items)));
                    return;
                case "table":
                    Flush();
                    WriteTable(node, depth);
                    return;
                case "blockquote":
                    Flush();
                    _quoteDepth++;
                    WalkChildren(node, depth);
                    Flush();
                    _quoteDepth--;
                    return;
                case "img":
                    return;
            }

            if (BlockElements.Contains(name))
            {
                Flush();
                WalkChildren(node, depth);
                Flush();
                return;
            }

            WalkChildren(node, depth);
        }

        public void Flush()
        {
            if (_paragraph.Length == 0)
            {
                return;
            }

            var lines = _paragraph.ToString().Split('\n').Select(TextCleanup.CollapseWhitespace).Where(l => l.Length > 0);
            Writer.Add(BlockKinds.Paragraph, Quote(string.Join('\n', lines)));
            _paragraph.Clear();
        }

        private void WalkChildren(HtmlNode node, int depth)
        {
            foreach (var child in node.ChildNodes)
            {
                Walk(child, depth + 1);
            }
        }

        private void AppendInline(string text)
        {
            // Whitespace in HTML source is layout; one space keeps neighbouring words apart.
            foreach (var c in text)
            {
                _paragraph.Append(char.IsWhiteSpace(c) ? ' ' : c);
            }
        }

        /// <summary>In an e-mail, quoted text keeps its "&gt; " markers so the e-mail parser can tell it from the reply.</summary>
        private string Quote(string text) =>
            quoteBlockquotes && _quoteDepth > 0
                ? string.Join('\n', text.Split('\n').Select(line => new string('>', _quoteDepth) + " " + line))
                : text;

        private void CollectList(HtmlNode list, List<string> items, int level, int depth)
        {
            var number = 1;
            foreach (var child in list.ChildNodes)
            {
                if (child.NodeType != HtmlNodeType.Element)
                {
                    continue;
                }

                var name = child.Name.ToLowerInvariant();
                if (name is "ul" or "ol" or "menu" && depth < MaxDepth)
                {
                    CollectList(child, items, level + 1, depth + 1);
                    continue;
                }

                if (name != "li")
                {
                    continue;
                }

                var text = InlineText(child, skipLists: true);
                var marker = list.Name.Equals("ol", StringComparison.OrdinalIgnoreCase) ? $"{number++}." : "-";
                if (text.Length > 0)
                {
                    items.Add($"{new string(' ', level * 2)}{marker} {text}");
                }

                foreach (var nested in child.ChildNodes.Where(n => n.Name is "ul" or "ol" or "menu"))
                {
                    if (depth < MaxDepth)
                    {
                        CollectList(nested, items, level + 1, depth + 1);
                    }
                }
            }
        }

        private void WriteTable(HtmlNode table, int depth)
        {
            var rows = new List<string>();
            foreach (var row in Rows(table))
            {
                var cells = row.ChildNodes
                    .Where(c => c.Name.Equals("td", StringComparison.OrdinalIgnoreCase) || c.Name.Equals("th", StringComparison.OrdinalIgnoreCase))
                    .Select(c => InlineText(c))
                    .ToList();
                while (cells.Count > 0 && cells[^1].Length == 0)
                {
                    cells.RemoveAt(cells.Count - 1);
                }

                if (cells.Any(c => c.Length > 0))
                {
                    rows.Add(string.Join('\t', cells));
                }
            }

            // Layout tables (one cell per row) read as paragraphs, not as a grid.
            if (rows.Count > 0 && rows.All(r => !r.Contains('\t')))
            {
                foreach (var row in rows)
                {
                    Writer.Add(BlockKinds.Paragraph, Quote(row));
                }

                return;
            }

            Writer.Add(BlockKinds.Table, Quote(string.Join('\n', rows)));
        }

        /// <summary>The table's own rows, not those of tables nested in its cells (those are flattened into the cell).</summary>
        private static IEnumerable<HtmlNode> Rows(HtmlNode table)
        {
            foreach (var child in table.ChildNodes)
            {
                var name = child.Name.ToLowerInvariant();
                if (name == "tr")
                {
                    yield return child;
                }
                else if (name is "thead" or "tbody" or "tfoot")
                {
                    foreach (var row in child.ChildNodes.Where(r => r.Name.Equals("tr", StringComparison.OrdinalIgnoreCase)))
                    {
                        yield return row;
                    }
                }
            }
        }

        private string InlineText(HtmlNode node, bool skipLists = false)
        {
            var builder = new StringBuilder();
            AppendText(node, builder, skipLists, 0);
            return TextCleanup.CollapseWhitespace(builder.ToString());
        }

        private void AppendText(HtmlNode node, StringBuilder builder, bool skipLists, int depth)
        {
            if ((++_visited & 0x3FF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            foreach (var child in node.ChildNodes)
            {
                switch (child.NodeType)
                {
                    case HtmlNodeType.Text:
                        builder.Append(HtmlEntity.DeEntitize(((HtmlTextNode)child).Text));
                        continue;
                    case HtmlNodeType.Comment:
                        continue;
                }

                var name = child.Name.ToLowerInvariant();
                if (Skipped.Contains(name) || (skipLists && name is "ul" or "ol" or "menu"))
                {
                    continue;
                }

                if (depth > MaxDepth)
                {
                    builder.Append(' ').Append(HtmlEntity.DeEntitize(child.InnerText)).Append(' ');
                    continue;
                }

                var separate = name == "br" || BlockElements.Contains(name) || name.Length == 2 && name[0] == 'h' && char.IsAsciiDigit(name[1]);
                if (separate)
                {
                    builder.Append(' ');
                }

                AppendText(child, builder, skipLists, depth + 1);
                if (separate)
                {
                    builder.Append(' ');
                }
            }
        }
    }
}
