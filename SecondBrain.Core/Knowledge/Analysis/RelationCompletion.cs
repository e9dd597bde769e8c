using NpgsqlTypes;
using SecondBrain.Core.Knowledge.Extraction;
using static SecondBrain.Core.Knowledge.Analysis.AnalysisQueries;

namespace SecondBrain.Core.Knowledge.Analysis;

/// <summary>
/// Ownership stated of someone the document could not tell was a person. Extraction relates an owner to what they
/// own only when the owner slot is a recognised person ("Amara also maintains the datasets" has no relation when
/// "Amara" is unknown to that document). Once the tenant knows its people, each changed document's ownership frames
/// whose owner slot names one of them (full name, or a first name only one person has) get their owns relation, to
/// the frame's topic entity. These relations carry the marker confidence <see cref="Marker"/> and are replaced on each
/// run, so re-analysis adds none twice.
/// </summary>
public sealed class RelationCompletion(AnalysisQueries q)
{
    public const double Marker = 0.501;

    public async Task<int> CompleteAsync(CancellationToken ct)
    {
        await using (var clear = await q.CommandAsync($"""
            WITH {ChangedCte}
            DELETE FROM knowledge_relations r USING changed c
            WHERE r.tenant_id = @tenant AND r.document_id = c.document_id AND r.type = 'owns' AND r.confidence = {Marker.ToString(System.Globalization.CultureInfo.InvariantCulture)}
            """, ct))
        {
            await clear.ExecuteNonQueryAsync(ct);
        }

        var people = new Dictionary<string, Guid>(StringComparer.Ordinal);
        var firstNames = new Dictionary<string, List<Guid>>(StringComparer.Ordinal);
        await using (var command = await q.CommandAsync("""
            SELECT e.id, e.name, a.key FROM knowledge_entities e
            JOIN knowledge_aliases a ON a.entity_id = e.id AND a.tenant_id = @tenant
            WHERE e.tenant_id = @tenant AND e.type = 'person'
            LIMIT 20000
            """, ct))
        {
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var id = reader.GetGuid(0);
                people.TryAdd(reader.GetString(2), id);
                var name = reader.GetString(1);
                if (name.Contains(' ', StringComparison.Ordinal) && !name.Contains('@', StringComparison.Ordinal))
                {
                    var first = EntityConsolidation.FirstName(name);
                    if (!firstNames.TryGetValue(first, out var ids))
                    {
                        firstNames[first] = ids = [];
                    }

                    if (!ids.Contains(id))
                    {
                        ids.Add(id);
                    }
                }
            }
        }

        var rows = new List<(Guid Source, Guid Target, Guid Document, int Sentence, string Text, double Confidence)>();
        await using (var command = await q.CommandAsync($"""
            WITH {ChangedCte}
            SELECT f.document_id, f.sentence_index, f.sentence, f.slots ->> 'owner', t.entity_id, f.confidence
            FROM knowledge_frames f
            JOIN changed c ON c.document_id = f.document_id
            JOIN knowledge_aliases t ON t.tenant_id = @tenant AND t.key = {Norm("f.slots->>'object'")}
            WHERE f.tenant_id = @tenant AND f.type IN ('ownership', 'process') AND NOT f.negated AND f.slots ? 'owner' AND f.slots ? 'object'
              AND NOT EXISTS (SELECT 1 FROM knowledge_relations r WHERE r.tenant_id = @tenant AND r.document_id = f.document_id
                              AND r.sentence_index = f.sentence_index AND r.type = 'owns')
            LIMIT {q.Cap * 20}
            """, ct))
        {
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var owner = reader.GetString(3);
                var key = KnowledgeKeys.Entity(owner);
                Guid? person = people.TryGetValue(key, out var id) ? id
                    : !key.Contains(' ', StringComparison.Ordinal) && firstNames.TryGetValue(EntityConsolidation.Plain(owner.Trim()), out var ids) && ids.Count == 1 ? ids[0]
                    : null;
                if (person is { } source && source != reader.GetGuid(4))
                {
                    rows.Add((source, reader.GetGuid(4), reader.GetGuid(0), reader.GetInt32(1), reader.GetString(2), reader.GetDouble(5)));
                }
            }
        }

        rows = rows.DistinctBy(r => (r.Source, r.Document, r.Sentence)).ToList();
        if (rows.Count == 0)
        {
            return 0;
        }

        await using var insert = await q.CommandAsync($"""
            INSERT INTO knowledge_relations (tenant_id, source_entity_id, target_entity_id, type, confidence, document_id, sentence_index, sentence)
            SELECT @tenant, r.source, r.target, 'owns', {Marker.ToString(System.Globalization.CultureInfo.InvariantCulture)}, r.document, r.sentence_index, r.sentence
            FROM unnest(@sources, @targets, @documents, @indexes, @sentences) AS r(source, target, document, sentence_index, sentence)
            """, ct);
        insert.Parameters.Add(new Npgsql.NpgsqlParameter<Guid[]>("sources", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { TypedValue = [.. rows.Select(r => r.Source)] });
        insert.Parameters.Add(new Npgsql.NpgsqlParameter<Guid[]>("targets", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { TypedValue = [.. rows.Select(r => r.Target)] });
        insert.Parameters.Add(new Npgsql.NpgsqlParameter<Guid[]>("documents", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { TypedValue = [.. rows.Select(r => r.Document)] });
        insert.Parameters.Add(new Npgsql.NpgsqlParameter<int[]>("indexes", NpgsqlDbType.Array | NpgsqlDbType.Integer) { TypedValue = [.. rows.Select(r => r.Sentence)] });
        insert.Parameters.Add(new Npgsql.NpgsqlParameter<string[]>("sentences", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. rows.Select(r => r.Text)] });
        return await insert.ExecuteNonQueryAsync(ct);
    }
}
