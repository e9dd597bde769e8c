namespace SecondBrain.Core.Knowledge.Analysis;

/// <summary>A gap's wording: what the API shows and what the LLM may refine.</summary>
public sealed record GapText(string Title, string Description, IReadOnlyList<string> Questions);

/// <summary>
/// A gap as a detector found it in this run. <see cref="Key"/> is what the gap is about (a subject and predicate, a
/// term, a person, a document's sentence); its hash with the type is the fingerprint that makes re-analysis idempotent.
/// </summary>
public sealed record GapCandidate(
    string Type,
    string Key,
    GapText Text,
    IReadOnlyList<GapEvidence> Evidence,
    IReadOnlyList<Guid> EntityIds,
    int Priority,
    double Confidence)
{
    public string Fingerprint { get; } = GapRules.Fingerprint(Type, Key);
}

/// <summary>What one detector found, and whether its candidate list was cut at the cap (then nothing is resolved by absence).</summary>
public sealed record DetectorResult(string Type, IReadOnlyList<GapCandidate> Candidates, bool Capped);
