using SecondBrain.Core.Knowledge.Extraction;

namespace SecondBrain.Tests.Unit.Knowledge;

public sealed class EntityExtractionTests
{
    private static IReadOnlyList<EntityMention> Mentions(string sentence) => SentenceAnalyzer.Analyze(sentence).Mentions;

    private static EntityMention Mention(string sentence, EntityType type, string text)
    {
        var mentions = Mentions(sentence);
        var mention = mentions.FirstOrDefault(m => m.Type == type && m.Text == text);
        Assert.True(mention is not null, $"no {type} '{text}' in [{string.Join(", ", mentions.Select(m => $"{m.Type} '{m.Text}'"))}]");
        Assert.Equal(text, sentence[mention.Range.Start..mention.Range.End]);
        return mention;
    }

    [Fact]
    public void People_from_names_honorifics_addresses_and_handles()
    {
        Assert.Equal("maria lopez", Mention("Yesterday Maria Lopez's team shipped it.", EntityType.Person, "Maria Lopez").Key);
        Assert.Equal("sarah chen", Mention("Please ask Dr. Sarah Chen first.", EntityType.Person, "Dr. Sarah Chen").Key);
        Assert.Equal("smith", Mention("We met Mr. Smith in Houston.", EntityType.Person, "Mr. Smith").Key);
        Assert.Equal("maria", Mention("Maria owns the billing pipeline.", EntityType.Person, "Maria").Key);
        Assert.Equal("kenneth.lay@enron.com", Mention("Write to Kenneth.Lay@enron.com today.", EntityType.Person, "Kenneth.Lay@enron.com").Key);
        Assert.Equal("dana", Mention("Thanks @dana for the fix.", EntityType.Person, "@dana").Key);
        Assert.Equal("will smith", Mention("Then Will Smith approved it.", EntityType.Person, "Will Smith").Key);
    }

    [Fact]
    public void Ambiguous_first_names_alone_and_ordinary_capitalised_words_are_not_people()
    {
        Assert.DoesNotContain(Mentions("Will the launch slip?"), m => m.Type == EntityType.Person);
        Assert.DoesNotContain(Mentions("Payments failed in May."), m => m.Type == EntityType.Person);
        Assert.DoesNotContain(Mentions("The report from March is late."), m => m.Type == EntityType.Person);
    }

    [Fact]
    public void Organizations_from_legal_suffixes_and_at()
    {
        Assert.Equal("initech llc", Mention("Dr. Smith joined Initech LLC last week.", EntityType.Organization, "Initech LLC").Key);
        Mention("We signed with Acme Corp. yesterday.", EntityType.Organization, "Acme Corp");
        Mention("Our partner Globex GmbH renewed.", EntityType.Organization, "Globex GmbH");
        Mention("She used to work at Enron before that.", EntityType.Organization, "Enron");
        Mention("The Bank of America team called.", EntityType.Organization, "Bank of America");
    }

    [Fact]
    public void Projects_and_systems()
    {
        Assert.Equal("project falcon", Mention("Project Falcon is owned by the platform team.", EntityType.Project, "Project Falcon").Key);
        Assert.Equal("atlas service", Mention("The outage hit the Atlas service again.", EntityType.System, "Atlas service").Key);
        Mention("Maria owns the billing pipeline.", EntityType.System, "billing pipeline");
        Mention("The DataSync job runs nightly.", EntityType.System, "DataSync");
        Mention("Restart order_router before noon.", EntityType.System, "order_router");
        Mention("We migrated the Billing API last week.", EntityType.System, "Billing API");
        Mention("The Falcon project slipped.", EntityType.Project, "Falcon project");
    }

    [Fact]
    public void Acronyms_skip_everyday_ones_and_shouting()
    {
        Mention("We do not support SSO.", EntityType.Acronym, "SSO");
        Assert.Equal("api", Mention("All APIs need an owner.", EntityType.Acronym, "APIs").Key);
        Mention("The HDF5 export broke.", EntityType.Acronym, "HDF5");
        Assert.DoesNotContain(Mentions("FYI the US office is OK with it, ASAP please, I think."), m => m.Type == EntityType.Acronym);
        Assert.DoesNotContain(Mentions("PLEASE READ THIS BEFORE THE MEETING"), m => m.Type == EntityType.Acronym);
        Assert.DoesNotContain(Mentions("Revenue grew in Q3 and FY24."), m => m.Type == EntityType.Acronym);
    }

    [Theory]
    [InlineData("SLA stands for service level agreement.", "SLA", "service level agreement", DefinitionKind.Lexical)]
    [InlineData("An error budget is defined as the allowed failure rate.", "error budget", "allowed failure rate", DefinitionKind.Lexical)]
    [InlineData("We signed a Service Level Agreement (SLA) with Acme Corp.", "SLA", "Service Level Agreement", DefinitionKind.AcronymExpansion)]
    [InlineData("The MTTR (mean time to recovery) went down.", "MTTR", "mean time to recovery", DefinitionKind.AcronymExpansion)]
    [InlineData("The nightly reconciliation job is called Sweeper.", "Sweeper", "nightly reconciliation job", DefinitionKind.Lexical)]
    [InlineData("Churn means customers who cancel within a month.", "Churn", "customers who cancel within a month", DefinitionKind.Lexical)]
    public void Definitions_and_acronym_expansions(string sentence, string term, string meaning, DefinitionKind kind)
    {
        var analysis = SentenceAnalyzer.Analyze(sentence);
        var definition = Assert.Single(analysis.Definitions);
        Assert.Equal(term, definition.Term);
        Assert.Equal(meaning, definition.Meaning);
        Assert.Equal(kind, definition.Kind);
        Assert.Equal(term, sentence[definition.TermRange.Start..definition.TermRange.End]);
        Assert.Equal(meaning, sentence[definition.MeaningRange.Start..definition.MeaningRange.End]);
        Assert.Contains(analysis.Mentions, m => m.Type == EntityType.Term && m.Key == definition.TermKey);
    }

    [Fact]
    public void Parentheses_that_do_not_spell_the_acronym_are_not_definitions()
    {
        Assert.Empty(SentenceAnalyzer.Analyze("We use the SLA (see the wiki) for that.").Definitions);
        Assert.Empty(SentenceAnalyzer.Analyze("Ask the team (SRE) about it.").Definitions);
    }

    [Fact]
    public void An_acronym_used_without_a_definition_has_a_mention_but_no_definition()
    {
        var analysis = SentenceAnalyzer.Analyze("The RTO target for the ledger is unclear.");
        Assert.Contains(analysis.Mentions, m => m.Type == EntityType.Acronym && m.Key == "rto");
        Assert.Empty(analysis.Definitions);
    }

    [Theory]
    [InlineData("Dr.  Maria   Lopez's", "maria lopez")]
    [InlineData("the Atlas Service", "atlas service")]
    [InlineData("\"Project Falcon\",", "project falcon")]
    public void Entity_keys_normalise_for_alias_matching(string text, string key)
    {
        Assert.Equal(key, KnowledgeKeys.Entity(text));
    }

    [Fact]
    public void Pronouns_are_listed_for_the_document_pass()
    {
        var pronouns = SentenceAnalyzer.Analyze("She said it was theirs, and this team agreed with me.").Pronouns;
        Assert.Equal([PronounKind.Person, PronounKind.Thing, PronounKind.Group, PronounKind.Demonstrative, PronounKind.Speaker], pronouns.Select(p => p.Kind));
        Assert.Equal("team", pronouns[3].Head);
        Assert.DoesNotContain(SentenceAnalyzer.Analyze("It is important to test.").Pronouns, p => p.Kind == PronounKind.Thing);
    }
}
