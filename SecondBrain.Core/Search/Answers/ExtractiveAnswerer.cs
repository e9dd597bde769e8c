using System.Text.RegularExpressions;
using SecondBrain.Core.Common;
using SecondBrain.Core.AI;
using SecondBrain.Core.Search.Vectors;

namespace SecondBrain.Core.Search.Answers;

/// <summary>One sentence an extractive answer may quote, with the chunk it comes from.</summary>
public sealed record CandidateSentence(SearchHit Hit, int HitRank, int Index, string Text);

/// <summary>The sentences chosen, in reading order, or none when nothing in the retrieved text answers the question.</summary>
public sealed record ExtractiveAnswer(IReadOnlyList<CandidateSentence> Sentences, double BestRelevance);

/// <summary>
/// An answer made of the team's own sentences, without a language model. Candidate sentences come from the retrieved
/// chunks minus noise (<see cref="SentenceFilter"/>); each is scored for relevance to the question by the sentence
/// embeddings (cosine with the question, on the local model) and by how many of the question's content words it
/// holds; a sentence must clear a relevance threshold to be quoted at all, so an unrelated sentence is never cited
/// just because it was retrieved. Up to three are chosen by maximal marginal relevance (relevant, and not a repeat
/// of one already chosen), then put in reading order: sources in the order they matter, sentences within a source in
/// document order.
/// </summary>
public sealed partial class ExtractiveAnswerer(CachedEmbeddingService embeddings)
{
    private const int MaxSentences = 3;
    private const int MaxCandidates = 24;
    private const double Lambda = 0.7;

    // A sentence is quotable when its meaning is close to the question, or it is fairly close and shares its words.
    private const double StrongSimilarity = 0.55;
    private const double WeakSimilarity = 0.30;
    private const double MinRelevance = 0.36;
    private const double TypeBonus = 0.12;
    private const double SecondSourceShare = 0.85;

    private static readonly HashSet<string> StopWords =
    [
        "a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "with", "by", "at", "from", "is", "are", "was", "were",
        "be", "been", "it", "this", "that", "what", "which", "who", "whom", "when", "where", "why", "how", "do", "does", "did",
        "we", "our", "you", "your", "they", "their", "i", "me", "my", "as", "about", "any", "can", "should", "would", "will",
        "there", "here", "has", "have", "had", "not", "no", "so", "if", "then", "than", "into", "per", "new", "much", "many"
    ];

    public async Task<ExtractiveAnswer> AnswerAsync(string question, Guid tenantId, IReadOnlyList<SearchHit> hits, CancellationToken ct)
    {
        var terms = ContentTerms(question);
        var expected = ExpectedAnswer(question);
        var candidates = Candidates(hits).ToList();
        if (candidates.Count == 0)
        {
            return new ExtractiveAnswer([], 0);
        }

        // Only the likeliest sentences are embedded (by shared words and rank): the rest would not be chosen anyway.
        var shortlist = candidates
            .Select(c => (Candidate: c, Coverage: Coverage(terms, c.Text)))
            .OrderByDescending(c => c.Coverage)
            .ThenBy(c => c.Candidate.HitRank)
            .ThenBy(c => c.Candidate.Index)
            .Take(MaxCandidates)
            .ToList();
        var vectors = await embeddings.EmbedAsync([question, .. shortlist.Select(c => c.Candidate.Text)], tenantId, ct);
        var questionVector = vectors[0].ToArray();
        var scored = shortlist.Select((c, i) =>
        {
            var vector = vectors[i + 1].ToArray();
            var similarity = VectorMath.Cosine(questionVector, vector);
            // A sentence that holds the kind of thing asked for (a person for "who", a time for "when", a reason for
            // "why", a number for "how much") is worth more, and may be a little further from the question's words.
            var answersType = expected is not null && expected.IsMatch(c.Candidate.Text);
            var relevance = 0.65 * similarity + 0.35 * c.Coverage + (answersType ? TypeBonus : 0) - 0.02 * c.Candidate.HitRank;
            var strict = similarity >= StrongSimilarity || (similarity >= WeakSimilarity && c.Coverage > 0);
            var quotable = strict || (answersType && similarity >= WeakSimilarity * 0.75 && c.Coverage > 0);
            return (c.Candidate, Vector: vector, Similarity: similarity, Relevance: relevance, Quotable: quotable && relevance >= MinRelevance, Strict: strict);
        }).ToList();

        var best = scored.Count == 0 ? 0 : scored.Max(s => s.Relevance);

        // A sentence quotable only for holding the kind of thing asked must come from the source of the strongest
        // sentence: it continues that source's answer, it does not bring in another document's numbers or names.
        // Another document's sentence joins only when it is nearly as relevant as the best one: a second source that
        // answers too, not one that merely shares a word or two with the question.
        var top = scored.Where(s => s.Quotable && s.Strict).OrderByDescending(s => s.Relevance).FirstOrDefault();
        var anchor = top.Candidate?.Hit.DocumentId;
        var chosen = new List<(CandidateSentence Candidate, float[] Vector, double Relevance)>();
        var pool = scored.Where(s => s.Quotable && (s.Candidate.Hit.DocumentId == anchor || (s.Strict && s.Relevance >= top.Relevance * SecondSourceShare))).ToList();
        while (chosen.Count < MaxSentences && pool.Count > 0)
        {
            var next = pool
                .Select(s => (s, Score: Lambda * s.Relevance - (1 - Lambda) * (chosen.Count == 0 ? 0 : chosen.Max(c => VectorMath.Cosine(c.Vector, s.Vector)))))
                .OrderByDescending(x => x.Score)
                .First().s;
            pool.Remove(next);
            if (chosen.Any(c => VectorMath.Cosine(c.Vector, next.Vector) > 0.9))
            {
                continue; // the same thing said twice (a quoted reply, a repeated paragraph)
            }

            chosen.Add((next.Candidate, next.Vector, next.Relevance));
        }

        // Reading order: a source's sentences together, in the order they appear in it.
        var sourceOrder = chosen.Select(c => c.Candidate.Hit.DocumentId).Distinct().ToList();
        var ordered = chosen
            .OrderBy(c => sourceOrder.IndexOf(c.Candidate.Hit.DocumentId))
            .ThenBy(c => c.Candidate.Hit.Position)
            .ThenBy(c => c.Candidate.Index)
            .Select(c => c.Candidate)
            .ToList();
        return new ExtractiveAnswer(ordered, best);
    }

    /// <summary>The sentences of the hits that are content: noise chunks skipped, noise lines dropped, fragments left out.</summary>
    public static IEnumerable<CandidateSentence> Candidates(IReadOnlyList<SearchHit> hits)
    {
        for (var rank = 0; rank < hits.Count; rank++)
        {
            var hit = hits[rank];
            if (SentenceFilter.IsNoiseChunk(hit.Kind))
            {
                continue;
            }

            var index = 0;
            foreach (var line in SentenceFilter.ContentLines(hit.Text))
            {
                foreach (var sentence in SafeRegex.Split(SentenceBoundary(), line).Select(s => s.Trim()))
                {
                    if (sentence.Length >= 25 && sentence.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length >= 4 && !SentenceFilter.IsNoiseLine(sentence))
                    {
                        yield return new CandidateSentence(hit, rank, index++, sentence.Length > 600 ? sentence[..600] + "…" : sentence);
                    }
                }
            }
        }
    }

    /// <summary>What the question asks for, by its question word: a pattern an answering sentence would contain.</summary>
    private static Regex? ExpectedAnswer(string question)
    {
        var q = question.TrimStart().ToLowerInvariant();
        return q switch
        {
            _ when WhoQuestion().IsMatch(q) => PersonName(),
            _ when q.StartsWith("when", StringComparison.Ordinal) || q.Contains("what date", StringComparison.Ordinal) || q.Contains("what time", StringComparison.Ordinal) => TimeExpression(),
            _ when q.StartsWith("why", StringComparison.Ordinal) || q.Contains("reason", StringComparison.Ordinal) => Reason(),
            _ when q.StartsWith("how much", StringComparison.Ordinal) || q.StartsWith("how many", StringComparison.Ordinal) || q.StartsWith("how long", StringComparison.Ordinal)
                   || q.Contains("price", StringComparison.Ordinal) || q.Contains("cost", StringComparison.Ordinal) => Quantity(),
            _ => null
        };
    }

    public static HashSet<string> ContentTerms(string text) =>
        QueryExpansion.Words(text).Where(w => !StopWords.Contains(w) && w.Length > 1).Select(Stem).ToHashSet(StringComparer.Ordinal);

    /// <summary>The share of the question's content words (stemmed) the sentence holds.</summary>
    private static double Coverage(HashSet<string> terms, string sentence)
    {
        if (terms.Count == 0)
        {
            return 0;
        }

        var words = QueryExpansion.Words(sentence).Select(Stem).ToHashSet(StringComparer.Ordinal);
        return terms.Count(words.Contains) / (double)terms.Count;
    }

    private static string Stem(string word) =>
        word.Length > 5 && word.EndsWith("ing", StringComparison.Ordinal) ? word[..^3]
        : word.Length > 4 && word.EndsWith("ed", StringComparison.Ordinal) ? word[..^2]
        : word.Length > 3 && word.EndsWith("es", StringComparison.Ordinal) ? word[..^2]
        : word.Length > 3 && word.EndsWith('s') ? word[..^1]
        : word;

    [GeneratedRegex(@"(?<=[.!?])\s+(?=[A-Z0-9""'(])", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: SafeRegex.TimeoutMilliseconds)]
    private static partial Regex SentenceBoundary();

    [GeneratedRegex(@"^(\w+\s+)?(who|whom|whose)\b", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex WhoQuestion();

    [GeneratedRegex(@"\b\p{Lu}\p{Ll}+\s\p{Lu}\p{Ll}+|\b(team|lead|manager|owner|head of|director|engineer)\b", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex PersonName();

    [GeneratedRegex(@"\b(\d{4}|\d{1,2}:\d{2}|january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|monday|tuesday|wednesday|thursday|friday|saturday|sunday|q[1-4]|today|tomorrow|yesterday|week|month|quarter|year|daily|weekly|monthly)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex TimeExpression();

    [GeneratedRegex(@"\b(because|since|so that|due to|in order to|as a result|the reason|caused by|thanks to|to avoid|to reduce)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Reason();

    [GeneratedRegex(@"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|twenty|hundred|thousand|half|dozen)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Quantity();
}
