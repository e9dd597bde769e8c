using SecondBrain.Core.Data;

namespace SecondBrain.Core.Search;

/// <summary>
/// A tenant's corpus version, in Postgres: bumped in the same transaction as every change to what the tenant can
/// find (ingestion's commits, removals), and after glossary changes, so a cached answer built on an older corpus is
/// never served. Kept in the tenant row rather than Redis so that losing Redis cannot roll it back onto answers
/// cached under a version number that is reused.
/// </summary>
public sealed class CorpusVersion(SecondBrainDbContext db)
{
    public async Task<long> GetAsync(Guid tenantId, CancellationToken ct = default)
    {
        await using var command = await db.CommandAsync("SELECT corpus_version FROM tenants WHERE id = @t", ct);
        command.With("t", tenantId);
        return await command.ExecuteScalarAsync(ct) is long version ? version : 0;
    }

    /// <summary>Increments the version, inside the caller's transaction when there is one.</summary>
    public async Task BumpAsync(Guid tenantId, CancellationToken ct = default)
    {
        await using var command = await db.CommandAsync("UPDATE tenants SET corpus_version = corpus_version + 1 WHERE id = @t", ct);
        command.With("t", tenantId);
        await command.ExecuteNonQueryAsync(ct);
    }
}
