using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SecondBrain.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class BlobStorage : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "content_blob_key",
                table: "documents",
                type: "character varying(400)",
                maxLength: 400,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "blobs",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    key = table.Column<string>(type: "character varying(400)", maxLength: 400, nullable: false),
                    length = table.Column<long>(type: "bigint", nullable: false),
                    chunk_size = table.Column<int>(type: "integer", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_blobs", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "blob_chunks",
                columns: table => new
                {
                    blob_id = table.Column<Guid>(type: "uuid", nullable: false),
                    seq = table.Column<int>(type: "integer", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    data = table.Column<byte[]>(type: "bytea", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_blob_chunks", x => new { x.blob_id, x.seq });
                    table.ForeignKey(
                        name: "fk_blob_chunks_blobs_blob_id",
                        column: x => x.blob_id,
                        principalTable: "blobs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_blobs_tenant_id_key",
                table: "blobs",
                columns: new[] { "tenant_id", "key" },
                unique: true);

            // Chunks are mostly compressed already (zip, docx, pdf) or read once: compressing them in TOAST would cost
            // CPU on every upload for little space.
            migrationBuilder.Sql("ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;");

            // Uploads already stored keep their bytes: each becomes a blob (UploadStore.KeyOf) of 1 MiB chunks.
            migrationBuilder.Sql("""
                INSERT INTO blobs (id, tenant_id, key, length, chunk_size, created_at)
                SELECT gen_random_uuid(), u.tenant_id, 'uploads/' || replace(u.id::text, '-', ''), length(u.content), 1048576, u.created_at
                  FROM uploads u;
                INSERT INTO blob_chunks (blob_id, seq, tenant_id, data)
                SELECT b.id, s.seq, u.tenant_id, substring(u.content FROM s.seq * 1048576 + 1 FOR 1048576)
                  FROM uploads u
                  JOIN blobs b ON b.tenant_id = u.tenant_id AND b.key = 'uploads/' || replace(u.id::text, '-', '')
                 CROSS JOIN LATERAL generate_series(0, (length(u.content) - 1) / 1048576) AS s(seq)
                 WHERE length(u.content) > 0;
                """);

            migrationBuilder.DropColumn(
                name: "content",
                table: "uploads");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<byte[]>(
                name: "content",
                table: "uploads",
                type: "bytea",
                nullable: false,
                defaultValue: new byte[0]);

            // Back into the rows they came from (uploads, and documents whose bytes are only in blob storage).
            migrationBuilder.Sql("""
                UPDATE uploads u
                   SET content = COALESCE((SELECT string_agg(c.data, ''::bytea ORDER BY c.seq)
                                             FROM blobs b JOIN blob_chunks c ON c.blob_id = b.id
                                            WHERE b.tenant_id = u.tenant_id AND b.key = 'uploads/' || replace(u.id::text, '-', '')), ''::bytea);
                UPDATE documents d
                   SET content = (SELECT string_agg(c.data, ''::bytea ORDER BY c.seq)
                                    FROM blobs b JOIN blob_chunks c ON c.blob_id = b.id
                                   WHERE b.tenant_id = d.tenant_id AND b.key = d.content_blob_key)
                 WHERE d.content_blob_key IS NOT NULL AND d.content IS NULL;
                """);

            migrationBuilder.DropTable(
                name: "blob_chunks");

            migrationBuilder.DropTable(
                name: "blobs");

            migrationBuilder.DropColumn(
                name: "content_blob_key",
                table: "documents");
        }
    }
}
