using System.Collections.Frozen;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using SecondBrain.Core.Auditing;
using SecondBrain.Core.Common;
using SecondBrain.Core.Data;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Search;
using SecondBrain.Core.Tenancy;
using SecondBrain.ServiceDefaults.Telemetry;

namespace SecondBrain.Core.Knowledge.Graph;

/// <summary>
/// The user's corrections to entity normalisation: rename, merge and split.
/// </summary>
/// <remarks>
/// Corrections run in one transaction that first locks the entity rows involved (in id order, so two corrections
/// cannot deadlock each other): an extraction resolving a name to one of those entities at the same moment either
/// committed before (and its rows are moved with the rest) or waits and then fails its foreign key on a deleted
/// entity and is retried. After the commit the tenant's alias generation is bumped, so no instance's
/// <see cref="AliasCache"/> resolves a name to the old entity for the next document.
/// </remarks>
public sealed class EntityCorrections(
    SecondBrainDbContext db,
    TenantContext tenant,
    EntityQueries queries,
    AliasCache aliasCache,
    InstanceIdentity instance,
    TimeProvider time)
{
    public const int MaxMergeSources = 50;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private Guid TenantId => tenant.TenantId ?? throw new InvalidOperationException("The knowledge graph needs a tenant.");

    /// <summary>
    /// Renames an entity: the new name becomes a user alias (taking over the alias if the entity already had that
    /// name), the old aliases stay so documents using them still resolve here. A name that is another entity's alias
    /// is a conflict: that is a merge, not a rename.
    /// </summary>
    public async Task<Outcome<EntityDetail>> RenameAsync(Guid id, RenameEntityRequest request, CancellationToken ct)
    {
        if (ValidateName(request.Name, nameof(request.Name)) is { } invalid)
        {
            return invalid;
        }

        var name = EntityNameKey.Clean(request.Name!);
        var key = EntityNameKey.Normalize(name);
        var outcome = await InTransactionAsync<bool>(async token =>
        {
            if ((await LockAsync([id], token)).Count == 0)
            {
                return ApiProblem.NotFound("The entity");
            }

            var entity = await db.KnowledgeEntities.SingleAsync(e => e.Id == id, token);
            var alias = await db.EntityAliases.SingleOrDefaultAsync(a => a.Key == key, token);
            if (alias is not null && alias.EntityId != id)
            {
                return NameTaken(name, alias.EntityId);
            }

            if (alias is null)
            {
                db.EntityAliases.Add(new EntityAlias { TenantId = entity.TenantId, EntityId = id, Alias = name, Key = key, Origin = AliasOrigins.User });
            }
            else
            {
                alias.Alias = name;
                alias.Origin = AliasOrigins.User;
            }

            var previous = entity.Name;
            entity.Name = name;
            entity.UpdatedAt = time.GetUtcNow();
            Audit(KnowledgeAuditActions.EntityRenamed, id, new { from = previous, to = name });
            await db.SaveChangesAsync(token);
            return true;
        }, ct);

        if (!outcome.Succeeded)
        {
            return outcome.Problem!;
        }

        return (await GetAsync(id, new PageRequest(1, 20), ct))!;
    }

    /// <summary>
    /// Merges the sources into the target: their aliases (kept as user aliases, so re-extraction cannot pull the
    /// names apart again), mentions and relation evidence move to the target, then the sources are deleted. Evidence
    /// that became a relation of the target to itself is dropped, and evidence that now duplicates a row of the same
    /// sentence is kept once. Types may differ (extraction can mistake a project for a system); the target's wins.
    /// </summary>
    public async Task<Outcome<EntityMergeResult>> MergeAsync(Guid targetId, MergeEntitiesRequest request, CancellationToken ct)
    {
        var sources = request.SourceIds?.Distinct().ToArray() ?? [];
        if (new Validation()
                .Check(sources.Length is > 0 and <= MaxMergeSources, nameof(request.SourceIds), $"Give 1 to {MaxMergeSources} entity ids to merge into this one.")
                .Check(!sources.Contains(targetId), nameof(request.SourceIds), "An entity cannot be merged into itself.")
                .ToProblem() is { } invalid)
        {
            return invalid;
        }

        var outcome = await InTransactionAsync<GraphChangeCounts>(async token =>
        {
            var locked = await LockAsync([targetId, .. sources], token);
            if (!locked.Contains(targetId))
            {
                return ApiProblem.NotFound("The entity");
            }

            // Another tenant's id is simply not found: its existence is not disclosed.
            if (sources.Any(s => !locked.Contains(s)))
            {
                return ApiProblem.NotFound("One or more of the entities to merge");
            }

            var target = await db.KnowledgeEntities.SingleAsync(e => e.Id == targetId, token);
            var merged = await db.KnowledgeEntities.AsNoTracking().Where(e => sources.Contains(e.Id)).ToListAsync(token);

            var aliases = await ExecuteAsync("""
                UPDATE knowledge_aliases SET entity_id = @target, origin = 'user'
                WHERE tenant_id = @tenant AND entity_id = ANY(@sources)
                """, targetId, sources, token);
            var mentions = await ExecuteAsync("""
                UPDATE knowledge_mentions SET entity_id = @target
                WHERE tenant_id = @tenant AND entity_id = ANY(@sources)
                """, targetId, sources, token);
            var relations = await ExecuteAsync("""
                UPDATE knowledge_relations SET source_entity_id = @target
                WHERE tenant_id = @tenant AND source_entity_id = ANY(@sources)
                """, targetId, sources, token);
            relations += await ExecuteAsync("""
                UPDATE knowledge_relations SET target_entity_id = @target
                WHERE tenant_id = @tenant AND target_entity_id = ANY(@sources)
                """, targetId, sources, token);
            await ExecuteAsync("""
                DELETE FROM knowledge_relations
                WHERE tenant_id = @tenant AND source_entity_id = @target AND target_entity_id = @target
                """, targetId, sources, token);
            await ExecuteAsync("""
                DELETE FROM knowledge_relations r USING knowledge_relations k
                WHERE r.tenant_id = @tenant AND k.tenant_id = @tenant
                  AND (r.source_entity_id = @target OR r.target_entity_id = @target)
                  AND k.source_entity_id = r.source_entity_id AND k.target_entity_id = r.target_entity_id AND k.type = r.type
                  AND k.document_id = r.document_id AND k.sentence_index = r.sentence_index AND k.id < r.id
                """, targetId, sources, token);
            await ExecuteAsync("DELETE FROM knowledge_entities WHERE tenant_id = @tenant AND id = ANY(@sources)", targetId, sources, token);

            // A source's name stays a way to reach the target even when no alias carried it.
            var keys = await db.EntityAliases.Where(a => a.EntityId == targetId).Select(a => a.Key).ToListAsync(token);
            foreach (var source in merged)
            {
                var key = EntityNameKey.Normalize(source.Name);
                if (key.Length > 0 && !keys.Contains(key) && !await db.EntityAliases.AnyAsync(a => a.Key == key, token))
                {
                    db.EntityAliases.Add(new EntityAlias { TenantId = target.TenantId, EntityId = targetId, Alias = source.Name, Key = key, Origin = AliasOrigins.User });
                    keys.Add(key);
                }
            }

            target.Email ??= merged.Select(s => s.Email).FirstOrDefault(e => !string.IsNullOrEmpty(e));
            target.UpdatedAt = time.GetUtcNow();
            Audit(KnowledgeAuditActions.EntitiesMerged, targetId, new { sources = merged.Select(s => new { s.Id, s.Type, s.Name }) });
            await db.SaveChangesAsync(token);
            return new GraphChangeCounts(aliases, mentions, relations);
        }, ct);

        if (!outcome.Succeeded)
        {
            return outcome.Problem!;
        }

        return new EntityMergeResult((await GetAsync(targetId, new PageRequest(1, 20), ct))!, sources, outcome.Value!);
    }

    /// <summary>
    /// Splits names that were wrongly taken for one entity off into a new entity of the same type. Moved: the given
    /// aliases (as user aliases); the mentions whose text normalises to one of them (or is one of them); and each
    /// relation evidence row whose sentence names the entity only through moved mentions, i.e. the sentence has a
    /// moved mention and no mention left with the original. A sentence naming both stays with the original: which
    /// of the two it meant cannot be told, and the original is the conservative choice. At least one alias must
    /// stay; the original is renamed to a remaining alias if its name moved, and its e-mail moves if it was a moved alias.
    /// </summary>
    public async Task<Outcome<EntitySplitResult>> SplitAsync(Guid id, SplitEntityRequest request, CancellationToken ct)
    {
        var requested = request.Aliases?.Where(a => !string.IsNullOrWhiteSpace(a)).Select(a => EntityNameKey.Normalize(EntityNameKey.Clean(a))).Where(k => k.Length > 0).Distinct().ToList() ?? [];
        var validation = new Validation()
            .Check(requested.Count is > 0 and <= 100, nameof(request.Aliases), "Give 1 to 100 aliases to move to the new entity.");
        if (ValidateName(request.Name, nameof(request.Name)) is { } invalidName)
        {
            return invalidName;
        }

        if (validation.ToProblem() is { } invalid)
        {
            return invalid;
        }

        var name = EntityNameKey.Clean(request.Name!);
        var newKey = EntityNameKey.Normalize(name);
        Guid createdId = Guid.Empty;
        var outcome = await InTransactionAsync<GraphChangeCounts>(async token =>
        {
            if ((await LockAsync([id], token)).Count == 0)
            {
                return ApiProblem.NotFound("The entity");
            }

            var entity = await db.KnowledgeEntities.SingleAsync(e => e.Id == id, token);
            var aliases = await db.EntityAliases.Where(a => a.EntityId == id).ToListAsync(token);
            var unknown = requested.Where(k => aliases.All(a => a.Key != k)).ToList();
            if (unknown.Count > 0)
            {
                return new Validation().Check(false, nameof(request.Aliases), $"Not aliases of this entity: {string.Join(", ", unknown)}.").ToProblem()!;
            }

            var moving = aliases.Where(a => requested.Contains(a.Key)).ToList();
            var staying = aliases.Except(moving).ToList();
            if (staying.Count == 0)
            {
                return new Validation().Check(false, nameof(request.Aliases), "At least one alias must stay with the entity; to change its name, rename it.").ToProblem()!;
            }

            if (staying.Any(a => a.Key == newKey))
            {
                return new Validation().Check(false, nameof(request.Name), "The new name is an alias that stays with this entity.").ToProblem()!;
            }

            if (!moving.Any(a => a.Key == newKey) && await db.EntityAliases.Where(a => a.Key == newKey).Select(a => (Guid?)a.EntityId).FirstOrDefaultAsync(token) is { } holder)
            {
                return NameTaken(name, holder);
            }

            var now = time.GetUtcNow();
            var created = new KnowledgeEntity { TenantId = entity.TenantId, Type = entity.Type, Name = name, CreatedAt = now, UpdatedAt = now };
            createdId = created.Id;
            db.KnowledgeEntities.Add(created);
            foreach (var alias in moving)
            {
                alias.EntityId = created.Id;
                alias.Origin = AliasOrigins.User;
            }

            if (!moving.Any(a => a.Key == newKey))
            {
                db.EntityAliases.Add(new EntityAlias { TenantId = entity.TenantId, EntityId = created.Id, Alias = name, Key = newKey, Origin = AliasOrigins.User });
            }

            var movedKeys = moving.Select(a => a.Key).ToHashSet(StringComparer.Ordinal);
            if (movedKeys.Contains(EntityNameKey.Normalize(entity.Name)))
            {
                entity.Name = staying.OrderByDescending(a => a.Origin == AliasOrigins.User).ThenBy(a => a.CreatedAt).First().Alias;
            }

            if (entity.Email is { Length: > 0 } email && movedKeys.Contains(EntityNameKey.Normalize(email)))
            {
                created.Email = email;
                entity.Email = null;
            }

            entity.UpdatedAt = now;
            await db.SaveChangesAsync(token);

            // Mentions are matched by their surface text, read once per distinct spelling rather than per row.
            var surfaces = new List<string>();
            await using (var command = await CommandAsync("SELECT DISTINCT text FROM knowledge_mentions WHERE tenant_id = @tenant AND entity_id = @id", token))
            {
                command.Parameters.AddWithValue("id", id);
                await using var reader = await command.ExecuteReaderAsync(token);
                while (await reader.ReadAsync(token))
                {
                    surfaces.Add(reader.GetString(0));
                }
            }

            var movedSpellings = moving.Select(a => a.Alias).ToHashSet(StringComparer.OrdinalIgnoreCase);
            var texts = surfaces.Where(s => movedKeys.Contains(EntityNameKey.Normalize(s)) || movedSpellings.Contains(s.Trim())).ToArray();
            var mentions = 0;
            if (texts.Length > 0)
            {
                await using var command = await CommandAsync("""
                    UPDATE knowledge_mentions SET entity_id = @created
                    WHERE tenant_id = @tenant AND entity_id = @id AND text = ANY(@texts)
                    """, token);
                command.Parameters.AddWithValue("id", id);
                command.Parameters.AddWithValue("created", created.Id);
                command.Parameters.AddWithValue("texts", texts);
                mentions = await command.ExecuteNonQueryAsync(token);
            }

            var relations = 0;
            foreach (var column in new[] { "source_entity_id", "target_entity_id" })
            {
                await using var command = await CommandAsync($"""
                    UPDATE knowledge_relations r SET {column} = @created
                    WHERE r.tenant_id = @tenant AND r.{column} = @id
                      AND EXISTS (SELECT 1 FROM knowledge_mentions m WHERE m.tenant_id = @tenant AND m.entity_id = @created
                                  AND m.document_id = r.document_id AND m.sentence_index = r.sentence_index)
                      AND NOT EXISTS (SELECT 1 FROM knowledge_mentions m WHERE m.tenant_id = @tenant AND m.entity_id = @id
                                  AND m.document_id = r.document_id AND m.sentence_index = r.sentence_index)
                    """, token);
                command.Parameters.AddWithValue("id", id);
                command.Parameters.AddWithValue("created", created.Id);
                relations += await command.ExecuteNonQueryAsync(token);
            }

            Audit(KnowledgeAuditActions.EntitySplit, id, new { created = created.Id, name, aliases = moving.Select(a => a.Alias) });
            await db.SaveChangesAsync(token);
            return new GraphChangeCounts(moving.Count, mentions, relations);
        }, ct);

        if (!outcome.Succeeded)
        {
            return outcome.Problem!;
        }

        var original = (await SummariesAsync([id], ct)).Single();
        return new EntitySplitResult(original, (await GetAsync(createdId, new PageRequest(1, 20), ct))!, outcome.Value!);
    }

    /// <summary>
    /// Runs a correction in one transaction under the retrying execution strategy, then bumps the tenant's alias
    /// generation once it has committed. A concurrent write of the same alias key (an extraction naming it at that
    /// moment) is a conflict the caller may retry.
    /// </summary>
    private async Task<Outcome<T>> InTransactionAsync<T>(Func<CancellationToken, Task<Outcome<T>>> work, CancellationToken ct)
    {
        Outcome<T> outcome;
        try
        {
            var strategy = db.Database.CreateExecutionStrategy();
            outcome = await strategy.ExecuteAsync(async token =>
            {
                db.ChangeTracker.Clear();
                await using var transaction = await db.Database.BeginTransactionAsync(token);
                var result = await work(token);
                if (result.Succeeded)
                {
                    await transaction.CommitAsync(token);
                }

                return result;
            }, ct);
        }
        catch (Exception e) when (e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation }
                                   || e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            db.ChangeTracker.Clear();
            return new ApiProblem(409, ProblemCodes.Conflict, "A name involved was just given to another entity; reload and try again.");
        }

        if (outcome.Succeeded)
        {
            await aliasCache.InvalidateAsync(TenantId);
        }

        return outcome;
    }

    private async Task<HashSet<Guid>> LockAsync(Guid[] ids, CancellationToken ct)
    {
        await using var command = await CommandAsync(
            "SELECT id FROM knowledge_entities WHERE tenant_id = @tenant AND id = ANY(@ids) ORDER BY id FOR UPDATE", ct);
        command.Parameters.AddWithValue("ids", ids);
        var locked = new HashSet<Guid>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            locked.Add(reader.GetGuid(0));
        }

        return locked;
    }

    private async Task<int> ExecuteAsync(string sql, Guid target, Guid[] sources, CancellationToken ct)
    {
        await using var command = await CommandAsync(sql, ct);
        if (sql.Contains("@target", StringComparison.Ordinal))
        {
            command.Parameters.AddWithValue("target", target);
        }

        if (sql.Contains("@sources", StringComparison.Ordinal))
        {
            command.Parameters.AddWithValue("sources", sources);
        }

        return await command.ExecuteNonQueryAsync(ct);
    }

    private void Audit(string action, Guid entityId, object detail) =>
        db.AuditLog.Add(new AuditEntry
        {
            TenantId = TenantId,
            ActorUserId = tenant.UserId,
            Action = action,
            Target = entityId.ToString(),
            Detail = JsonSerializer.Serialize(detail, Json),
            InstanceId = instance.InstanceId,
            At = time.GetUtcNow()
        });

    private static ApiProblem? ValidateName(string? name, string field)
    {
        var validation = new Validation().Require(field, name, EntityQueries.MaxNameLength);
        if (!string.IsNullOrWhiteSpace(name) && EntityNameKey.Normalize(EntityNameKey.Clean(name)).Length == 0)
        {
            validation.Check(false, field, $"{field} must contain more than an article or a title.");
        }

        return validation.ToProblem();
    }

    private static ApiProblem NameTaken(string name, Guid holder) =>
        new(409, ProblemCodes.Conflict, $"\"{name}\" is already a name of another entity; merge the two instead.")
        {
            Extensions = new Dictionary<string, object?> { ["entityId"] = holder }
        };


    private Task<NpgsqlCommand> CommandAsync(string sql, CancellationToken ct) => db.TenantCommandAsync(sql, ct);

    private Task<EntityDetail?> GetAsync(Guid id, PageRequest page, CancellationToken ct) => queries.GetAsync(id, page, ct);

    private Task<IReadOnlyList<EntitySummary>> SummariesAsync(Guid[] ids, CancellationToken ct) => queries.SummariesAsync(ids, ct);
}
