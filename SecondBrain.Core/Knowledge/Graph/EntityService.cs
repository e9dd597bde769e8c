using SecondBrain.Core.Common;
using SecondBrain.Core.Errors;

namespace SecondBrain.Core.Knowledge.Graph;

/// <summary>
/// The knowledge graph as the API uses it: reads (<see cref="EntityQueries"/>), experts on a topic
/// (<see cref="ExpertRanking"/>) and the user's corrections (<see cref="EntityCorrections"/>), each in its own service.
/// </summary>
public sealed class EntityService(EntityQueries queries, ExpertRanking experts, EntityCorrections corrections)
{
    public const int MaxNameLength = EntityQueries.MaxNameLength;
    public const int MaxMergeSources = EntityCorrections.MaxMergeSources;
    public const int MaxMentionPageSize = EntityQueries.MaxMentionPageSize;

    public Task<Outcome<PagedResult<EntitySummary>>> ListAsync(EntityQuery query, PageRequest page, CancellationToken ct) => queries.ListAsync(query, page, ct);

    public Task<EntityDetail?> GetAsync(Guid id, PageRequest mentionPage, CancellationToken ct) => queries.GetAsync(id, mentionPage, ct);

    public Task<Outcome<ExpertsResponse>> ExpertsAsync(string? topic, int limit, CancellationToken ct) => experts.ExpertsAsync(topic, limit, ct);

    public Task<Outcome<EntityDetail>> RenameAsync(Guid id, RenameEntityRequest request, CancellationToken ct) => corrections.RenameAsync(id, request, ct);

    public Task<Outcome<EntityMergeResult>> MergeAsync(Guid targetId, MergeEntitiesRequest request, CancellationToken ct) => corrections.MergeAsync(targetId, request, ct);

    public Task<Outcome<EntitySplitResult>> SplitAsync(Guid id, SplitEntityRequest request, CancellationToken ct) => corrections.SplitAsync(id, request, ct);
}
