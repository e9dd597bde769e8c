using SecondBrain.Core.Knowledge.Analysis.Rules;
using SecondBrain.Core.Knowledge.Extraction;
using static SecondBrain.Core.Knowledge.Analysis.AnalysisQueries;

namespace SecondBrain.Core.Knowledge.Analysis.Detectors;

/// <summary>
/// Missing time: a plan (<see cref="PlanRules"/>) of the team or of a thing with no time, or any plan whose only time
/// is vague ("at some point", "eventually", "soon") or an event instead of a date ("after the second SRE starts",
/// "once the integrations have moved", "when hiring picks up"). Read from the changed documents' indexed text, so it
/// does not depend on which frame the extractor made of the sentence. Not a gap when the time follows: the next
/// sentence gives a date ("Target is the week of 9 February"), or a later message of the same conversation does for
/// the same thing ("then it goes out on Monday 2 March"). Questions and sentences quoted from an earlier message of
/// the thread are not plans of this document.
/// </summary>
public sealed class MissingTimeDetector : IGapDetector
{
    public string Type => GapTypes.MissingTime;

    public async Task<DetectorOutcome> DetectAsync(AnalysisQueries q, CancellationToken ct)
    {
        var (sentences, capped) = await q.TextSentencesAsync(
            "SELECT document_id FROM changed",
            @"\m(will|shall|going to|plans? to|planning to|intends? to|aims? to|is to|to be)\M|\w['’]ll\M",
            PlanRules.MissesTime, ct);
        sentences = sentences.DistinctBy(s => (s.DocumentId, GapRules.SentenceKey(s.Sentence))).ToList();

        // The time may come after the plan: the next sentence, or a later one of the conversation about the same thing.
        var texts = await q.DocumentTextsAsync(sentences.Select(s => s.DocumentId).Distinct().ToArray(), ct);
        var kept = sentences.Where(s => !TimeFollows(s.Sentence, texts.GetValueOrDefault(s.DocumentId))).ToList();
        var quoted = await q.QuotedInEarlierMessageAsync(kept, ct);
        var candidates = kept.Where((_, i) => !quoted.Contains(i)).Select(row =>
        {
            var evidence = new GapEvidence(row.DocumentId, row.Title, row.Sentence, row.Speaker ?? row.Author);
            return new GapCandidate(
                GapTypes.MissingTime,
                GapRules.DocumentSentenceKey(row.DocumentId, row.Sentence),
                GapTemplates.MissingTime(evidence),
                [evidence],
                [],
                Priority: 3,
                Confidence: PlanRules.HasVagueTime(row.Sentence) ? 0.7 : 0.6);
        }).ToList();
        return new DetectorOutcome(new DetectorResult(GapTypes.MissingTime, candidates, capped), null);
    }

    private static bool TimeFollows(string plan, string? document)
    {
        if (document is null)
        {
            return false;
        }

        var spans = SentenceSegmenter.Segment(document);
        var at = -1;
        var key = GapRules.SentenceKey(plan);
        for (var i = 0; i < spans.Count && at < 0; i++)
        {
            if (GapRules.SentenceKey(spans[i].Text) == key)
            {
                at = i;
            }
        }

        if (at < 0)
        {
            return false;
        }

        var words = PlanRules.ContentWords(GapRules.StripSpeaker(plan));
        for (var i = at + 1; i < spans.Count; i++)
        {
            var later = spans[i].Text;
            if (!PlanRules.HasConcreteTime(later) || GapRules.IsQuestion(later))
            {
                continue;
            }

            // The next sentence of the paragraph when it is about the plan (shares a word, or opens with its time:
            // "Target is the week of 9 February"), not the next item of a list; a reply that says when ("By Friday 27
            // March."); a reply about the same thing; or any later sentence of the document that is plainly about the
            // same thing ("Update: the Easter rota for both desks goes up on Thursday 26 March").
            var next = i == at + 1 && spans[i].Paragraph == spans[at].Paragraph;
            var reply = GapRules.StripSpeaker(later) != later.TrimStart();
            var shared = PlanRules.Shared(words, PlanRules.ContentWords(GapRules.StripSpeaker(later)));
            var opensWithTime = PlanRules.StartsWithTime(later);
            if ((next && (shared >= 1 || opensWithTime || !spans[i].IsListItem))
                || (reply && opensWithTime && i - at <= 6)
                || (i - at <= 12 && (shared >= 2 || (reply && shared >= 1)))
                || shared >= 3)
            {
                return true;
            }
        }

        return false;
    }
}
