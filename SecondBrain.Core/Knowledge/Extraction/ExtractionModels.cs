using System.Text.Json.Serialization;

namespace SecondBrain.Core.Knowledge.Extraction;

/// <summary>The kinds of knowledge a sentence can state; <see cref="Question"/> is asked rather than stated.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FrameType>))]
public enum FrameType
{
    Decision,
    Process,
    Ownership,
    Event,
    Constraint,
    Definition,
    Metric,
    Problem,
    Question
}

[JsonConverter(typeof(JsonStringEnumConverter<EntityType>))]
public enum EntityType
{
    Person,
    Organization,
    Project,
    System,
    Acronym,
    Term
}

/// <summary>Where a mention came from: the sentence itself, the document's header people, or a resolved pronoun.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<MentionOrigin>))]
public enum MentionOrigin
{
    Text,
    Header,
    Coreference
}

[JsonConverter(typeof(JsonStringEnumConverter<ClaimValueKind>))]
public enum ClaimValueKind
{
    Text,
    Number,
    Percent,
    Money,
    Date,
    Duration
}

[JsonConverter(typeof(JsonStringEnumConverter<DefinitionKind>))]
public enum DefinitionKind
{
    /// <summary>"X is defined as Y", "X stands for Y", "X means Y", "Y is called X".</summary>
    Lexical,

    /// <summary>"Service Level Agreement (SLA)" or "SLA (Service Level Agreement)".</summary>
    AcronymExpansion
}

[JsonConverter(typeof(JsonStringEnumConverter<PronounKind>))]
public enum PronounKind
{
    /// <summary>he, she, him, her, his.</summary>
    Person,

    /// <summary>it, its.</summary>
    Thing,

    /// <summary>they, them, their.</summary>
    Group,

    /// <summary>I, me, my: the document's author.</summary>
    Speaker,

    /// <summary>"this team", "that service": <see cref="PronounReference.Head"/> names the noun.</summary>
    Demonstrative
}

/// <summary>A half-open character range [Start, End).</summary>
public readonly record struct TextRange(int Start, int End)
{
    [JsonIgnore]
    public int Length => End - Start;
}

/// <summary>
/// One frame: a trigger from the lexicon plus the slots found around it. In a <see cref="SentenceAnalysis"/> all
/// ranges are relative to the analysed sentence and <see cref="SentenceIndex"/> is 0; in a
/// <see cref="DocumentExtraction"/> they are document offsets and the sentence's index.
/// </summary>
/// <param name="TriggerPhrase">The lexicon entry that fired (stable across inflections: "decided to" for "decides to").</param>
/// <param name="Negated">A negation cue governs the trigger ("did not decide to", "no longer owns") or the entry itself negates ("decided against").</param>
/// <param name="Confidence">0..1: the entry's strength scaled by how many required slots were found.</param>
/// <param name="Slots">Slot name (see <see cref="FrameSlots"/>) to the text that fills it.</param>
/// <param name="MissingSlots">Required slots of this frame type (<see cref="FrameSlots.Required"/>) that nothing filled.</param>
public sealed record Frame(
    FrameType Type,
    string Trigger,
    string TriggerPhrase,
    TextRange TriggerRange,
    bool Negated,
    double Confidence,
    IReadOnlyDictionary<string, string> Slots,
    IReadOnlyDictionary<string, TextRange> SlotRanges,
    IReadOnlyList<string> MissingSlots,
    int SentenceIndex = 0);

/// <param name="Key">Lower-case, whitespace collapsed, honorifics, leading "the" and possessive 's stripped: the alias-matching key.</param>
public sealed record EntityMention(
    EntityType Type,
    string Text,
    string Key,
    TextRange Range,
    int SentenceIndex = 0,
    MentionOrigin Origin = MentionOrigin.Text);

/// <summary>
/// A checkable statement for cross-document contradiction checks. Two claims are about the same thing when
/// <see cref="SubjectKey"/> and <see cref="PredicateKey"/> agree; they then contradict when their
/// <see cref="NormalizedValue"/> differ or their <see cref="Polarity"/> does.
/// </summary>
/// <param name="SubjectKey">Lower-case, articles and possessives dropped, words lightly stemmed ("the SLA for enterprise customers" is "sla for enterprise customer").</param>
/// <param name="SubjectHead">The subject key up to its first preposition ("sla"): a coarser key for fuzzy matches.</param>
/// <param name="PredicateKey">"be" for copulas, "date" for schedules, the verb's base form ("support"), "owner", or the metric phrase.</param>
/// <param name="NormalizedValue">Percent "99.9%", Money "USD 5000", Date "2025-03-03" / "--03-03" / "2025-03" / "2025-Q3", Duration ISO 8601 "P14D", Number "1500", Text lower-case without articles.</param>
public sealed record Claim(
    string Subject,
    string SubjectKey,
    string SubjectHead,
    string Predicate,
    string PredicateKey,
    string Value,
    string NormalizedValue,
    ClaimValueKind ValueKind,
    bool Polarity,
    TextRange Range,
    int SentenceIndex = 0)
{
    /// <summary>Claims with equal keys are about the same thing.</summary>
    [JsonIgnore]
    public string Key => $"{SubjectKey}|{PredicateKey}";
}

/// <param name="Cue">The lexicon phrase ("stands for") or "()" for a parenthesised acronym.</param>
public sealed record Definition(
    string Term,
    string TermKey,
    string Meaning,
    DefinitionKind Kind,
    string Cue,
    TextRange TermRange,
    TextRange MeaningRange,
    int SentenceIndex = 0);

/// <summary>A pronoun the document-level pass may resolve; <see cref="Head"/> is the noun of "this team" / "that service".</summary>
public sealed record PronounReference(string Text, PronounKind Kind, string? Head, TextRange Range);

/// <summary>
/// Everything one sentence says on its own: a pure function of the sentence text (and the lexicon version), so it
/// can be cached and shared across documents that quote the same sentence. Offsets are relative to the sentence.
/// </summary>
/// <param name="ExplainsPrevious">When the sentence opens with "The reason is ...", "This is because ...", "The root cause was ...": the explaining part, for the previous sentence's rationale or cause.</param>
public sealed record SentenceAnalysis(
    bool IsQuestion,
    IReadOnlyList<Frame> Frames,
    IReadOnlyList<EntityMention> Mentions,
    IReadOnlyList<Claim> Claims,
    IReadOnlyList<Definition> Definitions,
    IReadOnlyList<PronounReference> Pronouns,
    TextRange? ExplainsPrevious)
{
    public static readonly SentenceAnalysis Empty = new(false, [], [], [], [], [], null);
}

/// <summary>A person named in a document's headers: e-mail From/To/Cc, a Slack user; either part may be missing.</summary>
public sealed record PersonRef(string? Name, string? Email);

/// <summary>What <see cref="DocumentExtractor"/> needs of a document.</summary>
/// <param name="Title">Carried for the caller's convenience; not analysed (ranges point into <paramref name="Text"/> only).</param>
/// <param name="Author">Resolves "I", "me", "my" and counts as a header person.</param>
/// <param name="Date">Completes year-less dates in claims ("March 3" in a mail of December 2024 is 2025-03-03).</param>
public sealed record DocumentInput(
    Guid DocumentId,
    string Text,
    string? Title = null,
    string? Source = null,
    PersonRef? Author = null,
    DateTimeOffset? Date = null,
    IReadOnlyList<PersonRef>? HeaderPeople = null);

/// <param name="Text">The sentence as analysed: whitespace collapsed, e-mail quote markers and list bullets removed.</param>
/// <param name="Range">The sentence in the original document text.</param>
/// <param name="CacheKey">The key of its analysis in an <see cref="ISentenceAnalysisCache"/>.</param>
public sealed record ExtractedSentence(
    int Index,
    TextRange Range,
    string Text,
    string CacheKey,
    int Paragraph,
    bool IsListItem,
    bool IsQuestion,
    bool IsTableRow = false);

/// <summary>A pronoun resolved to an earlier mention in the same document.</summary>
/// <param name="AntecedentSentenceIndex">The sentence of the antecedent, or -1 for the document's author ("I", "me").</param>
public sealed record CoreferenceLink(
    int SentenceIndex,
    TextRange PronounRange,
    string Pronoun,
    EntityType AntecedentType,
    string AntecedentText,
    string AntecedentKey,
    int AntecedentSentenceIndex);

/// <param name="DistinctSentences">Distinct normalised sentences: the cache keys asked for.</param>
/// <param name="CacheHits">Distinct sentences whose analysis came from the cache.</param>
/// <param name="Analysed">Distinct sentences analysed in this call (and stored in the cache, if any).</param>
public sealed record ExtractionStats(int Sentences, int DistinctSentences, int CacheHits, int Analysed);

/// <summary>The knowledge in one document, in document coordinates.</summary>
public sealed record DocumentExtraction(
    Guid DocumentId,
    string LexiconVersion,
    IReadOnlyList<ExtractedSentence> Sentences,
    IReadOnlyList<Frame> Frames,
    IReadOnlyList<EntityMention> Mentions,
    IReadOnlyList<Claim> Claims,
    IReadOnlyList<Definition> Definitions,
    IReadOnlyList<CoreferenceLink> Coreferences,
    ExtractionStats Stats);
