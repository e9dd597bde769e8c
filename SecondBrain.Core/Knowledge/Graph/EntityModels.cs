using SecondBrain.Core.Common;

namespace SecondBrain.Core.Knowledge.Graph;

public sealed record EntityQuery(string? Search = null, string? Type = null);

public sealed record EntityRef(Guid Id, string Type, string Name);

public sealed record EntitySummary(
    Guid Id,
    string Type,
    string Name,
    string? Email,
    long MentionCount,
    long DocumentCount,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

public sealed record EntityAliasView(Guid Id, string Alias, string Key, string Origin, DateTimeOffset CreatedAt);

public sealed record RelationEvidence(Guid DocumentId, string? DocumentTitle, int SentenceIndex, string Sentence, double Confidence);

/// <param name="Direction">"outgoing" when this entity is the relation's source (it owns, decided, works on), else "incoming".</param>
public sealed record EntityRelationView(
    string Type,
    string Direction,
    EntityRef Other,
    int EvidenceCount,
    int DocumentCount,
    double MaxConfidence,
    double AverageConfidence,
    IReadOnlyList<RelationEvidence> Evidence);

public sealed record EntityMentionView(
    long Id,
    Guid DocumentId,
    string? DocumentTitle,
    int SentenceIndex,
    int Start,
    int Length,
    string Text,
    string Sentence,
    bool FromHeader);

public sealed record EntityDetail(
    EntitySummary Entity,
    IReadOnlyList<EntityAliasView> Aliases,
    IReadOnlyList<EntityRelationView> Relations,
    PagedResult<EntityMentionView> Mentions);

/// <param name="Kind">owns, decided, works_on, mentions (relations to an entity of the topic), related (a relation stated in a document about the topic), authored (author or header person of such a document), mentioned (named in it).</param>
public sealed record ExpertEvidence(string Kind, Guid DocumentId, string? DocumentTitle, int SentenceIndex, string Sentence, EntityRef? About, double Weight);

public sealed record Expert(EntityRef Person, string? Email, double Score, IReadOnlyList<ExpertEvidence> Evidence);

public sealed record ExpertsResponse(string Topic, IReadOnlyList<EntityRef> MatchedEntities, int MatchedDocuments, IReadOnlyList<Expert> Experts);

public sealed record RenameEntityRequest(string? Name);

public sealed record MergeEntitiesRequest(IReadOnlyList<Guid>? SourceIds);

/// <param name="Aliases">Names of the entity (as listed in its aliases, matched by normalised key) that belong to the new entity.</param>
/// <param name="Name">The new entity's name; it becomes one of its aliases.</param>
public sealed record SplitEntityRequest(IReadOnlyList<string>? Aliases, string? Name);

public sealed record GraphChangeCounts(int Aliases, int Mentions, int Relations);

public sealed record EntityMergeResult(EntityDetail Target, IReadOnlyList<Guid> MergedIds, GraphChangeCounts Moved);

public sealed record EntitySplitResult(EntitySummary Original, EntityDetail Created, GraphChangeCounts Moved);

public static class KnowledgeAuditActions
{
    public const string EntityRenamed = "knowledge.entity_renamed";
    public const string EntitiesMerged = "knowledge.entities_merged";
    public const string EntitySplit = "knowledge.entity_split";
}

public static class AliasOrigins
{
    public const string Extracted = "extracted";
    public const string User = "user";
}
