using SecondBrain.Core.Knowledge.Extraction;

namespace SecondBrain.Tests.Unit.Knowledge;

/// <summary>Recurring processes from frequency expressions, lone product names, project noun phrases, hyphenated definitions and next-sentence reasons.</summary>
public sealed class RecurrenceAndNameRulesTests
{
    private static void AssertSlot(Frame frame, string slot, string expected) =>
        Assert.True(frame.Slots.TryGetValue(slot, out var actual) && actual == expected,
            $"{frame.Type} slot '{slot}': expected '{expected}', got '{(frame.Slots.TryGetValue(slot, out var a) ? a : "<missing>")}'");

    [Theory]
    [InlineData("The certificate renewal happens every 90 days.", "certificate renewal", "every 90 days")]
    [InlineData("The key rotation happens every two weeks.", "key rotation", "every two weeks")]
    [InlineData("The database backup runs 3 times a week.", "database backup", "3 times a week")]
    [InlineData("The access review happens every other month.", "access review", "every other month")]
    [InlineData("The ledger reconciliation is done each quarter.", "ledger reconciliation", "each quarter")]
    [InlineData("The log cleanup runs twice a week.", "log cleanup", "twice a week")]
    [InlineData("The staging database refresh runs every Friday at 18:00 UTC.", "staging database refresh", "every Friday")]
    public void A_recurring_process_without_an_owner(string sentence, string obj, string frequency)
    {
        var process = Assert.Single(SentenceAnalyzer.Analyze(sentence).Frames, f => f.Type == FrameType.Process);
        AssertSlot(process, FrameSlots.Object, obj);
        AssertSlot(process, FrameSlots.Frequency, frequency);
        Assert.Equal([FrameSlots.Owner], process.MissingSlots);
    }

    [Fact]
    public void A_frequency_with_a_person_subject_has_its_owner()
    {
        var process = Assert.Single(SentenceAnalyzer.Analyze("Maria renews the certificates every 90 days.").Frames, f => f.Type == FrameType.Process);
        AssertSlot(process, FrameSlots.Owner, "Maria");
        AssertSlot(process, FrameSlots.Frequency, "every 90 days");
        Assert.Empty(process.MissingSlots);
    }

    [Theory]
    [InlineData("Every customer gets a welcome e-mail.")]
    [InlineData("Each team lead fills in their own section.")]
    [InlineData("The price goes up every 2 years.")]
    [InlineData("We tried three times before it worked.")]
    public void Every_each_and_times_alone_or_with_a_non_process_subject_are_no_process(string sentence) =>
        Assert.DoesNotContain(SentenceAnalyzer.Analyze(sentence).Frames, f => f.Type == FrameType.Process);

    [Fact]
    public void Every_customer_does_not_cut_an_object()
    {
        var decision = Assert.Single(SentenceAnalyzer.Analyze("We decided to email every customer about the change.").Frames, f => f.Type == FrameType.Decision);
        AssertSlot(decision, FrameSlots.Object, "email every customer about the change");
    }

    [Theory]
    [InlineData("The Atlas launch is on March 3, 2026.", "Atlas")]
    [InlineData("We support single sign-on in Atlas.", "Atlas")]
    [InlineData("Reminder: the checklist is in the Atlas folder.", "Atlas")]
    public void A_lone_capitalised_name_is_a_project(string sentence, string name)
    {
        var mention = Assert.Single(SentenceAnalyzer.Analyze(sentence).Mentions, m => m.Text == name);
        Assert.Equal(EntityType.Project, mention.Type);
        Assert.Equal("atlas", mention.Key);
    }

    [Fact]
    public void A_lone_name_before_a_system_head_is_a_system()
    {
        var mention = Assert.Single(SentenceAnalyzer.Analyze("We will migrate the Helios data warehouse to the new cluster.").Mentions, m => m.Type == EntityType.System);
        Assert.Equal("Helios data warehouse", mention.Text);
        Assert.Equal("helios data warehouse", mention.Key);
    }

    [Theory]
    [InlineData("Atlas cannot ship until Friday.")]
    [InlineData("Dear Rosalind, please find the notes attached.")]
    [InlineData("Thanks, Rosalind")]
    [InlineData("The subject line said \"Quick Question about Invoices\" and nothing else.")]
    [InlineData("We met the Finance team and Sales on Monday in March.")]
    [InlineData("How long do we keep raw event data for European customers?")]
    [InlineData("Note: Please review the spec.")]
    public void Position_greetings_quotes_common_words_and_adjectives_are_no_project(string sentence) =>
        Assert.DoesNotContain(SentenceAnalyzer.Analyze(sentence).Mentions, m => m.Type is EntityType.Project or EntityType.System);

    [Fact]
    public void A_lone_surname_of_a_person_in_the_sentence_is_no_project()
    {
        var mentions = SentenceAnalyzer.Analyze("Sarah Chen and Tom Becker met Chen again.").Mentions;
        Assert.DoesNotContain(mentions, m => m.Type == EntityType.Project);
    }

    [Theory]
    [InlineData("We will launch the partner referral program because three agencies asked for it.", "partner referral program")]
    [InlineData("The billing rollout starts next week.", "billing rollout")]
    [InlineData("Our loyalty pilot ended early.", "loyalty pilot")]
    [InlineData("We paused the spring email campaign.", "spring email campaign")]
    public void Noun_phrases_ending_in_a_project_word_are_projects(string sentence, string key)
    {
        var mention = Assert.Single(SentenceAnalyzer.Analyze(sentence).Mentions, m => m.Type == EntityType.Project);
        Assert.Equal(key, mention.Key);
    }

    [Fact]
    public void Stands_for_with_a_hyphenated_expansion_is_a_definition()
    {
        var definition = Assert.Single(SentenceAnalyzer.Analyze("SSO stands for single sign-on.").Definitions);
        Assert.Equal("SSO", definition.Term);
        Assert.Equal("sso", definition.TermKey);
        Assert.Equal("single sign-on", definition.Meaning);
    }

    [Theory]
    [InlineData("This was mainly because only two customers still used it and both agreed to move to the hosted version.", "only two customers still used it and both agreed to move to the hosted version")]
    [InlineData("This is mainly because the licence is expensive.", "licence is expensive")]
    [InlineData("That was because the vendor raised prices.", "vendor raised prices")]
    public void Next_sentence_reasons_explain_the_previous_decision(string sentence, string reason)
    {
        var analysis = SentenceAnalyzer.Analyze(sentence);
        Assert.NotNull(analysis.ExplainsPrevious);
        var range = analysis.ExplainsPrevious!.Value;
        Assert.Equal(reason, sentence[range.Start..range.End]);
    }

    [Fact]
    public void A_decision_before_the_cue_is_not_an_explanation() =>
        Assert.Null(SentenceAnalyzer.Analyze("We decided to drop it because it was slow.").ExplainsPrevious);

    [Fact]
    public async Task A_decision_is_completed_by_a_this_was_because_sentence()
    {
        const string text = "We decided to drop the on-premise edition in October 2025. This was mainly because only two customers still used it and both agreed to move to the hosted version.";
        var extraction = await DocumentExtractor.ExtractAsync(new DocumentInput(Guid.NewGuid(), text), null);
        var decision = extraction.Frames.First(f => f.Type == FrameType.Decision && f.SentenceIndex == 0);
        Assert.DoesNotContain(FrameSlots.Rationale, decision.MissingSlots);
        Assert.StartsWith("only two customers", decision.Slots[FrameSlots.Rationale], StringComparison.Ordinal);
    }

    [Fact]
    public void The_analyser_revision_is_part_of_the_lexicon_version() =>
        Assert.True(TriggerLexicon.AnalyzerRevision >= 2);
}
