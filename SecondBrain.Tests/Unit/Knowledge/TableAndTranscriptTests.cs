using SecondBrain.Core.Knowledge.Extraction;

namespace SecondBrain.Tests.Unit.Knowledge;

/// <summary>Tables speak by their headers; chat exports uploaded as JSON read as transcripts; glossary-style definitions and codes.</summary>
public sealed class TableAndTranscriptTests
{
    private static Task<DocumentExtraction> ExtractAsync(string text) => DocumentExtractor.ExtractAsync(new DocumentInput(Guid.NewGuid(), text));

    [Fact]
    public void Table_rows_are_sentences_of_their_own_and_separator_rows_are_dropped()
    {
        var spans = SentenceSegmenter.Segment("Intro text here.\n| Date | Decision | Rationale |\n|------|----|---|\n| 2026-01-14 | Approved moving paging to the app. Really. | — |\nAfter.");
        Assert.Equal(["Intro text here.", "| Date | Decision | Rationale |", "| 2026-01-14 | Approved moving paging to the app. Really. | — |", "After."], spans.Select(s => s.Text));
        Assert.True(spans[2].IsTableRow);
        Assert.Equal(["2026-01-14", "Approved moving paging to the app. Really.", "—"], spans[2].Cells);
    }

    [Fact]
    public async Task A_decision_log_row_with_a_placeholder_rationale_is_a_decision_without_one()
    {
        var extraction = await ExtractAsync("""
            | Date | Decision | Rationale | Decided by |
            |------|----------|-----------|------------|
            | 2026-01-14 | Approved moving on-call paging from SMS to the phone app | — | Tomasz |
            | 2026-01-30 | Keep Relay on the old cluster for now | The cluster is stable | Tomasz |
            """);
        var decisions = extraction.Frames.Where(f => f.Type == FrameType.Decision).ToList();
        Assert.Equal(2, decisions.Count);
        Assert.Contains(FrameSlots.Rationale, decisions[0].MissingSlots);
        Assert.Equal("Approved moving on-call paging from SMS to the phone app", decisions[0].Slots[FrameSlots.Object]);
        Assert.Equal("Tomasz", decisions[0].Slots[FrameSlots.Agent]);
        Assert.DoesNotContain(FrameSlots.Rationale, decisions[1].MissingSlots);
    }

    [Fact]
    public async Task An_ownership_matrix_row_names_the_owner_as_a_person()
    {
        var extraction = await ExtractAsync("""
            | Recurring task | Frequency | Owner |
            |---|---|---|
            | Nightly EDI reconciliation report | nightly | Sindre Bakke |
            | Planner training | monthly | Lucía, Mehmet |
            """);
        var owned = extraction.Frames.Where(f => f.Type == FrameType.Ownership).ToList();
        Assert.Equal(["Sindre Bakke", "Lucía", "Mehmet"], owned.Select(f => f.Slots[FrameSlots.Owner]));
        Assert.Contains(extraction.Mentions, m => m.Type == EntityType.Person && m.Text == "Sindre Bakke");
        Assert.DoesNotContain(extraction.Frames, f => f.Type == FrameType.Process && f.MissingSlots.Contains(FrameSlots.Owner));
    }

    [Fact]
    public async Task Glossary_tables_bold_terms_and_explained_codes_are_definitions()
    {
        var extraction = await ExtractAsync("""
            | Term | Meaning |
            |------|---------|
            | RTO / RPO | Recovery time objective / recovery point objective. |
            | HS code | Harmonized System commodity code. |

            - **Waypoint**: our route-planning product.
            - **TG-** tickets are in the Tollgate Jira project.
            - **[TG-URGENT]** marks a declaration that has to be filed within two hours.

            Lodestar (the rewrite of the route solver on the new engine) ships in May.
            """);
        var terms = extraction.Definitions.Select(d => d.TermKey).ToList();
        Assert.Superset(new HashSet<string> { "rto", "rpo", "hs", "waypoint", "tg", "tg-urgent", "lodestar" }, terms.ToHashSet());
    }

    [Fact]
    public void Tags_and_letter_digit_codes_are_terms_but_ticket_numbers_are_not()
    {
        var analysis = SentenceAnalyzer.Analyze("Two of the 11 in TG-512 are tagged [HF-HOLD] and use the PX-3 mapping.");
        var acronyms = analysis.Mentions.Where(m => m.Type == EntityType.Acronym).Select(m => m.Text).ToList();
        Assert.Contains("[HF-HOLD]", acronyms);
        Assert.Contains("PX-3", acronyms);
        Assert.DoesNotContain("TG-512", acronyms);
    }

    [Fact]
    public void A_flattened_chat_export_reads_as_a_transcript()
    {
        var transcript = ChatTranscript.Normalize("[0].user: Pieter van der Berg\n[0].ts: 1770018900.000100\n[0].text: Morning all.\n[1].user: femke\n[1].text: Payment run goes out on Thursday.");
        Assert.Equal("Pieter van der Berg: Morning all.\nfemke: Payment run goes out on Thursday.", transcript);
        Assert.Null(ChatTranscript.Normalize("Just a document.\nWith two lines."));
    }

    [Theory]
    [InlineData("Halvorsen Freight AS", "halvorsenfreight")]
    [InlineData("Halvorsen Freight B.V.", "halvorsenfreight")]
    [InlineData("halvorsenfreight.com", "halvorsenfreight")]
    [InlineData("degraaf-logistics.nl", "degraaflogistics")]
    [InlineData("De Graaf Logistics B.V.", "degraaflogistics")]
    public void Organisations_compare_by_a_compact_key(string name, string key) => Assert.Equal(key, PartyNames.CompactKey(name));

    [Theory]
    [InlineData(null, "support@halvorsenfreight.com", true)]
    [InlineData("All staff", "all@halvorsenfreight.com", true)]
    [InlineData(null, "kwame.osei@halvorsenfreight.com", false)]
    [InlineData("Stefan Krüger", "s.krueger@balticbridge.de", false)]
    public void Role_mailboxes_are_nobody(string? name, string email, bool role) => Assert.Equal(role, PartyNames.IsRoleMailbox(name, email));
}
