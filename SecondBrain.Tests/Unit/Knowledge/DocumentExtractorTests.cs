using System.Collections.Concurrent;
using System.Text.Json;
using SecondBrain.Core.Knowledge.Extraction;

namespace SecondBrain.Tests.Unit.Knowledge;

public sealed class DocumentExtractorTests
{
    private static Task<DocumentExtraction> ExtractAsync(string text, ISentenceAnalysisCache? cache = null, PersonRef? author = null,
        IReadOnlyList<PersonRef>? people = null, DateTimeOffset? date = null) =>
        DocumentExtractor.ExtractAsync(new DocumentInput(Guid.CreateVersion7(), text, "Test", "upload", author, date, people), cache);

    [Fact]
    public async Task Coreference_attributes_pronouns_to_the_latest_compatible_mention()
    {
        const string text = "Maria owns the billing pipeline. She reviews it weekly.";
        var extraction = await ExtractAsync(text);

        var process = Assert.Single(extraction.Frames, f => f.Type == FrameType.Process);
        Assert.Equal(1, process.SentenceIndex);
        Assert.Equal("Maria", process.Slots[FrameSlots.Owner]);
        Assert.Equal("billing pipeline", process.Slots[FrameSlots.Object]);
        Assert.Equal("She", text[process.SlotRanges[FrameSlots.Owner].Start..process.SlotRanges[FrameSlots.Owner].End]);

        Assert.Equal(2, extraction.Coreferences.Count);
        Assert.Contains(extraction.Coreferences, l => l.Pronoun == "She" && l.AntecedentType == EntityType.Person && l.AntecedentKey == "maria" && l.AntecedentSentenceIndex == 0);
        Assert.Contains(extraction.Coreferences, l => l.Pronoun == "it" && l.AntecedentType == EntityType.System && l.AntecedentKey == "billing pipeline");
        Assert.Contains(extraction.Mentions, m => m.Origin == MentionOrigin.Coreference && m.Key == "maria" && m.SentenceIndex == 1);
    }

    [Fact]
    public async Task Per_document_state_is_local_to_the_call()
    {
        // Documents extracted at once must not see each other's mentions.
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(() => ExtractAsync(
            i % 2 == 0 ? "Maria owns the billing pipeline. She reviews it weekly." : "She reviews it weekly."))));
        for (var i = 0; i < results.Length; i++)
        {
            Assert.Equal(i % 2 == 0 ? 2 : 0, results[i].Coreferences.Count);
        }
    }

    [Fact]
    public async Task Pronouns_resolve_to_the_right_kind_and_not_too_far_back()
    {
        const string text = "Acme Corp sent the contract. Li Wei reviewed it with her lawyer. They signed it on Friday. "
            + "Nothing else happened. Nothing at all. Really nothing. Then he left.";
        var extraction = await ExtractAsync(text);
        Assert.Contains(extraction.Coreferences, l => l.Pronoun == "her" && l.AntecedentKey == "li wei");
        Assert.Contains(extraction.Coreferences, l => l.Pronoun == "They" && l.AntecedentKey == "acme corp");
        Assert.DoesNotContain(extraction.Coreferences, l => l.Pronoun == "he");
    }

    [Fact]
    public async Task First_person_resolves_to_the_author()
    {
        var extraction = await ExtractAsync("I will own the migration to Postgres.", author: new PersonRef("Ron Green", "ron.green@example.com"));
        var ownership = Assert.Single(extraction.Frames, f => f.Type == FrameType.Ownership);
        Assert.Equal("Ron Green", ownership.Slots[FrameSlots.Owner]);
        Assert.Contains(extraction.Claims, c => c.PredicateKey == "owner" && c.NormalizedValue == "ron green");
    }

    [Fact]
    public async Task A_decision_without_a_reason_misses_its_rationale()
    {
        var extraction = await ExtractAsync("We decided to drop Oracle for the ledger.\n\nThe reason is the licence cost.");
        var decision = Assert.Single(extraction.Frames, f => f.Type == FrameType.Decision);
        Assert.Contains(FrameSlots.Rationale, decision.MissingSlots);
    }

    [Fact]
    public async Task A_reason_in_the_next_sentence_fills_the_rationale()
    {
        const string text = "We decided to drop Oracle for the ledger. The reason is the licence cost.";
        var extraction = await ExtractAsync(text);
        var decision = Assert.Single(extraction.Frames, f => f.Type == FrameType.Decision);
        Assert.DoesNotContain(FrameSlots.Rationale, decision.MissingSlots);
        Assert.Equal("licence cost", decision.Slots[FrameSlots.Rationale]);
        Assert.Equal("licence cost", text[decision.SlotRanges[FrameSlots.Rationale].Start..decision.SlotRanges[FrameSlots.Rationale].End]);
        Assert.Equal(0.9, decision.Confidence);
    }

    [Theory]
    [InlineData("This is because the vendor doubled the price.", "vendor doubled the price")]
    [InlineData("That's mainly due to the audit.", "audit")]
    [InlineData("Reason: the licence cost.", "licence cost")]
    [InlineData("The root cause was a full disk.", "full disk")]
    public void Explanations_of_the_previous_sentence(string sentence, string explanation)
    {
        var range = SentenceAnalyzer.Analyze(sentence).ExplainsPrevious;
        Assert.NotNull(range);
        Assert.Equal(explanation, sentence[range.Value.Start..range.Value.End]);
    }

    [Fact]
    public async Task A_cause_in_the_next_sentence_fills_a_problem()
    {
        var extraction = await ExtractAsync("Checkout failed twice on Monday. The root cause was an expired certificate.");
        var problem = Assert.Single(extraction.Frames, f => f.Type == FrameType.Problem && f.SentenceIndex == 0);
        Assert.Equal("expired certificate", problem.Slots[FrameSlots.Cause]);
    }

    [Fact]
    public async Task List_items_become_the_steps_of_a_process()
    {
        var extraction = await ExtractAsync("The release process:\n- Build the artifacts\n- Run the smoke tests\n- Deploy to production\n\nDone.");
        var process = Assert.Single(extraction.Frames, f => f.Type == FrameType.Process);
        Assert.Equal("Build the artifacts; Run the smoke tests; Deploy to production", process.Slots[FrameSlots.Steps]);
        Assert.Equal([FrameSlots.Owner], process.MissingSlots);
    }

    [Fact]
    public async Task Header_people_name_mentions_and_are_found_in_the_text()
    {
        var extraction = await ExtractAsync(
            "Kenneth said the numbers look fine. Maria will confirm.",
            author: new PersonRef("Ron Green/GCO/Enron@ENRON", null),
            people: [new PersonRef("Lay, Kenneth", "kenneth.lay@enron.com"), new PersonRef(null, "maria.lopez@example.com")]);
        Assert.Contains(extraction.Mentions, m => m.Type == EntityType.Person && m.Text == "Kenneth" && m.Key == "kenneth lay");
        Assert.Contains(extraction.Mentions, m => m.Type == EntityType.Person && m.Text == "Maria" && m.Key == "maria lopez");
    }

    [Fact]
    public async Task Header_names_the_text_does_not_capitalise_like_a_name_are_still_found()
    {
        var extraction = await ExtractAsync("Thanks to Vkaminski for the numbers.", people: [new PersonRef("Vkaminski", null)]);
        var mention = Assert.Single(extraction.Mentions, m => m.Type == EntityType.Person);
        Assert.Equal(MentionOrigin.Header, mention.Origin);
        Assert.Equal("vkaminski", mention.Key);
    }

    [Fact]
    public async Task Year_less_dates_take_the_year_nearest_the_document_date()
    {
        var extraction = await ExtractAsync("The launch is scheduled for March 3.", date: new DateTimeOffset(2024, 12, 10, 9, 0, 0, TimeSpan.Zero));
        Assert.Equal("2025-03-03", Assert.Single(extraction.Claims, c => c.PredicateKey == "date").NormalizedValue);
    }

    [Fact]
    public async Task Offsets_are_document_offsets()
    {
        const string text = "Intro.\n\n> We decided to move\n> billing to Postgres because Oracle\n> is too expensive.";
        var extraction = await ExtractAsync(text);
        var decision = Assert.Single(extraction.Frames, f => f.Type == FrameType.Decision);
        Assert.Equal(1, decision.SentenceIndex);
        Assert.Equal("decided to", text[decision.TriggerRange.Start..decision.TriggerRange.End]);
        var obj = decision.SlotRanges[FrameSlots.Object];
        Assert.Equal("move\n> billing to Postgres", text[obj.Start..obj.End]);
        Assert.Equal("move billing to Postgres", decision.Slots[FrameSlots.Object]);
        var sentence = extraction.Sentences[1];
        Assert.Equal("We decided to move billing to Postgres because Oracle is too expensive.", sentence.Text);
        Assert.StartsWith("We decided", text[sentence.Range.Start..sentence.Range.End]);
    }

    [Fact]
    public async Task Second_document_sharing_sentences_hits_the_cache_for_them()
    {
        var cache = new MemoryCache();
        var first = await ExtractAsync("We decided to move billing to Postgres. The reason is the licence cost. Maria owns the billing pipeline.", cache);
        Assert.Equal(0, first.Stats.CacheHits);
        Assert.Equal(3, first.Stats.Analysed);
        Assert.Equal(1, cache.Gets);
        Assert.Equal(1, cache.Sets);
        Assert.Equal(3, cache.Count);

        // A reply quoting two of the sentences, wrapped and quoted differently.
        var second = await ExtractAsync("Sounds good to me.\n\n> We decided to move billing\n> to Postgres.\n> Maria owns the billing   pipeline.", cache);
        Assert.Equal(3, second.Stats.Sentences);
        Assert.Equal(2, second.Stats.CacheHits);
        Assert.Equal(1, second.Stats.Analysed);
        Assert.Equal(2, cache.Gets);
        Assert.Equal(2, cache.Sets);
        Assert.Equal(4, cache.Count);

        // Cached analyses are shifted to this document's offsets like fresh ones.
        var ownership = Assert.Single(second.Frames, f => f.Type == FrameType.Ownership);
        Assert.Equal(2, ownership.SentenceIndex);
        Assert.Equal("Maria", second.Sentences[2].Text[..5]);
        Assert.Equal("owns", "Sounds good to me.\n\n> We decided to move billing\n> to Postgres.\n> Maria owns the billing   pipeline."[ownership.TriggerRange.Start..ownership.TriggerRange.End]);

        // A document made only of known sentences writes nothing.
        var third = await ExtractAsync("Maria owns the billing pipeline.", cache);
        Assert.Equal(1, third.Stats.CacheHits);
        Assert.Equal(0, third.Stats.Analysed);
        Assert.Equal(2, cache.Sets);
    }

    [Fact]
    public async Task Cached_results_equal_fresh_ones()
    {
        const string text = "Maria owns the billing pipeline. She reviews it weekly. We decided to drop Oracle. The reason is the licence cost.";
        var cache = new MemoryCache();
        var fresh = await ExtractAsync(text, cache);
        var cached = await ExtractAsync(text, cache);
        Assert.Equal(4, cached.Stats.CacheHits);
        Assert.Equal(Serialize(fresh with { DocumentId = Guid.Empty, Stats = fresh.Stats with { CacheHits = 0, Analysed = 0 } }),
            Serialize(cached with { DocumentId = Guid.Empty, Stats = cached.Stats with { CacheHits = 0, Analysed = 0 } }));
    }

    [Fact]
    public void Cache_keys_name_the_lexicon_and_hash_the_normalised_sentence()
    {
        var key = ISentenceAnalysisCache.KeyFor("Maria owns  the billing\npipeline.");
        Assert.Equal(ISentenceAnalysisCache.KeyFor("Maria owns the billing pipeline."), key);
        Assert.Matches($"^sb:sentence:{TriggerLexicon.Default.Version}:[0-9a-f]{{64}}$", key);
        Assert.NotEqual(key, ISentenceAnalysisCache.KeyFor("maria owns the billing pipeline."));
    }

    [Fact]
    public void Sentence_analyses_round_trip_through_json()
    {
        var analysis = SentenceAnalyzer.Analyze("We signed a Service Level Agreement (SLA) with Acme Corp because Maria decided to, and it costs $5k.");
        var json = JsonSerializer.Serialize(analysis, ExtractionJsonContext.Default.SentenceAnalysis);
        Assert.Contains("\"type\":\"Decision\"", json);
        var back = JsonSerializer.Deserialize(json, ExtractionJsonContext.Default.SentenceAnalysis)!;
        Assert.Equal(json, JsonSerializer.Serialize(back, ExtractionJsonContext.Default.SentenceAnalysis));
        Assert.Equal(analysis.Frames.Count, back.Frames.Count);
        Assert.Equal(analysis.Frames[0].Slots, back.Frames[0].Slots);
        Assert.Equal(analysis.Claims.Select(c => c.Key), back.Claims.Select(c => c.Key));
    }

    [Fact]
    public async Task Empty_and_whitespace_documents_extract_nothing()
    {
        var extraction = await ExtractAsync(" \n\n \t");
        Assert.Empty(extraction.Sentences);
        Assert.Empty(extraction.Frames);
        Assert.Equal(TriggerLexicon.Default.Version, extraction.LexiconVersion);
        Assert.Same(SentenceAnalysis.Empty, SentenceAnalyzer.Analyze("   "));
    }

    private static string Serialize(DocumentExtraction extraction) => JsonSerializer.Serialize(extraction, ExtractionJsonContext.Default.DocumentExtraction);

    /// <summary>A stand-in for the Redis cache: counts batches and round-trips values through JSON like a real store.</summary>
    private sealed class MemoryCache : ISentenceAnalysisCache
    {
        private readonly ConcurrentDictionary<string, string> _values = new();

        public int Gets { get; private set; }

        public int Sets { get; private set; }

        public int Count => _values.Count;

        public Task<IReadOnlyDictionary<string, SentenceAnalysis>> GetManyAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
        {
            Gets++;
            IReadOnlyDictionary<string, SentenceAnalysis> found = keys
                .Where(_values.ContainsKey)
                .ToDictionary(k => k, k => JsonSerializer.Deserialize(_values[k], ExtractionJsonContext.Default.SentenceAnalysis)!);
            return Task.FromResult(found);
        }

        public Task SetManyAsync(IReadOnlyDictionary<string, SentenceAnalysis> values, CancellationToken cancellationToken)
        {
            Sets++;
            foreach (var (key, value) in values)
            {
                _values[key] = JsonSerializer.Serialize(value, ExtractionJsonContext.Default.SentenceAnalysis);
            }

            return Task.CompletedTask;
        }
    }
}
