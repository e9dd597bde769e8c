using System.Text;
using NpgsqlTypes;
using Npgsql;

namespace SecondBrain.Core.Search;

/// <summary>
/// The one translation of a <see cref="VectorFilter"/> into SQL conditions on the chunks table, shared by keyword
/// search and the Postgres vector index so both filter the same way.
/// </summary>
internal static class ChunkFilterSql
{
    /// <summary>" AND ..." conditions on the chunks table (qualified by <paramref name="prefix"/>, e.g. "c."), adding their parameters.</summary>
    public static string Conditions(VectorFilter? filter, string prefix, ICollection<NpgsqlParameter> parameters)
    {
        var conditions = new StringBuilder();
        if (filter?.Sources is { Count: > 0 } sources)
        {
            conditions.Append($" AND {prefix}source = ANY(@sources)");
            parameters.Add(new NpgsqlParameter<string[]>("sources", NpgsqlDbType.Array | NpgsqlDbType.Varchar) { TypedValue = [.. sources] });
        }

        if (!string.IsNullOrWhiteSpace(filter?.Author))
        {
            // Same meaning as the document list's author filter: case-insensitive substring.
            conditions.Append($" AND {prefix}author ILIKE @author");
            var escaped = filter.Author.Trim().Replace("\\", "\\\\", StringComparison.Ordinal)
                .Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
            parameters.Add(new NpgsqlParameter<string>("author", NpgsqlDbType.Text) { TypedValue = "%" + escaped + "%" });
        }

        if (filter?.From is { } from)
        {
            conditions.Append($" AND {prefix}document_date >= @from");
            parameters.Add(new NpgsqlParameter<DateTimeOffset>("from", NpgsqlDbType.TimestampTz) { TypedValue = from.ToUniversalTime() });
        }

        if (filter?.To is { } to)
        {
            conditions.Append($" AND {prefix}document_date <= @to");
            parameters.Add(new NpgsqlParameter<DateTimeOffset>("to", NpgsqlDbType.TimestampTz) { TypedValue = to.ToUniversalTime() });
        }

        return conditions.ToString();
    }
}
