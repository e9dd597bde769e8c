using SecondBrain.Core.Knowledge.Extraction;

namespace SecondBrain.Tests.Unit.Knowledge;

public sealed class SentenceSegmenterTests
{
    private static string[] Texts(string text) => [.. SentenceSegmenter.Segment(text).Select(s => s.Text)];

    [Fact]
    public void Splits_on_terminal_punctuation_followed_by_a_capital()
    {
        Assert.Equal(["We shipped it.", "Was it on time?", "Yes!"], Texts("We shipped it. Was it on time? Yes!"));
    }

    [Fact]
    public void Abbreviations_titles_and_initials_do_not_end_sentences()
    {
        Assert.Equal(
            ["Dr. Smith met Mrs. Jones, e.g. at the office of Acme Inc. on Friday.", "John F. Kennedy spoke at 5 p.m. today."],
            Texts("Dr. Smith met Mrs. Jones, e.g. at the office of Acme Inc. on Friday. John F. Kennedy spoke at 5 p.m. today."));
        Assert.Equal(["See No. 5 and Jan. 3 for details."], Texts("See No. 5 and Jan. 3 for details."));
        Assert.Equal(["We signed with Acme Inc.", "The deal closes soon."], Texts("We signed with Acme Inc. The deal closes soon."));
    }

    [Fact]
    public void Decimals_emails_and_urls_stay_whole()
    {
        Assert.Equal(
            ["Uptime was 99.95% in v2.3.1, mail maria.lopez@example.com or see https://example.com/a.b?c=d now.", "Next."],
            Texts("Uptime was 99.95% in v2.3.1, mail maria.lopez@example.com or see https://example.com/a.b?c=d now. Next."));
    }

    [Fact]
    public void Bullets_numbered_items_and_blank_lines_are_boundaries()
    {
        var spans = SentenceSegmenter.Segment("Next steps:\n- build the image\n* run the tests\n1. deploy\n2) announce it\n\nNew paragraph here");
        Assert.Equal(["Next steps:", "build the image", "run the tests", "deploy", "announce it", "New paragraph here"], spans.Select(s => s.Text));
        Assert.Equal([false, true, true, true, true, false], spans.Select(s => s.IsListItem));
        Assert.Equal(0, spans[0].Paragraph);
        Assert.Equal(1, spans[^1].Paragraph);
    }

    [Fact]
    public void Wrapped_lines_join_but_short_lines_and_headers_stand_alone()
    {
        const string text = "Hi Maria,\nThe employees of Houston Pipe Line will transfer to American Electric Power\neffective June 1 as currently planned by the board.\nThanks,\nRon";
        Assert.Equal(
            ["Hi Maria,", "The employees of Houston Pipe Line will transfer to American Electric Power effective June 1 as currently planned by the board.", "Thanks,", "Ron"],
            Texts(text));
        Assert.Equal(["From: Lay, Kenneth", "Subject: Budget review for the third quarter planning cycle"], Texts("From: Lay, Kenneth\nSubject: Budget review for the third quarter planning cycle"));
    }

    [Fact]
    public void Offsets_point_into_the_original_text_through_quotes_and_wraps()
    {
        const string text = "Intro line.\r\n\r\n> We decided to move\n> billing to Postgres.   It  is\tcheaper.";
        var spans = SentenceSegmenter.Segment(text);
        Assert.Equal(["Intro line.", "We decided to move billing to Postgres.", "It is cheaper."], spans.Select(s => s.Text));
        var decided = spans[1];
        Assert.Equal("We decided to move\n> billing to Postgres.", text[decided.Range.Start..decided.Range.End]);
        var billing = decided.Text.IndexOf("billing", StringComparison.Ordinal);
        var mapped = decided.ToDocument(new TextRange(billing, billing + "billing".Length));
        Assert.Equal("billing", text[mapped.Start..mapped.End]);
        Assert.NotEqual(spans[0].Paragraph, spans[1].Paragraph);
    }

    [Fact]
    public void Normalize_collapses_whitespace_and_keeps_normal_text_as_is()
    {
        Assert.Equal("a b c", SentenceSegmenter.Normalize("  a \n b\t\tc "));
        const string clean = "Already clean.";
        Assert.Same(clean, SentenceSegmenter.Normalize(clean));
    }

    [Fact]
    public void Very_long_runs_are_cut_into_bounded_sentences()
    {
        var text = string.Join(", ", Enumerable.Repeat("and then another clause follows", 60));
        var spans = SentenceSegmenter.Segment(text);
        Assert.True(spans.Count > 1);
        Assert.All(spans, s => Assert.True(s.Text.Length <= SentenceSegmenter.DefaultMaxSentenceLength));
    }
}
