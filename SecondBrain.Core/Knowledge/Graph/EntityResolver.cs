using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using SecondBrain.Core.Data;

namespace SecondBrain.Core.Knowledge.Graph;

/// <summary>
/// Entity normalisation: a mention's name becomes an entity id of the tenant by its alias table, exactly by the
/// normalised key, then (for people by e-mail) and fuzzily by trigram similarity among entities of the same type,
/// else a new entity. Runs on the caller's connection and transaction; concurrent workers creating the same name
/// meet the unique (tenant, key) index and both end on the one entity that won.
/// </summary>
public sealed class EntityResolver(SecondBrainDbContext db, AliasCache cache)
{
    /// <summary>pg_trgm similarity from which two names of the same type are taken for one entity.</summary>
    public const double FuzzyThreshold = 0.6;

    /// <summary>Short names (acronyms, first names) are too easily similar to unrelated ones to match fuzzily.</summary>
    private const int FuzzyMinimumKeyLength = 6;

    public sealed record Name(string Type, string Text, string Key, string? Email = null);

    /// <summary>Entity ids for the names, resolved once per distinct (type, key) within the call.</summary>
    public async Task<IReadOnlyDictionary<(string Type, string Key), Guid>> ResolveAsync(Guid tenantId, IEnumerable<Name> names, CancellationToken ct)
    {
        var generation = await cache.GenerationAsync(tenantId);
        var resolved = new Dictionary<(string, string), Guid>();
        foreach (var name in names.Where(n => n.Key.Length > 0).DistinctBy(n => (n.Type, n.Key)))
        {
            if (cache.TryGet(tenantId, generation, name.Type, name.Key, out var cached))
            {
                resolved[(name.Type, name.Key)] = cached;
                continue;
            }

            var id = await ResolveOneAsync(tenantId, name, ct);
            cache.Set(tenantId, generation, name.Type, name.Key, id);
            resolved[(name.Type, name.Key)] = id;
        }

        return resolved;
    }

    private async Task<Guid> ResolveOneAsync(Guid tenantId, Name name, CancellationToken ct)
    {
        if (await ExactAsync(tenantId, name, ct) is var (exact, type))
        {
            if (name.Email is { Length: > 0 })
            {
                // A person first met in text or chat gets the address the first mail header gives for the same name.
                await ExecuteAsync("UPDATE knowledge_entities SET email = @email, updated_at = now() WHERE id = @entity AND email IS NULL", tenantId, name, exact, ct);
            }

            if (IsStronger(name, type))
            {
                await ExecuteAsync("UPDATE knowledge_entities SET type = @type, updated_at = now() WHERE id = @entity AND tenant_id = @t", tenantId, name, exact, ct);
            }

            return exact;
        }

        Guid? match = null;
        if (name.Email is { Length: > 0 })
        {
            match = await ScalarAsync(
                "SELECT id FROM knowledge_entities WHERE tenant_id = @t AND type = @type AND lower(email) = lower(@email) ORDER BY created_at LIMIT 1",
                tenantId, name, ct);
        }

        // Organisations meet by their compact key: "Halvorsen Freight AS", "Halvorsen Freight B.V." and halvorsenfreight.com are one.
        var compact = name.Type == EntityTypes.Organization ? CompactAlias(name.Text) : null;
        if (match is null && compact is not null)
        {
            match = await ScalarAsync("SELECT entity_id FROM knowledge_aliases WHERE tenant_id = @t AND key = @k", tenantId, name with { Key = compact }, ct);
        }

        if (match is null && name.Key.Length >= FuzzyMinimumKeyLength && name.Type is not (EntityTypes.Acronym or EntityTypes.Term))
        {
            // The % operator lets the trigram index find candidates; the threshold is applied exactly afterwards.
            match = await ScalarAsync($"""
                SELECT a.entity_id
                FROM knowledge_aliases a JOIN knowledge_entities e ON e.id = a.entity_id
                WHERE a.tenant_id = @t AND e.type = @type AND a.key % @k AND similarity(a.key, @k) >= {FuzzyThreshold.ToString(System.Globalization.CultureInfo.InvariantCulture)}
                ORDER BY similarity(a.key, @k) DESC, a.created_at
                LIMIT 1
                """, tenantId, name, ct);
        }

        if (match is { } known)
        {
            // Remember the new spelling as an alias, so the next lookup is exact.
            await ExecuteAsync("""
                INSERT INTO knowledge_aliases (id, tenant_id, entity_id, alias, key, origin, created_at)
                VALUES (@id, @t, @entity, @alias, @k, 'extracted', now())
                ON CONFLICT (tenant_id, key) DO NOTHING
                """, tenantId, name, known, ct);
            if (name.Email is { Length: > 0 })
            {
                await ExecuteAsync("UPDATE knowledge_entities SET email = @email WHERE id = @entity AND email IS NULL", tenantId, name, known, ct);
            }

            return await ScalarAsync("SELECT entity_id FROM knowledge_aliases WHERE tenant_id = @t AND key = @k", tenantId, name, ct) ?? known;
        }

        var created = Guid.CreateVersion7();
        await ExecuteAsync("""
            INSERT INTO knowledge_entities (id, tenant_id, type, name, email, created_at, updated_at)
            VALUES (@entity, @t, @type, @alias, @email, now(), now())
            """, tenantId, name, created, ct);
        await ExecuteAsync("""
            INSERT INTO knowledge_aliases (id, tenant_id, entity_id, alias, key, origin, created_at)
            VALUES (@id, @t, @entity, @alias, @k, 'extracted', now())
            ON CONFLICT (tenant_id, key) DO NOTHING
            """, tenantId, name, created, ct);
        var winner = await ScalarAsync("SELECT entity_id FROM knowledge_aliases WHERE tenant_id = @t AND key = @k", tenantId, name, ct);
        if (winner is { } other && other != created)
        {
            // Another worker named it first: ours never got an alias, so it goes.
            await ExecuteAsync("DELETE FROM knowledge_entities WHERE id = @entity", tenantId, name, created, ct);
            return other;
        }

        if (compact is not null)
        {
            await ExecuteAsync("""
                INSERT INTO knowledge_aliases (id, tenant_id, entity_id, alias, key, origin, created_at)
                VALUES (@id, @t, @entity, @alias, @k, 'extracted', now())
                ON CONFLICT (tenant_id, key) DO NOTHING
                """, tenantId, name with { Key = compact }, created, ct);
        }

        return created;
    }

    /// <summary>
    /// An alias key names one entity whatever the type its mentions carry, so the first document to name it would decide
    /// what it is, and that depends on which document was extracted first. Stronger evidence wins instead: a person
    /// from a mail header or chat user (one with an address) makes the entity a person; a person, organisation,
    /// project or system named in text beats a bare term ("Tomasz Nowak" in a glossary-like line before his mails).
    /// </summary>
    private static bool IsStronger(Name name, string current) =>
        current != name.Type
        && ((name.Type == EntityTypes.Person && name.Email is { Length: > 0 })
            || (current == EntityTypes.Term && name.Type is EntityTypes.Person or EntityTypes.Organization or EntityTypes.Project or EntityTypes.System));

    private async Task<(Guid Id, string Type)?> ExactAsync(Guid tenantId, Name name, CancellationToken ct)
    {
        await using var command = await CommandAsync(
            "SELECT a.entity_id, e.type FROM knowledge_aliases a JOIN knowledge_entities e ON e.id = a.entity_id WHERE a.tenant_id = @t AND a.key = @k",
            tenantId, name, null, ct);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? (reader.GetGuid(0), reader.GetString(1)) : null;
    }

    /// <summary>The alias key an organisation is also known by: "org:" and its compact key (null when too short to be safe).</summary>
    public static string? CompactAlias(string name) =>
        SecondBrain.Core.Knowledge.Extraction.PartyNames.CompactKey(name) is { Length: >= 3 } compact ? "org:" + compact : null;

    private async Task<Guid?> ScalarAsync(string sql, Guid tenantId, Name name, CancellationToken ct)
    {
        await using var command = await CommandAsync(sql, tenantId, name, null, ct);
        return await command.ExecuteScalarAsync(ct) is Guid id ? id : null;
    }

    private async Task ExecuteAsync(string sql, Guid tenantId, Name name, Guid entityId, CancellationToken ct)
    {
        await using var command = await CommandAsync(sql, tenantId, name, entityId, ct);
        await command.ExecuteNonQueryAsync(ct);
    }

    private async Task<NpgsqlCommand> CommandAsync(string sql, Guid tenantId, Name name, Guid? entityId, CancellationToken ct)
    {
        var command = await db.CommandAsync(sql, ct);
        command.Parameters.Add(new NpgsqlParameter<Guid>("t", NpgsqlDbType.Uuid) { TypedValue = tenantId });
        command.Parameters.Add(new NpgsqlParameter<string>("k", NpgsqlDbType.Varchar) { TypedValue = Truncate(name.Key) });
        command.Parameters.Add(new NpgsqlParameter<string>("type", NpgsqlDbType.Varchar) { TypedValue = name.Type });
        command.Parameters.Add(new NpgsqlParameter<string>("alias", NpgsqlDbType.Varchar) { TypedValue = Truncate(name.Text) });
        command.Parameters.Add(new NpgsqlParameter("email", NpgsqlDbType.Varchar) { Value = (object?)name.Email ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter<Guid>("id", NpgsqlDbType.Uuid) { TypedValue = Guid.CreateVersion7() });
        command.Parameters.Add(new NpgsqlParameter<Guid>("entity", NpgsqlDbType.Uuid) { TypedValue = entityId ?? Guid.Empty });
        return command;
    }

    private static string Truncate(string value) => value.Length <= 300 ? value : value[..300];
}
