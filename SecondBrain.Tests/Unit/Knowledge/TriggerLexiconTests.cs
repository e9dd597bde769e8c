using SecondBrain.Core.Knowledge.Extraction;
using SecondBrain.Tests.Infrastructure;

namespace SecondBrain.Tests.Unit.Knowledge;

public sealed class TriggerLexiconTests
{
    private static readonly Lazy<NaiveTriggerMatcher> Naive = new(() => new NaiveTriggerMatcher(TriggerLexicon.Default, compiled: false));

    public static readonly string[] Sample =
    [
        "After a long discussion, the team decided to move billing to Postgres because Oracle is too expensive.",
        "We decided against renewing the Oracle contract; the vendor is responsible for the migration.",
        "Maria owns the billing pipeline and reviews it every week.",
        "The release process is owned by the platform team and runs nightly.",
        "Deployments must not happen on Fridays, and the budget must not exceed $50k.",
        "SLA stands for service level agreement; the error budget is defined as 0.1% of requests.",
        "Revenue increased by 12% year over year while churn rate dropped to 2%.",
        "The checkout bug was caused by a race condition; the root cause is a stale cache.",
        "It doesn't work, it's broken, and payments failed again, so it was decided to roll back.",
        "The kick-off meeting is scheduled for March 3 and the go-live is due on April 1.",
        "Mail release.notes@example.com, ping @decided, or see https://example.com/decided-to/process for the playbook.",
        "We can't ship until QA signs off on the bi-weekly release train’s checklist.",
        "The owner of the ledger service is Li; she's looking into the outage in order to avoid a repeat."
    ];

    [Fact]
    public void The_default_lexicon_is_large_immutable_and_versioned()
    {
        var lexicon = TriggerLexicon.Default;
        Assert.True(lexicon.Entries.Count(e => e.Frame is not null) >= 200);
        Assert.All(Enum.GetValues<FrameType>().Where(t => t != FrameType.Question), type => Assert.Contains(lexicon.Entries, e => e.Frame == type));
        Assert.Matches("^[0-9a-f]{16}$", lexicon.Version);
        Assert.Equal(lexicon.Version, new TriggerLexicon(TriggerLexicon.DefaultEntries()).Version);
        Assert.Equal(SentenceAnalyzer.LexiconVersion, lexicon.Version);
    }

    [Fact]
    public void Changing_the_lexicon_changes_its_version_and_the_cache_keys()
    {
        var changed = new TriggerLexicon(TriggerLexicon.DefaultEntries().Append(new TriggerEntry("has been green-lit", FrameType.Decision, TriggerRole.Passive, 0.8)));
        Assert.NotEqual(TriggerLexicon.Default.Version, changed.Version);
        Assert.NotEqual(ISentenceAnalysisCache.KeyFor("We decided."), ISentenceAnalysisCache.KeyFor("We decided.", changed.Version));
    }

    [Fact]
    public void Phrases_that_stem_alike_are_rejected()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new TriggerLexicon(
        [
            new TriggerEntry("decided to", FrameType.Decision, TriggerRole.Active, 0.9),
            new TriggerEntry("decides to", FrameType.Decision, TriggerRole.Active, 0.9)
        ]));
        Assert.Contains("same after stemming", error.Message);
    }

    [Fact]
    public void Inflections_share_an_entry()
    {
        foreach (var sentence in new[] { "We decide to go.", "She decides to go.", "They decided to go.", "Deciding to go was hard." })
        {
            var match = Assert.Single(TriggerMatcher.Default.Match(sentence), m => TriggerLexicon.Default.Entries[m.Entry].Phrase == "decided to");
            Assert.EndsWith(" to", sentence[match.Start..match.End]);
        }
    }

    [Fact]
    public void Multi_word_entries_and_overlaps_are_all_reported()
    {
        const string sentence = "Deployments must not happen on Fridays.";
        var phrases = TriggerMatcher.Default.Match(sentence).Select(m => TriggerLexicon.Default.Entries[m.Entry].Phrase).ToList();
        Assert.Contains("must", phrases);
        Assert.Contains("must not", phrases);
    }

    [Fact]
    public void Triggers_inside_addresses_urls_and_handles_are_not_words()
    {
        var matches = TriggerMatcher.Default.Match("Mail release.notes@example.com, ping @decided or open https://example.com/process.");
        Assert.Empty(matches);
    }

    [Fact]
    public void Compiled_and_naive_matchers_agree_on_a_sample()
    {
        foreach (var sentence in Sample)
        {
            AssertSameMatches(sentence);
        }
    }

    [DatasetFact]
    public void Compiled_and_naive_matchers_agree_on_real_mail()
    {
        var sentences = EnronSentences(files: 120).ToList();
        Assert.True(sentences.Count > 500, $"only {sentences.Count} sentences in the Enron sample");
        var matched = 0;
        foreach (var sentence in sentences)
        {
            matched += AssertSameMatches(sentence);
        }

        Assert.True(matched > 100, $"only {matched} trigger matches in {sentences.Count} sentences");
    }

    private static int AssertSameMatches(string sentence)
    {
        var compiled = TriggerMatcher.Default.Match(sentence).OrderBy(m => m.Start).ThenBy(m => m.End).ThenBy(m => m.Entry).ToList();
        var naive = Naive.Value.Match(sentence).OrderBy(m => m.Start).ThenBy(m => m.End).ThenBy(m => m.Entry).ToList();
        Assert.True(compiled.SequenceEqual(naive),
            $"'{sentence}': compiled [{Describe(sentence, compiled)}] naive [{Describe(sentence, naive)}]");
        return compiled.Count;
    }

    private static string Describe(string sentence, IEnumerable<TriggerMatch> matches) =>
        string.Join(", ", matches.Select(m => $"{TriggerLexicon.Default.Entries[m.Entry].Phrase}@{m.Start}:'{sentence[m.Start..m.End]}'"));

    /// <summary>Sentences from the raw Enron messages: the body after the header block.</summary>
    internal static IEnumerable<string> EnronSentences(int files)
    {
        var root = Datasets.Path(Path.Combine("enron-maildir-sample", "maildir"));
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Take(files))
        {
            var message = File.ReadAllText(file);
            var body = message.IndexOf("\n\n", StringComparison.Ordinal) is var headerEnd and >= 0 ? message[(headerEnd + 2)..] : message;
            foreach (var sentence in SentenceSegmenter.Segment(body))
            {
                yield return sentence.Text;
            }
        }
    }
}
