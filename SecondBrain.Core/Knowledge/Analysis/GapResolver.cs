using System.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;
using SecondBrain.Core.Data;
using SecondBrain.Core.Knowledge.Extraction;

using static SecondBrain.Core.Knowledge.Analysis.AnalysisQueries;

namespace SecondBrain.Core.Knowledge.Analysis;

/// <summary>
/// How a run ends the gaps it no longer finds: per-document types by the changed documents they cite, tenant-wide
/// types by the subjects the run re-evaluated, and gaps whose evidence was deleted. Also counts the changed set.
/// </summary>
public sealed class GapResolver(AnalysisQueries q)
{
    /// <summary>How many documents the run examines (for the run's counts).</summary>
    public async Task<int> CountChangedAsync(CancellationToken ct)
    {
        await using var command = await q.CommandAsync($"WITH {ChangedCte} SELECT count(*)::int FROM changed", ct);
        return (int)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>A gap whose evidence includes a deleted (or no longer extracted) document, with its evidence documents still alive.</summary>
    public sealed record DeadEvidence(string Fingerprint, string Type, IReadOnlyList<Guid> LiveDocuments);

    /// <summary>
    /// Open gaps that cite a document that is gone (deleted, or its knowledge removed). Their remaining documents are
    /// examined again, and those not found again are resolved. Bounded: a tenant's open gaps, at most 2,000.
    /// </summary>
    public async Task<IReadOnlyList<DeadEvidence>> DeadEvidenceAsync(CancellationToken ct)
    {
        await using var command = await q.CommandAsync("""
            SELECT g.fingerprint, g.type,
                   coalesce(array_agg(DISTINCT d.id) FILTER (WHERE d.id IS NOT NULL AND k.document_id IS NOT NULL), '{}') AS live
            FROM knowledge_gaps g
            CROSS JOIN LATERAL jsonb_array_elements(g.evidence) e
            LEFT JOIN documents d ON d.id = (e ->> 'documentId')::uuid AND d.deleted_at IS NULL
            LEFT JOIN document_knowledge k ON k.document_id = d.id
            WHERE g.tenant_id = @tenant AND NOT g.resolved
            GROUP BY g.fingerprint, g.type
            HAVING bool_or(d.id IS NULL OR k.document_id IS NULL)
            ORDER BY g.fingerprint
            LIMIT 2000
            """, ct);
        var result = new List<DeadEvidence>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result.Add(new DeadEvidence(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<Guid[]>(2)));
        }

        return result;
    }

    /// <summary>
    /// Per-document gap types: an open gap citing a changed document that this run did not find again no longer
    /// holds (the sentence changed, an owner or reason was added, a reply arrived).
    /// </summary>
    public async Task<int> ResolveChangedDocumentsAsync(string type, Guid runId, IReadOnlyCollection<string> found, CancellationToken ct)
    {
        await using var command = await q.CommandAsync($"""
            WITH {ChangedCte}
            UPDATE knowledge_gaps g SET resolved = true, updated_at = now(), last_run_id = @run
            WHERE g.tenant_id = @tenant AND g.type = @type AND NOT g.resolved
              AND NOT (g.fingerprint = ANY(@found))
              AND EXISTS (SELECT 1 FROM jsonb_array_elements(g.evidence) e JOIN changed c ON c.document_id = (e ->> 'documentId')::uuid)
            """, ct);
        return await ResolveAsync(command, type, runId, found, ct);
    }

    /// <summary>
    /// Tenant-wide gap types: an open gap whose subject the run re-evaluated (its fingerprint is among the scope's
    /// keys, hashed in SQL exactly as <see cref="GapRules.Fingerprint"/> does) but did not find again is resolved.
    /// </summary>
    public async Task<int> ResolveScopeAsync(string type, string scopeSql, Guid runId, IReadOnlyCollection<string> found, CancellationToken ct)
    {
        await using var command = await q.CommandAsync($"""
            UPDATE knowledge_gaps g SET resolved = true, updated_at = now(), last_run_id = @run
            WHERE g.tenant_id = @tenant AND g.type = @type AND NOT g.resolved
              AND NOT (g.fingerprint = ANY(@found))
              AND g.fingerprint IN (SELECT {GapRules.FingerprintSql("@type::text", "s.key")} FROM ({scopeSql}) s)
            """, ct);
        return await ResolveAsync(command, type, runId, found, ct);
    }

    /// <summary>Gaps citing a deleted document that the run did not find again.</summary>
    public async Task<int> ResolveDeadAsync(IReadOnlyCollection<string> dead, Guid runId, IReadOnlyCollection<string> found, CancellationToken ct)
    {
        if (dead.Count == 0)
        {
            return 0;
        }

        await using var command = await q.CommandAsync("""
            UPDATE knowledge_gaps g SET resolved = true, updated_at = now(), last_run_id = @run
            WHERE g.tenant_id = @tenant AND NOT g.resolved AND g.fingerprint = ANY(@dead) AND NOT (g.fingerprint = ANY(@found))
            """, ct);
        command.Parameters.AddWithValue("dead", dead.ToArray());
        return await ResolveAsync(command, "", runId, found, ct);
    }

    private static async Task<int> ResolveAsync(NpgsqlCommand command, string type, Guid runId, IReadOnlyCollection<string> found, CancellationToken ct)
    {
        command.Parameters.AddWithValue("type", type);
        command.Parameters.AddWithValue("run", runId);
        command.Parameters.AddWithValue("found", found.ToArray());
        return await command.ExecuteNonQueryAsync(ct);
    }
}
