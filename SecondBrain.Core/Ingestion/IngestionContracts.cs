namespace SecondBrain.Core.Ingestion;

/// <summary>Kinds of structural block a parser emits; the chunker keeps them apart where they differ in nature.</summary>
public static class BlockKinds
{
    public const string Heading = "heading";
    public const string Paragraph = "paragraph";
    public const string List = "list";
    public const string Table = "table";
    public const string Slide = "slide";
    public const string Sheet = "sheet";
    public const string EmailHeader = "email-header";
    public const string EmailBody = "email-body";
    public const string EmailQuote = "email-quote";
    public const string EmailSignature = "email-signature";
    public const string Message = "message";
}

/// <summary>One structural piece of a parsed document, in reading order.</summary>
public sealed record DocumentBlock(string Kind, string Text, string? Section = null, int? Page = null, int Level = 0);

/// <summary>What a parser gets: the stored document's bytes or text and how it was labelled.</summary>
public sealed record ParseInput(string FileName, string ContentType, byte[]? Content, string? Text);

/// <summary>The parser's result: blocks in reading order plus what it learnt about the document.</summary>
public sealed record ParseResult(
    IReadOnlyList<DocumentBlock> Blocks,
    string? Title = null,
    string? Author = null,
    DateTimeOffset? Date = null,
    int? PageCount = null)
{
    public string FullText => string.Join("\n\n", Blocks.Select(b => b.Text));
}

/// <summary>The document cannot be turned into text; it ends as a failed document with this reason.</summary>
public sealed class DocumentParseException(string reason, Exception? inner = null) : Exception(reason, inner);

/// <summary>A format parser. Instances are built per job by <see cref="IDocumentParserFactory"/> from the current settings.</summary>
public interface IDocumentParser
{
    Task<ParseResult> ParseAsync(ParseInput input, CancellationToken cancellationToken);
}

/// <summary>Builds a parser from the tenant's current versioned parsing settings (checked against Postgres on use).</summary>
public interface IDocumentParserFactory
{
    Task<IDocumentParser> CreateAsync(Guid tenantId, CancellationToken cancellationToken);
}

/// <summary>One chunk: a piece of a document within token bounds, with where it came from.</summary>
public sealed record TextChunk(int Position, string Text, string Kind, string? Section, int? Page, int TokenCount);

public sealed class ChunkingOptions
{
    /// <summary>Upper bound in model tokens (MiniLM reads at most 256 word pieces).</summary>
    public int MaxTokens { get; set; } = 200;

    /// <summary>Chunks smaller than this are merged with a neighbour of the same kind where possible.</summary>
    public int MinTokens { get; set; } = 40;

    /// <summary>Tokens repeated from the end of the previous chunk when a long block is split.</summary>
    public int OverlapTokens { get; set; } = 30;
}
