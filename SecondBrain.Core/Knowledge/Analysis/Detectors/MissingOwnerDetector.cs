using SecondBrain.Core.Knowledge.Analysis.Rules;
using static SecondBrain.Core.Knowledge.Analysis.AnalysisQueries;

namespace SecondBrain.Core.Knowledge.Analysis.Detectors;

/// <summary>
/// Missing owner: a recurring duty (<see cref="DutyRules"/>: "has to be reloaded every January and July", "renew
/// every November", "is published after every P1 incident") read from the changed documents' indexed text, whose
/// sentence names nobody (no person the document mentions, no "I"/"we", no "by Name" or "(Name)"), and that no
/// ownership anywhere in the tenant covers: an ownership frame or owns relation (an ownership matrix row, "X is
/// responsible for ...", "(Marit)") about the same thing, judged by the words the two share. One-off mentions of a
/// process and reports of what happened are not duties.
/// </summary>
public sealed class MissingOwnerDetector : IGapDetector
{
    private const double SameThing = 0.6;

    public string Type => GapTypes.MissingOwner;

    public async Task<DetectorOutcome> DetectAsync(AnalysisQueries q, CancellationToken ct)
    {
        var (sentences, capped) = await q.TextSentencesAsync(
            "SELECT document_id FROM changed",
            @"\m(every|each|daily|weekly|fortnightly|biweekly|monthly|quarterly|yearly|annually|nightly|hourly|twice|once)\M",
            s => DutyRules.IsDuty(s) && !DutyRules.NamesOwner(s), ct);
        sentences = sentences.DistinctBy(s => (s.DocumentId, GapRules.SentenceKey(s.Sentence))).ToList();
        if (sentences.Count == 0)
        {
            return new DetectorOutcome(new DetectorResult(GapTypes.MissingOwner, [], capped), null);
        }

        var people = await PeopleNamedAsync(q, sentences.Select(s => s.DocumentId).Distinct().ToArray(), ct);
        var owned = await OwnedThingsAsync(q, ct);
        var kept = sentences.Where(s =>
        {
            if (people.GetValueOrDefault(s.DocumentId)?.Any(name => s.Sentence.Contains(name, StringComparison.Ordinal)) == true)
            {
                return false;
            }

            var words = PlanRules.ContentWords(GapRules.StripSpeaker(s.Sentence));
            return !owned.Any(thing => thing.Count >= 2 && PlanRules.Shared(thing, words) >= Math.Max(2, SameThing * thing.Count));
        }).ToList();
        var quoted = await q.QuotedInEarlierMessageAsync(kept, ct);
        var candidates = kept.Where((_, i) => !quoted.Contains(i)).Select(row =>
        {
            var evidence = new GapEvidence(row.DocumentId, row.Title, row.Sentence, row.Speaker ?? row.Author);
            var thing = GapRules.Phrase(GapRules.StripSpeaker(row.Sentence), 90);
            return new GapCandidate(
                GapTypes.MissingOwner,
                GapRules.DocumentSentenceKey(row.DocumentId, row.Sentence),
                GapTemplates.MissingOwner(thing, null, evidence),
                [evidence],
                [],
                Priority: 4,
                Confidence: 0.65);
        }).ToList();
        return new DetectorOutcome(new DetectorResult(GapTypes.MissingOwner, candidates, capped), null);
    }

    /// <summary>The names of the people each document mentions, as written.</summary>
    private static async Task<Dictionary<Guid, List<string>>> PeopleNamedAsync(AnalysisQueries q, Guid[] documents, CancellationToken ct)
    {
        var result = new Dictionary<Guid, List<string>>();
        await using var command = await q.CommandAsync("""
            SELECT DISTINCT m.document_id, m.text FROM knowledge_mentions m
            JOIN knowledge_entities e ON e.id = m.entity_id AND e.tenant_id = @tenant AND e.type = 'person'
            WHERE m.tenant_id = @tenant AND m.document_id = ANY(@documents) AND length(m.text) >= 3
            LIMIT 20000
            """, ct);
        command.Parameters.AddWithValue("documents", documents);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            if (!result.TryGetValue(reader.GetGuid(0), out var names))
            {
                result[reader.GetGuid(0)] = names = [];
            }

            names.Add(reader.GetString(1));
        }

        return result;
    }

    /// <summary>What the tenant records someone as owning: the objects of ownership frames with an owner, bounded.</summary>
    private static async Task<List<HashSet<string>>> OwnedThingsAsync(AnalysisQueries q, CancellationToken ct)
    {
        var things = new List<HashSet<string>>();
        await using var command = await q.CommandAsync("""
            SELECT f.slots ->> 'object' FROM knowledge_frames f
            JOIN documents d ON d.id = f.document_id AND d.deleted_at IS NULL
            WHERE f.tenant_id = @tenant AND f.type IN ('ownership', 'process') AND NOT f.negated
              AND f.slots ? 'owner' AND f.slots ? 'object'
            LIMIT 5000
            """, ct);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            if (!reader.IsDBNull(0))
            {
                things.Add(PlanRules.ContentWords(reader.GetString(0)));
            }
        }

        return things;
    }
}
