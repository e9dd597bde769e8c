using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using SecondBrain.Core.Knowledge.Extraction;
using static SecondBrain.Core.Knowledge.Analysis.AnalysisQueries;

namespace SecondBrain.Core.Knowledge.Analysis.Detectors;

/// <summary>
/// Contradiction: claims about the same subject and predicate (normalised keys) in different documents that
/// cannot both hold — a different value of an exclusive kind (number, percent, money, date, duration; text values
/// are not exclusive: "supports SSO" and "supports SAML" can both be true), or the same value affirmed in one and
/// denied in another ("we support single sign-on" / "we do not support single sign-on"). Predicates that describe
/// change over time ("increased to") are history, not contradictions; dates agree when one is a coarser form of
/// the other. Only subject/predicate pairs with a claim in a changed document are re-evaluated.
/// </summary>
public sealed class ContradictionDetector(IServiceProvider services) : IGapDetector
{
    public string Type => GapTypes.Contradiction;

    public async Task<DetectorOutcome> DetectAsync(AnalysisQueries q, CancellationToken ct)
    {
        const string touched = """
            touched AS (
                SELECT DISTINCT c.subject_key, c.predicate FROM knowledge_claims c JOIN changed ch ON ch.document_id = c.document_id
                WHERE c.tenant_id = @tenant
            )
            """;
        await using var command = await q.CommandAsync($"""
            WITH {ChangedCte}, {touched},
            groups AS (
                SELECT c.subject_key, c.predicate
                FROM knowledge_claims c
                JOIN touched t ON t.subject_key = c.subject_key AND t.predicate = c.predicate
                JOIN documents d ON d.id = c.document_id AND d.deleted_at IS NULL
                WHERE c.tenant_id = @tenant AND right(rtrim(c.sentence), 1) <> '?'
                GROUP BY c.subject_key, c.predicate
                HAVING count(DISTINCT c.document_id) > 1
                   AND (count(DISTINCT c.value_key) FILTER (WHERE c.value_kind <> 'text') > 1 OR (bool_or(c.polarity) AND NOT bool_and(c.polarity)))
                ORDER BY count(DISTINCT c.document_id) DESC, c.subject_key, c.predicate
                LIMIT @cap
            ),
            ranked AS (
                SELECT c.subject_key, c.predicate, c.subject, c.value, c.value_key, c.value_kind, c.polarity, c.document_id, c.sentence_index,
                       c.sentence, d.title, coalesce(c.author, d.author) AS author,
                       row_number() OVER (PARTITION BY c.subject_key, c.predicate, c.value_key, c.polarity ORDER BY d.source_created_at NULLS LAST, c.document_id) AS n
                FROM knowledge_claims c
                JOIN groups g ON g.subject_key = c.subject_key AND g.predicate = c.predicate
                JOIN documents d ON d.id = c.document_id AND d.deleted_at IS NULL
                WHERE c.tenant_id = @tenant AND right(rtrim(c.sentence), 1) <> '?'
            )
            SELECT subject_key, predicate, subject, value, value_key, value_kind, polarity, document_id, sentence_index, sentence, title, author
            FROM ranked WHERE n <= 3
            ORDER BY subject_key, predicate, value_key, polarity
            """, ct);
        var claims = new List<ClaimRow>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                claims.Add(new ClaimRow(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                    reader.GetString(5), reader.GetBoolean(6), reader.GetGuid(7), reader.GetInt32(8), reader.GetString(9), reader.GetString(10), NullableString(reader, 11)));
            }
        }

        var groups = claims.GroupBy(c => (c.SubjectKey, c.Predicate)).ToList();
        var found = new List<(string Key, ClaimRow[] Evidence, Func<IReadOnlyList<GapEvidence>, GapText> Text, int Priority, double Confidence)>();
        foreach (var group in groups)
        {
            // Values of one exclusive kind: cluster those that agree; two clusters from different documents conflict.
            if (!GapRules.IsChangePredicate(group.Key.Predicate))
            {
                foreach (var kind in group.Where(c => c.ValueKind != "text" && c.Polarity).GroupBy(c => c.ValueKind))
                {
                    var clusters = new List<List<ClaimRow>>();
                    foreach (var claim in kind)
                    {
                        var home = clusters.FirstOrDefault(cluster => GapRules.ValuesAgree(kind.Key, cluster[0].ValueKey, claim.ValueKey));
                        if (home is null)
                        {
                            clusters.Add([claim]);
                        }
                        else
                        {
                            home.Add(claim);
                        }
                    }

                    if (clusters.Count > 1 && clusters.SelectMany(c => c).Select(c => c.DocumentId).Distinct().Count() > 1)
                    {
                        var sides = clusters.Select(c => c.First()).ToArray();
                        var evidence = clusters.SelectMany(c => c.Take(2)).Take(q.Options.MaxEvidencePerGap).ToArray();
                        var subject = sides[0].Subject;
                        found.Add(($"v|{group.Key.SubjectKey}|{group.Key.Predicate}", evidence,
                            ev => GapTemplates.ValueContradiction(subject, sides.Select(s => (s.Value, ev.First(e => e.DocumentId == s.DocumentId && e.Quote == s.Sentence))).ToList()),
                            5, kind.Key is "date" or "number" or "percent" or "money" ? 0.85 : 0.75));
                    }
                }
            }

            // The same value affirmed in one document and denied in another.
            foreach (var value in group.GroupBy(c => c.ValueKey))
            {
                var affirms = value.Where(c => c.Polarity).ToList();
                var denies = value.Where(c => !c.Polarity).ToList();
                if (affirms.Count == 0 || denies.Count == 0
                    || !affirms.Any(a => denies.Any(d => d.DocumentId != a.DocumentId)))
                {
                    continue;
                }

                var yes = affirms.First(a => denies.Any(d => d.DocumentId != a.DocumentId));
                var no = denies.First(d => d.DocumentId != yes.DocumentId);
                var evidence = new[] { yes, no }.Concat(affirms.Concat(denies).Where(c => c != yes && c != no)).Take(q.Options.MaxEvidencePerGap).ToArray();
                var statement = $"{yes.Subject} {yes.Predicate} {yes.Value}";
                found.Add(($"p|{group.Key.SubjectKey}|{group.Key.Predicate}|{value.Key}", evidence,
                    ev => GapTemplates.PolarityContradiction(statement, ev[0], ev[1]), 4, 0.7));
            }
        }

        var entities = await q.SentenceEntitiesAsync(found.SelectMany(f => f.Evidence.Select(e => (e.DocumentId, e.SentenceIndex))), ct);
        var candidates = found.Select(f =>
        {
            var evidence = f.Evidence.Select(e => new GapEvidence(e.DocumentId, e.Title, e.Sentence, e.Author)).ToList();
            var related = f.Evidence.SelectMany(e => entities.GetValueOrDefault((e.DocumentId, e.SentenceIndex)) ?? []).Distinct().ToList();
            return new GapCandidate(GapTypes.Contradiction, f.Key, f.Text(evidence), evidence, related, f.Priority, f.Confidence);
        }).ToList();

        var scope = $"""
            WITH {ChangedCte}, {touched}
            SELECT 'v|' || t.subject_key || '|' || t.predicate AS key FROM touched t
            UNION
            SELECT 'p|' || c.subject_key || '|' || c.predicate || '|' || c.value_key FROM knowledge_claims c
            JOIN touched t ON t.subject_key = c.subject_key AND t.predicate = c.predicate
            WHERE c.tenant_id = @tenant
            """;
        // Across wording: the same measure of the same named thing, stated differently with a near-miss value.
        var stated = candidates.SelectMany(c => c.Evidence).Select(e => GapRules.SentenceKey(e.Quote)).ToHashSet(StringComparer.Ordinal);
        candidates.AddRange((await new ValueContradictions(services).FindAsync(q, ct))
            .Where(c => !c.Evidence.All(e => stated.Contains(GapRules.SentenceKey(e.Quote)))));
        return new DetectorOutcome(new DetectorResult(GapTypes.Contradiction, candidates, groups.Count >= q.Cap), scope);
    }
}
