using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SecondBrain.Core.Data.Migrations
{
    /// <summary>
    /// BM25 keyword search: a postings table (one row per chunk and lexeme, with the term's precomputed BM25 weight)
    /// kept by a statement-level trigger on chunks, so every way of writing chunks (EF, COPY) indexes them and
    /// deleting a chunk deletes its postings. Not an EF entity: only <c>KeywordIndex</c> reads it, with SQL.
    /// </summary>
    [DbContext(typeof(SecondBrainDbContext))]
    [Migration("20261128190000_KeywordPostings")]
    public partial class KeywordPostings : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE TABLE chunk_terms (
                    tenant_id uuid NOT NULL,
                    lexeme text NOT NULL,
                    chunk_id uuid NOT NULL REFERENCES chunks (id) ON DELETE CASCADE,
                    impact real NOT NULL
                );

                -- Postings in impact order: a query reads only the best few hundred of each term.
                CREATE INDEX ix_chunk_terms_postings ON chunk_terms (tenant_id, lexeme, impact DESC) INCLUDE (chunk_id);
                -- Exact rescoring of candidates and cascade deletes go by chunk.
                CREATE INDEX ix_chunk_terms_chunk ON chunk_terms (chunk_id, lexeme) INCLUDE (impact);

                -- The term-frequency part of BM25 (k1 = 1.2, b = 0.75) with a fixed average chunk length of 100 lexemes:
                -- chunks are cut to a bounded token count, so a constant stands in for the corpus average without a
                -- per-tenant statistic that every insert would have to update.
                CREATE FUNCTION bm25_term_weight(tf integer, chunk_length integer) RETURNS real
                LANGUAGE sql IMMUTABLE PARALLEL SAFE
                RETURN (tf * 2.2) / (tf + 1.2 * (0.25 + 0.75 * chunk_length / 100.0));

                CREATE FUNCTION chunks_write_postings() RETURNS trigger
                LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO chunk_terms (tenant_id, lexeme, chunk_id, impact)
                    SELECT t.tenant_id, t.lexeme, t.id, bm25_term_weight(t.tf, (sum(t.tf) OVER (PARTITION BY t.id))::integer)
                    FROM (
                        SELECT n.tenant_id, n.id, v.lexeme, coalesce(array_length(v.positions, 1), 1) AS tf
                        FROM inserted_chunks n, unnest(n.search_vector) AS v
                    ) AS t;
                    RETURN NULL;
                END;
                $$;

                CREATE TRIGGER chunks_write_postings AFTER INSERT ON chunks
                REFERENCING NEW TABLE AS inserted_chunks
                FOR EACH STATEMENT EXECUTE FUNCTION chunks_write_postings();

                INSERT INTO chunk_terms (tenant_id, lexeme, chunk_id, impact)
                SELECT t.tenant_id, t.lexeme, t.id, bm25_term_weight(t.tf, (sum(t.tf) OVER (PARTITION BY t.id))::integer)
                FROM (
                    SELECT c.tenant_id, c.id, v.lexeme, coalesce(array_length(v.positions, 1), 1) AS tf
                    FROM chunks c, unnest(c.search_vector) AS v
                ) AS t;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER IF EXISTS chunks_write_postings ON chunks;
                DROP FUNCTION IF EXISTS chunks_write_postings();
                DROP TABLE IF EXISTS chunk_terms;
                DROP FUNCTION IF EXISTS bm25_term_weight(integer, integer);
                """);
        }
    }
}
