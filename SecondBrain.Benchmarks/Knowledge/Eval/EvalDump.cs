using System.Text.Json;
using Npgsql;

namespace SecondBrain.Benchmarks.Knowledge.Eval;

/// <summary>
/// <c>--dump true</c>: what the engine stored for a set's tenant (documents with their indexed text, frames, claims,
/// mentions, relations, entities with aliases), one JSON file per set, for reading why a gap was or was not found.
/// </summary>
public static class EvalDump
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static async Task<string> WriteAsync(string connectionString, Guid tenantId, string directory, string set, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);

        async Task<List<Dictionary<string, object?>>> RowsAsync(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.AddWithValue("t", tenantId);
            var rows = new List<Dictionary<string, object?>>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var row = new Dictionary<string, object?>();
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    row[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                }

                rows.Add(row);
            }

            return rows;
        }

        var dump = new
        {
            Documents = await RowsAsync("""
                SELECT d.id, d.source, d.title, d.author, d.metadata::text AS metadata,
                       (SELECT string_agg(c.text, E'\n---chunk---\n' ORDER BY c.position) FROM chunks c WHERE c.document_id = d.id) AS text
                FROM documents d WHERE d.tenant_id = @t AND d.deleted_at IS NULL ORDER BY d.source, d.title
                """),
            Frames = await RowsAsync("""
                SELECT f.document_id, d.title, f.sentence_index, f.type, f.trigger, f.negated, f.confidence, f.slots::text AS slots,
                       array_to_string(f.missing_slots, ',') AS missing, f.sentence
                FROM knowledge_frames f JOIN documents d ON d.id = f.document_id
                WHERE f.tenant_id = @t ORDER BY d.title, f.sentence_index, f.type
                """),
            Claims = await RowsAsync("""
                SELECT d.title, c.sentence_index, c.subject_key, c.predicate, c.value, c.value_key, c.value_kind, c.polarity, c.sentence
                FROM knowledge_claims c JOIN documents d ON d.id = c.document_id
                WHERE c.tenant_id = @t ORDER BY d.title, c.sentence_index
                """),
            Mentions = await RowsAsync("""
                SELECT d.title, m.sentence_index, e.type, e.name, m.text, m.from_header
                FROM knowledge_mentions m JOIN documents d ON d.id = m.document_id JOIN knowledge_entities e ON e.id = m.entity_id
                WHERE m.tenant_id = @t ORDER BY d.title, m.sentence_index, m.start
                """),
            Relations = await RowsAsync("""
                SELECT d.title, r.type, s.name AS source, s.type AS source_type, o.name AS target, o.type AS target_type, r.confidence, r.sentence
                FROM knowledge_relations r JOIN documents d ON d.id = r.document_id
                JOIN knowledge_entities s ON s.id = r.source_entity_id JOIN knowledge_entities o ON o.id = r.target_entity_id
                WHERE r.tenant_id = @t ORDER BY s.name, r.type
                """),
            Entities = await RowsAsync("""
                SELECT e.type, e.name, e.email, array_to_string(array_agg(a.alias ORDER BY a.alias), ' | ') AS aliases
                FROM knowledge_entities e LEFT JOIN knowledge_aliases a ON a.entity_id = e.id
                WHERE e.tenant_id = @t GROUP BY e.id, e.type, e.name, e.email ORDER BY e.type, e.name
                """)
        };

        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"knowledge-eval-{set}-dump.json");
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(dump, Json), ct);
        return Path.GetFullPath(path);
    }
}
