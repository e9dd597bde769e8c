using Microsoft.EntityFrameworkCore;
using SecondBrain.Core.Data;

namespace SecondBrain.Core.Knowledge.Analysis;

/// <summary>
/// Upserts a detector's candidates by fingerprint: a gap found before is updated in place (evidence, entities,
/// priority, confidence, wording) and reopened if it had been resolved, never duplicated; its status — a user's
/// in_progress, answered, verified or dismissed — is left alone, so a decision about a gap survives re-analysis.
/// </summary>
public sealed class GapStore(SecondBrainDbContext db, GapWriter writer, TimeProvider time)
{
    /// <summary>How many LLM rewrites one run may spend; the rest keep the template text.</summary>
    public int LlmBudget { get; set; } = 50;

    public async Task<(int Opened, int Updated)> UpsertAsync(Guid runId, IReadOnlyList<GapCandidate> candidates, CancellationToken ct)
    {
        if (candidates.Count == 0)
        {
            return (0, 0);
        }

        var distinct = candidates.DistinctBy(c => c.Fingerprint).ToList();
        var fingerprints = distinct.Select(c => c.Fingerprint).ToList();
        var existing = await db.KnowledgeGaps.Where(g => fingerprints.Contains(g.Fingerprint)).ToDictionaryAsync(g => g.Fingerprint, ct);
        var now = time.GetUtcNow();
        int opened = 0, updated = 0;
        foreach (var candidate in distinct)
        {
            if (existing.TryGetValue(candidate.Fingerprint, out var gap))
            {
                var evidenceChanged = !SameEvidence(gap.Evidence, candidate.Evidence);
                // Without an LLM the template is always current; an LLM's wording is redone only when the evidence moved.
                if (!writer.UsesLlm || evidenceChanged)
                {
                    Apply(gap, await WordAsync(candidate, ct));
                }

                gap.Evidence = [.. candidate.Evidence];
                gap.EntityIds = [.. candidate.EntityIds];
                gap.Priority = candidate.Priority;
                gap.Confidence = candidate.Confidence;
                gap.LastRunId = runId;
                gap.TimesDetected++;
                gap.Resolved = false;
                gap.UpdatedAt = now;
                updated++;
            }
            else
            {
                gap = new KnowledgeGap
                {
                    Fingerprint = candidate.Fingerprint,
                    Type = candidate.Type,
                    Title = candidate.Text.Title,
                    Description = candidate.Text.Description,
                    Evidence = [.. candidate.Evidence],
                    EntityIds = [.. candidate.EntityIds],
                    Priority = candidate.Priority,
                    Confidence = candidate.Confidence,
                    Questions = [.. candidate.Text.Questions],
                    LastRunId = runId,
                    CreatedAt = now,
                    UpdatedAt = now
                };
                Apply(gap, await WordAsync(candidate, ct));
                db.KnowledgeGaps.Add(gap);
                opened++;
            }
        }

        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();
        return (opened, updated);
    }

    private async Task<GapText> WordAsync(GapCandidate candidate, CancellationToken ct)
    {
        if (!writer.UsesLlm || LlmBudget <= 0)
        {
            return candidate.Text;
        }

        LlmBudget--;
        return (await writer.WriteAsync(candidate, ct)).Text;
    }

    private static void Apply(KnowledgeGap gap, GapText text)
    {
        gap.Title = text.Title.Length > 300 ? text.Title[..300] : text.Title;
        gap.Description = text.Description;
        gap.Questions = [.. text.Questions];
    }

    private static bool SameEvidence(IReadOnlyList<GapEvidence> a, IReadOnlyList<GapEvidence> b) =>
        a.Count == b.Count && a.Zip(b).All(p => p.First.DocumentId == p.Second.DocumentId && p.First.Quote == p.Second.Quote);
}
