using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using MimeKit;
using SecondBrain.Core.Ingestion;
using SecondBrain.Core.Ingestion.Parsing;
using SecondBrain.ServiceDefaults.Telemetry;

namespace SecondBrain.Tests.Unit.Parsing;

/// <summary>Parser behaviour on small documents built here: e-mail structure, limits, detection, text formats.</summary>
public sealed class DocumentParserTests
{
    private static Task<ParseResult> ParseAsync(string fileName, string contentType, byte[] content, ParsingSettings? settings = null) =>
        new DocumentParser(settings).ParseAsync(new ParseInput(fileName, contentType, content, null), CancellationToken.None);

    private static byte[] Email(string body, string subject = "Budget review", string? html = null)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Alice Example", "alice@example.com"));
        message.To.Add(new MailboxAddress("Bob Example", "bob@example.com"));
        message.Subject = subject;
        message.Date = new DateTimeOffset(2024, 3, 5, 10, 30, 0, TimeSpan.Zero);
        message.Body = html is null
            ? new TextPart("plain") { Text = body }
            : new TextPart("html") { Text = html };
        using var buffer = new MemoryStream();
        message.WriteTo(buffer);
        return buffer.ToArray();
    }

    private const string ReplyWithQuoteAndSignature = """
        Hi Bob,

        The budget for Q3 is approved. We keep the travel line as it is.

        Best regards,
        Alice Example
        Finance Lead

        On Mon, Mar 4, 2024 at 9:00 AM Bob Example <bob@example.com> wrote:
        > Can you confirm the Q3 budget?
        > Thanks
        """;

    [Fact]
    public async Task Email_gives_header_body_signature_and_quote_blocks()
    {
        var result = await ParseAsync("reply.eml", "message/rfc822", Email(ReplyWithQuoteAndSignature));

        Assert.Equal("Budget review", result.Title);
        Assert.Equal("Alice Example <alice@example.com>", result.Author);
        Assert.Equal(new DateTimeOffset(2024, 3, 5, 10, 30, 0, TimeSpan.Zero), result.Date);

        var header = result.Blocks[0];
        Assert.Equal(BlockKinds.EmailHeader, header.Kind);
        Assert.Contains("From: \"Alice Example\" <alice@example.com>", header.Text);
        Assert.Contains("To: \"Bob Example\" <bob@example.com>", header.Text);
        Assert.Contains("Subject: Budget review", header.Text);
        Assert.Contains("Date: ", header.Text);

        Assert.Equal(
            [BlockKinds.EmailHeader, BlockKinds.EmailBody, BlockKinds.EmailBody, BlockKinds.EmailSignature, BlockKinds.EmailQuote],
            result.Blocks.Select(b => b.Kind));
        Assert.Contains("budget for Q3 is approved", result.Blocks[2].Text);
        Assert.StartsWith("Best regards,", result.Blocks[3].Text);
        Assert.Contains("Finance Lead", result.Blocks[3].Text);
        Assert.Contains("Can you confirm the Q3 budget?", result.Blocks[4].Text);
        Assert.All(result.Blocks, b => Assert.Equal("Budget review", b.Section));
    }

    [Fact]
    public async Task Settings_drop_quotes_and_signatures()
    {
        var content = Email(ReplyWithQuoteAndSignature);

        var withoutQuotes = await ParseAsync("reply.eml", "message/rfc822", content, new ParsingSettings { IncludeEmailQuotes = false });
        Assert.DoesNotContain(withoutQuotes.Blocks, b => b.Kind == BlockKinds.EmailQuote);
        Assert.Contains(withoutQuotes.Blocks, b => b.Kind == BlockKinds.EmailSignature);
        Assert.DoesNotContain("Can you confirm", withoutQuotes.FullText);

        var withoutSignatures = await ParseAsync("reply.eml", "message/rfc822", content, new ParsingSettings { IncludeEmailSignatures = false });
        Assert.DoesNotContain(withoutSignatures.Blocks, b => b.Kind == BlockKinds.EmailSignature);
        Assert.Contains(withoutSignatures.Blocks, b => b.Kind == BlockKinds.EmailQuote);
        Assert.DoesNotContain("Finance Lead", withoutSignatures.FullText);
    }

    [Fact]
    public async Task Inline_quotes_dash_dash_signatures_and_outlook_tails_are_recognised()
    {
        const string body = """
            > Should we move the launch to May?
            > It would give QA two more weeks.

            Yes, let's move it to May 12.

            --
            Carol Smith
            Product, Example Inc.

            -----Original Message-----
            From: Dave
            Sent: Monday, March 4, 2024 09:00
            Subject: Launch
            """;

        var result = await ParseAsync("thread.eml", "message/rfc822", Email(body, "Launch"));

        Assert.Equal(
            [BlockKinds.EmailHeader, BlockKinds.EmailQuote, BlockKinds.EmailBody, BlockKinds.EmailSignature, BlockKinds.EmailQuote],
            result.Blocks.Select(b => b.Kind));
        Assert.Equal("Should we move the launch to May?\nIt would give QA two more weeks.", result.Blocks[1].Text);
        Assert.StartsWith("--\nCarol Smith", result.Blocks[3].Text);
        Assert.StartsWith("-----Original Message-----", result.Blocks[4].Text);
    }

    [Fact]
    public async Task Inline_replies_keep_the_answers_between_the_quotes_as_body()
    {
        const string body = """
            On Mon, Mar 4, 2024 at 9:00 AM Bob wrote:
            > Can we ship on Tuesday?
            Yes, Tuesday works.
            > Who runs the tests?
            Carol does.
            """;

        var result = await ParseAsync("inline.eml", "message/rfc822", Email(body));

        Assert.Equal(
            [
                (BlockKinds.EmailQuote, "On Mon, Mar 4, 2024 at 9:00 AM Bob wrote:\nCan we ship on Tuesday?"),
                (BlockKinds.EmailBody, "Yes, Tuesday works."),
                (BlockKinds.EmailQuote, "Who runs the tests?"),
                (BlockKinds.EmailBody, "Carol does.")
            ],
            result.Blocks.Skip(1).Select(b => (b.Kind, b.Text)));
    }

    [Fact]
    public async Task Yahoo_style_attribution_starts_the_quoted_tail()
    {
        var result = await ParseAsync("yahoo.eml", "message/rfc822", Email("Sounds good.\n\n--- Jeff <jeff@example.com> wrote:\nDo you want to meet on Tuesday?"));

        Assert.Equal([BlockKinds.EmailHeader, BlockKinds.EmailBody, BlockKinds.EmailQuote], result.Blocks.Select(b => b.Kind));
    }

    [Fact]
    public async Task A_sign_off_without_a_name_block_is_not_a_signature()
    {
        var result = await ParseAsync("short.eml", "message/rfc822", Email("Please send the report by Friday.\n\nThanks!"));

        Assert.DoesNotContain(result.Blocks, b => b.Kind == BlockKinds.EmailSignature);
        Assert.Contains(result.Blocks, b => b.Kind == BlockKinds.EmailBody && b.Text == "Thanks!");
    }

    [Fact]
    public async Task Html_only_email_body_is_text_with_blockquotes_as_quotes()
    {
        const string html = """
            <html><head><style>p { color: red }</style></head><body>
            <p>Agreed, ship it on <b>Tuesday</b>.</p>
            <div class="gmail_quote">On Mon, Mar 4, 2024 at 9:00 AM Bob wrote:<br>
            <blockquote><p>Can we ship on Tuesday?</p></blockquote></div>
            </body></html>
            """;

        var result = await ParseAsync("html.eml", "message/rfc822", Email("", html: html));

        var body = Assert.Single(result.Blocks, b => b.Kind == BlockKinds.EmailBody);
        Assert.Equal("Agreed, ship it on Tuesday.", body.Text);
        var quote = Assert.Single(result.Blocks, b => b.Kind == BlockKinds.EmailQuote);
        Assert.Contains("Can we ship on Tuesday?", quote.Text);
        Assert.DoesNotContain("color", result.FullText);
    }

    [Fact]
    public async Task Mbox_gives_a_header_and_body_group_per_message()
    {
        var mbox = new StringBuilder();
        foreach (var (subject, text) in new[] { ("First", "Body one."), ("Second", "Body two.") })
        {
            mbox.Append("From alice@example.com Tue Mar  5 10:30:00 2024\n");
            mbox.Append(Encoding.UTF8.GetString(Email(text, subject)).Replace("\r\n", "\n"));
            mbox.Append('\n');
        }

        var result = await ParseAsync("archive.mbox", "application/mbox", Encoding.UTF8.GetBytes(mbox.ToString()));

        Assert.Equal(2, result.Blocks.Count(b => b.Kind == BlockKinds.EmailHeader));
        Assert.Contains(result.Blocks, b => b.Kind == BlockKinds.EmailBody && b.Text == "Body one." && b.Section == "First");
        Assert.Contains(result.Blocks, b => b.Kind == BlockKinds.EmailBody && b.Text == "Body two." && b.Section == "Second");
    }

    [Fact]
    public async Task A_parse_that_overruns_its_timeout_fails_with_the_timeout_reason()
    {
        var huge = new StringBuilder();
        for (var i = 0; i < 400_000; i++)
        {
            huge.Append("Paragraph ").Append(i).Append(" talks about the quarterly budget.\n\n");
        }

        var settings = new ParsingSettings { Timeout = TimeSpan.FromMilliseconds(1) };
        var failure = await Assert.ThrowsAsync<DocumentParseException>(
            () => ParseAsync("huge.txt", "text/plain", Encoding.UTF8.GetBytes(huge.ToString()), settings));

        Assert.StartsWith("Parsing took longer than 1 ms", failure.Message);
    }

    [Fact]
    public async Task Caller_cancellation_is_not_turned_into_a_parse_failure()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new DocumentParser().ParseAsync(
            new ParseInput("a.txt", "text/plain", "hello"u8.ToArray(), null), cancelled.Token));
    }

    [Fact]
    public async Task Documents_above_the_size_limit_fail_before_parsing()
    {
        var failure = await Assert.ThrowsAsync<DocumentParseException>(
            () => ParseAsync("big.txt", "text/plain", new byte[4096], new ParsingSettings { MaxDocumentBytes = 1024 }));

        Assert.Contains("larger than the limit of 1 KB", failure.Message);
    }

    [Theory]
    [InlineData("scan.png", "image/png", new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 1, 2 }, "needs OCR")]
    [InlineData("old.doc", "application/msword", new byte[] { 0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0 }, "Word 97-2003 document (.doc) is not a supported document type")]
    [InlineData("blob.bin", "application/octet-stream", new byte[] { 0, 1, 2, 3, 4, 5, 6, 7, 0, 0, 9 }, "not a supported document type")]
    [InlineData("broken.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", new byte[] { (byte)'P', (byte)'K', 3, 4, 0, 0, 0, 0 }, "Word document")]
    [InlineData("fake.pdf", "application/pdf", new byte[] { (byte)'%', (byte)'P', (byte)'D', (byte)'F', (byte)'-', (byte)'1', (byte)'.', (byte)'4', (byte)'\n', (byte)'x' }, "PDF")]
    public async Task Unreadable_or_unsupported_input_fails_with_a_reason(string fileName, string contentType, byte[] content, string expected)
    {
        var failure = await Assert.ThrowsAsync<DocumentParseException>(() => ParseAsync(fileName, contentType, content));

        Assert.Contains(expected, failure.Message);
    }

    [Fact]
    public async Task Scanned_documents_go_to_document_intelligence_when_it_is_configured()
    {
        var png = new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 1, 2 };
        var parser = new DocumentParser(new ParsingSettings(), new FakeIntelligence());

        var result = await parser.ParseAsync(new ParseInput("scan.png", "image/png", png, null), CancellationToken.None);

        Assert.Equal("recognised text", Assert.Single(result.Blocks).Text);

        var turnedOff = new DocumentParser(new ParsingSettings { UseDocumentIntelligence = false }, new FakeIntelligence());
        var failure = await Assert.ThrowsAsync<DocumentParseException>(
            () => turnedOff.ParseAsync(new ParseInput("scan.png", "image/png", png, null), CancellationToken.None));
        Assert.Contains("turned off", failure.Message);
    }

    private sealed class FakeIntelligence : IDocumentIntelligence
    {
        public bool IsConfigured => true;

        public Task<ParseResult> AnalyzeAsync(string fileName, string contentType, byte[] content, CancellationToken cancellationToken) =>
            Task.FromResult(new ParseResult([new DocumentBlock(BlockKinds.Paragraph, "recognised text", Page: 1)], PageCount: 1));
    }

    [Fact]
    public async Task Type_is_detected_from_content_when_the_label_says_nothing()
    {
        var html = await ParseAsync("download", "application/octet-stream", "<!DOCTYPE html><html><body><h2>Plan</h2><p>Ship in May.</p></body></html>"u8.ToArray());
        Assert.Equal([BlockKinds.Heading, BlockKinds.Paragraph], html.Blocks.Select(b => b.Kind));
        Assert.Equal(2, html.Blocks[0].Level);

        var email = await ParseAsync("signed.p7s", "application/octet-stream", Email("Hello there."));
        Assert.Equal(BlockKinds.EmailHeader, email.Blocks[0].Kind);
    }

    [Fact]
    public async Task Html_keeps_block_breaks_lists_and_tables()
    {
        const string html = """
            <html><head><title>Team page</title><script>var x = 1;</script></head><body>
            <div>First line<br>second line</div><div>Next block</div>
            <noscript>Enable JS</noscript>
            <h3>Owners</h3>
            <ul><li>Alice</li><li>Bob<ul><li>Backup: Carol</li></ul></li></ul>
            <table><tr><th>Service</th><th>Owner</th></tr><tr><td>Billing</td><td>Alice</td></tr></table>
            </body></html>
            """;

        var result = await ParseAsync("team.html", "text/html", Encoding.UTF8.GetBytes(html));

        Assert.Equal("Team page", result.Title);
        Assert.Equal("First line\nsecond line", result.Blocks[0].Text);
        Assert.Equal("Next block", result.Blocks[1].Text);
        Assert.Contains(result.Blocks, b => b.Kind == BlockKinds.List && b.Text == "- Alice\n- Bob\n  - Backup: Carol" && b.Section == "Owners");
        Assert.Contains(result.Blocks, b => b.Kind == BlockKinds.Table && b.Text == "Service\tOwner\nBilling\tAlice");
        Assert.DoesNotContain("var x", result.FullText);
        Assert.DoesNotContain("Enable JS", result.FullText);
    }

    [Fact]
    public async Task Markdown_headings_sections_and_paragraphs()
    {
        const string markdown = "# Runbook\n\nIntro text\nstill intro.\n\n## Deploy\n\n- build\n- push\n\nThen wait.\n";

        var result = await ParseAsync("runbook.md", "text/markdown", Encoding.UTF8.GetBytes(markdown));

        Assert.Equal("Runbook", result.Title);
        Assert.Equal(
            [(BlockKinds.Heading, "Runbook"), (BlockKinds.Paragraph, "Runbook"), (BlockKinds.Heading, "Deploy"), (BlockKinds.List, "Deploy"), (BlockKinds.Paragraph, "Deploy")],
            result.Blocks.Select(b => (b.Kind, b.Section!)));
        Assert.Equal("Intro text\nstill intro.", result.Blocks[1].Text);
        Assert.Equal(2, result.Blocks[2].Level);
    }

    [Fact]
    public async Task Csv_keeps_the_header_with_every_block_of_rows()
    {
        var csv = new StringBuilder("name,team,note\n");
        for (var i = 0; i < 100; i++)
        {
            csv.Append($"person {i},ops,\"likes, commas\"\n");
        }

        var result = await ParseAsync("people.csv", "text/csv", Encoding.UTF8.GetBytes(csv.ToString()));

        Assert.True(result.Blocks.Count > 1);
        Assert.All(result.Blocks, b => Assert.StartsWith("name\tteam\tnote\n", b.Text));
        Assert.Contains("person 0\tops\tlikes, commas", result.Blocks[0].Text);
    }

    [Fact]
    public async Task Json_values_carry_their_keys()
    {
        const string json = """{"service": {"name": "billing", "owners": ["alice", "bob"]}, "tier": 1}""";

        var result = await ParseAsync("service.json", "application/json", Encoding.UTF8.GetBytes(json));

        Assert.Contains(result.Blocks, b => b.Section == "service" && b.Text == "service.name: billing\nservice.owners[0]: alice\nservice.owners[1]: bob");
        Assert.Contains(result.Blocks, b => b.Section == "tier" && b.Text == "tier: 1");
    }

    [Fact]
    public async Task Slack_thread_text_gives_one_message_block_per_message()
    {
        var input = new ParseInput("thread", "text/x-slack-thread", null, "alice: Who owns billing?\nbob: I do.\nSee the runbook.\ncarol: Thanks!");

        var result = await new DocumentParser().ParseAsync(input, CancellationToken.None);

        Assert.Equal(["alice: Who owns billing?", "bob: I do.\nSee the runbook.", "carol: Thanks!"], result.Blocks.Select(b => b.Text));
        Assert.All(result.Blocks, b => Assert.Equal(BlockKinds.Message, b.Kind));
    }

    [Fact]
    public async Task Text_with_control_characters_and_lone_surrogates_is_made_storable()
    {
        var input = new ParseInput("note", "text/plain", null, "bad\0byte and \uD800 lone surrogate");

        var result = await new DocumentParser().ParseAsync(input, CancellationToken.None);

        Assert.Equal("badbyte and \uFFFD lone surrogate", Assert.Single(result.Blocks).Text);
    }

    [Fact]
    public void Settings_validation_names_what_is_out_of_range()
    {
        Assert.Empty(ParsingSettingsStore.Validate(new ParsingSettings()));
        var errors = ParsingSettingsStore.Validate(new ParsingSettings { Timeout = TimeSpan.Zero, MaxDocumentBytes = 0, MaxPdfPages = 0 });
        Assert.Equal(3, errors.Count);
    }

    [Fact]
    public void Settings_cache_is_bounded_registered_and_evicted_by_change_notifications()
    {
        var registry = new BoundedCacheRegistry();
        using var cache = new ParsingSettingsCache(null!, registry, NullLogger<ParsingSettingsCache>.Instance);
        var tenant = Guid.NewGuid();
        cache.Set(tenant, new ParsingSettings { Version = 3 });

        Assert.Contains(registry.Snapshot(), s => s.Name == ParsingSettingsCache.CacheName && s.Capacity == ParsingSettingsCache.Capacity);
        Assert.True(cache.TryGet(tenant, out var cached));
        Assert.Equal(3, cached.Version);

        cache.OnChanged(ParsingSettingsCache.FormatMessage(tenant, 4));

        Assert.False(cache.TryGet(tenant, out _));
    }
}
