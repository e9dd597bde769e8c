using System.Security.Cryptography;
using System.Text;
using SecondBrain.Core.AI;
using SecondBrain.Core.Knowledge.Analysis.Rules;
using SecondBrain.Core.Knowledge.Extraction;
using static SecondBrain.Core.Knowledge.Analysis.AnalysisQueries;

namespace SecondBrain.Core.Knowledge.Analysis.Detectors;

/// <summary>
/// Contradictions across wording (<see cref="ValueRules"/>): two documents give a near-miss value of one kind for the
/// same named thing in contexts that mean the same — "availability commitment of 99.9%" and "guarantees 99.95%
/// uptime", "recovery time objective ... 2 hours" and "target restore time ... 4 h". Whether two contexts mean the
/// same is measured with sentence embeddings (the registered embedding model through <see cref="CachedEmbeddingService"/>,
/// cosine of the contexts with the values taken out); without one, by the words they share. Read from the tenant's
/// indexed text (bounded), compared only where one side is in a changed document.
/// </summary>
internal sealed class ValueContradictions(IServiceProvider services)
{
    public const double MinSimilarity = 0.5;
    private const int MaxPairs = 3000;

    private sealed record Statement(Guid DocumentId, string Sentence, string Title, string? Author, string? ThreadKey, bool Changed, ValueRules.Value Value);

    public async Task<List<GapCandidate>> FindAsync(AnalysisQueries q, CancellationToken ct)
    {
        var statements = new List<Statement>();
        await using (var command = await q.CommandAsync($"""
            WITH {ChangedCte}
            SELECT c.document_id, c.text, d.title, d.author, k.thread_key, (c.document_id IN (SELECT document_id FROM changed)) AS changed
            FROM chunks c
            JOIN documents d ON d.id = c.document_id AND d.deleted_at IS NULL AND d.source <> '{AnswerSource}'
            LEFT JOIN document_knowledge k ON k.document_id = c.document_id
            WHERE c.tenant_id = @tenant
              AND c.text ~* '(\d|\m(one|two|three|four|five|six|seven|eight|nine|ten|twelve))\s?(%|percent|cents|euros?|eur\M|hours?\M|h\M|days?\M|weeks?\M|months?\M|years?\M|minutes?\M)|[€$£]\s?\d|\d\s?[km]\M'
            ORDER BY changed DESC, c.document_id, c.position
            LIMIT @chunkCap
            """, ct))
        {
            command.Parameters.AddWithValue("chunkCap", (long)q.Cap * 10);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                foreach (var span in SentenceSegmenter.Segment(reader.GetString(1)))
                {
                    foreach (var value in ValueRules.Find(span.Text))
                    {
                        statements.Add(new Statement(reader.GetGuid(0), span.Text, reader.GetString(2), NullableString(reader, 3), NullableString(reader, 4), reader.GetBoolean(5), value));
                    }
                }
            }
        }

        statements = statements.DistinctBy(s => (s.DocumentId, s.Value.Context, s.Value.Amount)).ToList();
        var pairs = new List<(Statement A, Statement B)>();
        for (var i = 0; i < statements.Count && pairs.Count < MaxPairs; i++)
        {
            for (var j = i + 1; j < statements.Count && pairs.Count < MaxPairs; j++)
            {
                var (a, b) = (statements[i], statements[j]);
                if (a.DocumentId != b.DocumentId && (a.Changed || b.Changed) && (a.ThreadKey is null || a.ThreadKey != b.ThreadKey)
                    && ValueRules.NearMiss(a.Value, b.Value) && a.Value.Names.Overlaps(b.Value.Names))
                {
                    pairs.Add((a, b));
                }
            }
        }

        if (pairs.Count == 0)
        {
            return [];
        }

        var similar = await SimilarityAsync(pairs, ct);
        var candidates = new List<GapCandidate>();
        foreach (var group in pairs.Select((p, i) => (Pair: p, Similarity: similar[i]))
                     .Where(x => x.Similarity >= MinSimilarity)
                     .GroupBy(x => string.Join("|", new[] { x.Pair.A.DocumentId, x.Pair.B.DocumentId }.Order()) + "|" + x.Pair.A.Value.Kind))
        {
            var (pair, similarity) = group.OrderByDescending(x => x.Similarity).First();
            var (a, b) = pair;
            var evidence = new List<GapEvidence> { new(a.DocumentId, a.Title, a.Sentence, a.Author), new(b.DocumentId, b.Title, b.Sentence, b.Author) };
            var about = string.Join(" ", a.Value.Names.Intersect(b.Value.Names).Take(3));
            var key = "q|" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(group.Key)))[..32];
            candidates.Add(new GapCandidate(GapTypes.Contradiction, key,
                GapTemplates.ValueContradiction(about.Length > 0 ? about : a.Value.Kind, [(a.Value.Text, evidence[0]), (b.Value.Text, evidence[1])]),
                evidence, [], Priority: 5, Confidence: Math.Round(Math.Min(0.9, similarity), 2)));
        }

        return candidates;
    }

    private async Task<double[]> SimilarityAsync(List<(Statement A, Statement B)> pairs, CancellationToken ct)
    {
        var embeddings = services.GetService(typeof(CachedEmbeddingService)) as CachedEmbeddingService;
        var result = new double[pairs.Count];
        if (embeddings is null)
        {
            for (var i = 0; i < pairs.Count; i++)
            {
                var a = PlanRules.ContentWords(pairs[i].A.Value.Context);
                var b = PlanRules.ContentWords(pairs[i].B.Value.Context);
                result[i] = a.Count == 0 || b.Count == 0 ? 0 : (double)PlanRules.Shared(a, b) / Math.Min(a.Count, b.Count);
            }

            return result;
        }

        var texts = pairs.SelectMany(p => new[] { p.A.Value.Context, p.B.Value.Context }).Distinct(StringComparer.Ordinal).ToList();
        var vectors = await embeddings.EmbedAsync(texts, ct);
        var index = texts.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => vectors[x.i], StringComparer.Ordinal);
        for (var i = 0; i < pairs.Count; i++)
        {
            result[i] = Cosine(index[pairs[i].A.Value.Context].Span, index[pairs[i].B.Value.Context].Span);
        }

        return result;
    }

    private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length && i < b.Length; i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }

        return na == 0 || nb == 0 ? 0 : dot / Math.Sqrt(na * nb);
    }
}
