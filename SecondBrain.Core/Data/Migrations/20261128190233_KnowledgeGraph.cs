using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace SecondBrain.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class KnowledgeGraph : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterDatabase()
                .Annotation("Npgsql:PostgresExtension:pg_trgm", ",,");

            migrationBuilder.CreateTable(
                name: "document_knowledge",
                columns: table => new
                {
                    document_id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    document_version = table.Column<int>(type: "integer", nullable: false),
                    status = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    pending_text = table.Column<string>(type: "text", nullable: true),
                    lexicon_version = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: true),
                    thread_key = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    queued_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    extracted_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    lease_owner = table.Column<string>(type: "text", nullable: true),
                    lease_expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    error = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_document_knowledge", x => x.document_id);
                    table.ForeignKey(
                        name: "fk_document_knowledge_documents_document_id",
                        column: x => x.document_id,
                        principalTable: "documents",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "knowledge_analysis_runs",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    status = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    trigger = table.Column<string>(type: "character varying(30)", maxLength: 30, nullable: false),
                    requested_by_user_id = table.Column<Guid>(type: "uuid", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    finished_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    lease_owner = table.Column<string>(type: "text", nullable: true),
                    lease_expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    since = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    watermark = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    stage = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: true),
                    documents_examined = table.Column<int>(type: "integer", nullable: false),
                    gaps_opened = table.Column<int>(type: "integer", nullable: false),
                    gaps_updated = table.Column<int>(type: "integer", nullable: false),
                    gaps_resolved = table.Column<int>(type: "integer", nullable: false),
                    error_code = table.Column<string>(type: "character varying(60)", maxLength: 60, nullable: true),
                    error_detail = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_knowledge_analysis_runs", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "knowledge_claims",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    document_id = table.Column<Guid>(type: "uuid", nullable: false),
                    subject_key = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    subject = table.Column<string>(type: "text", nullable: false),
                    predicate = table.Column<string>(type: "text", nullable: false),
                    value = table.Column<string>(type: "text", nullable: false),
                    value_key = table.Column<string>(type: "text", nullable: false),
                    value_kind = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    polarity = table.Column<bool>(type: "boolean", nullable: false),
                    sentence_index = table.Column<int>(type: "integer", nullable: false),
                    sentence = table.Column<string>(type: "text", nullable: false),
                    author = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_knowledge_claims", x => x.id);
                    table.ForeignKey(
                        name: "fk_knowledge_claims_documents_document_id",
                        column: x => x.document_id,
                        principalTable: "documents",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "knowledge_entities",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    type = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    name = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    email = table.Column<string>(type: "character varying(320)", maxLength: 320, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_knowledge_entities", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "knowledge_frames",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    document_id = table.Column<Guid>(type: "uuid", nullable: false),
                    type = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    sentence_index = table.Column<int>(type: "integer", nullable: false),
                    sentence = table.Column<string>(type: "text", nullable: false),
                    trigger = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    negated = table.Column<bool>(type: "boolean", nullable: false),
                    slots = table.Column<string>(type: "jsonb", nullable: false),
                    missing_slots = table.Column<List<string>>(type: "text[]", nullable: false),
                    confidence = table.Column<double>(type: "double precision", nullable: false),
                    author = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_knowledge_frames", x => x.id);
                    table.ForeignKey(
                        name: "fk_knowledge_frames_documents_document_id",
                        column: x => x.document_id,
                        principalTable: "documents",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "knowledge_gaps",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    fingerprint = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    type = table.Column<string>(type: "character varying(30)", maxLength: 30, nullable: false),
                    title = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    description = table.Column<string>(type: "text", nullable: false),
                    evidence = table.Column<string>(type: "jsonb", nullable: false),
                    entity_ids = table.Column<List<Guid>>(type: "uuid[]", nullable: false),
                    priority = table.Column<int>(type: "integer", nullable: false),
                    confidence = table.Column<double>(type: "double precision", nullable: false),
                    questions = table.Column<List<string>>(type: "text[]", nullable: false),
                    status = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    last_run_id = table.Column<Guid>(type: "uuid", nullable: true),
                    times_detected = table.Column<int>(type: "integer", nullable: false),
                    resolved = table.Column<bool>(type: "boolean", nullable: false),
                    answer_document_id = table.Column<Guid>(type: "uuid", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_knowledge_gaps", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "knowledge_aliases",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    entity_id = table.Column<Guid>(type: "uuid", nullable: false),
                    alias = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    key = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    origin = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_knowledge_aliases", x => x.id);
                    table.ForeignKey(
                        name: "fk_knowledge_aliases_knowledge_entities_entity_id",
                        column: x => x.entity_id,
                        principalTable: "knowledge_entities",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "knowledge_mentions",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    entity_id = table.Column<Guid>(type: "uuid", nullable: false),
                    document_id = table.Column<Guid>(type: "uuid", nullable: false),
                    sentence_index = table.Column<int>(type: "integer", nullable: false),
                    start = table.Column<int>(type: "integer", nullable: false),
                    length = table.Column<int>(type: "integer", nullable: false),
                    text = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    sentence = table.Column<string>(type: "text", nullable: false),
                    from_header = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_knowledge_mentions", x => x.id);
                    table.ForeignKey(
                        name: "fk_knowledge_mentions_knowledge_entities_entity_id",
                        column: x => x.entity_id,
                        principalTable: "knowledge_entities",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "knowledge_relations",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    source_entity_id = table.Column<Guid>(type: "uuid", nullable: false),
                    target_entity_id = table.Column<Guid>(type: "uuid", nullable: false),
                    type = table.Column<string>(type: "character varying(30)", maxLength: 30, nullable: false),
                    confidence = table.Column<double>(type: "double precision", nullable: false),
                    document_id = table.Column<Guid>(type: "uuid", nullable: false),
                    sentence_index = table.Column<int>(type: "integer", nullable: false),
                    sentence = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_knowledge_relations", x => x.id);
                    table.ForeignKey(
                        name: "fk_knowledge_relations_knowledge_entities_source_entity_id",
                        column: x => x.source_entity_id,
                        principalTable: "knowledge_entities",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_knowledge_relations_knowledge_entities_target_entity_id",
                        column: x => x.target_entity_id,
                        principalTable: "knowledge_entities",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "knowledge_gap_answers",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    gap_id = table.Column<Guid>(type: "uuid", nullable: false),
                    text = table.Column<string>(type: "text", nullable: false),
                    author_user_id = table.Column<Guid>(type: "uuid", nullable: true),
                    document_id = table.Column<Guid>(type: "uuid", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_knowledge_gap_answers", x => x.id);
                    table.ForeignKey(
                        name: "fk_knowledge_gap_answers_knowledge_gaps_gap_id",
                        column: x => x.gap_id,
                        principalTable: "knowledge_gaps",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_document_knowledge_status_queued_at",
                table: "document_knowledge",
                columns: new[] { "status", "queued_at" });

            migrationBuilder.CreateIndex(
                name: "ix_document_knowledge_tenant_id_extracted_at",
                table: "document_knowledge",
                columns: new[] { "tenant_id", "extracted_at" });

            migrationBuilder.CreateIndex(
                name: "ix_document_knowledge_tenant_id_thread_key",
                table: "document_knowledge",
                columns: new[] { "tenant_id", "thread_key" });

            migrationBuilder.CreateIndex(
                name: "ix_knowledge_aliases_entity_id",
                table: "knowledge_aliases",
                column: "entity_id");

            migrationBuilder.CreateIndex(
                name: "ix_knowledge_aliases_key_trgm",
                table: "knowledge_aliases",
                column: "key")
                .Annotation("Npgsql:IndexMethod", "gin")
                .Annotation("Npgsql:IndexOperators", new[] { "gin_trgm_ops" });

            migrationBuilder.CreateIndex(
                name: "ix_knowledge_aliases_tenant_id_key",
                table: "knowledge_aliases",
                columns: new[] { "tenant_id", "key" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_knowledge_analysis_runs_active",
                table: "knowledge_analysis_runs",
                column: "tenant_id",
                unique: true,
                filter: "status IN ('queued', 'running')");

            migrationBuilder.CreateIndex(
                name: "ix_knowledge_analysis_runs_status_created_at",
                table: "knowledge_analysis_runs",
                columns: new[] { "status", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_knowledge_analysis_runs_tenant_id_created_at",
                table: "knowledge_analysis_runs",
                columns: new[] { "tenant_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_knowledge_claims_document_id",
                table: "knowledge_claims",
                column: "document_id");

            migrationBuilder.CreateIndex(
                name: "ix_knowledge_claims_tenant_id_subject_key",
                table: "knowledge_claims",
                columns: new[] { "tenant_id", "subject_key" });

            migrationBuilder.CreateIndex(
                name: "ix_knowledge_entities_tenant_id_type",
                table: "knowledge_entities",
                columns: new[] { "tenant_id", "type" });

            migrationBuilder.CreateIndex(
                name: "ix_knowledge_frames_document_id",
                table: "knowledge_frames",
                column: "document_id");

            migrationBuilder.CreateIndex(
                name: "ix_knowledge_frames_tenant_id_type",
                table: "knowledge_frames",
                columns: new[] { "tenant_id", "type" });

            migrationBuilder.CreateIndex(
                name: "ix_knowledge_gap_answers_gap_id",
                table: "knowledge_gap_answers",
                column: "gap_id");

            migrationBuilder.CreateIndex(
                name: "ix_knowledge_gaps_tenant_id_fingerprint",
                table: "knowledge_gaps",
                columns: new[] { "tenant_id", "fingerprint" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_knowledge_gaps_tenant_id_status_priority",
                table: "knowledge_gaps",
                columns: new[] { "tenant_id", "status", "priority" });

            migrationBuilder.CreateIndex(
                name: "ix_knowledge_mentions_document_id",
                table: "knowledge_mentions",
                column: "document_id");

            migrationBuilder.CreateIndex(
                name: "ix_knowledge_mentions_entity_id",
                table: "knowledge_mentions",
                column: "entity_id");

            migrationBuilder.CreateIndex(
                name: "ix_knowledge_mentions_tenant_id_entity_id",
                table: "knowledge_mentions",
                columns: new[] { "tenant_id", "entity_id" });

            migrationBuilder.CreateIndex(
                name: "ix_knowledge_relations_document_id",
                table: "knowledge_relations",
                column: "document_id");

            migrationBuilder.CreateIndex(
                name: "ix_knowledge_relations_source_entity_id",
                table: "knowledge_relations",
                column: "source_entity_id");

            migrationBuilder.CreateIndex(
                name: "ix_knowledge_relations_target_entity_id",
                table: "knowledge_relations",
                column: "target_entity_id");

            migrationBuilder.CreateIndex(
                name: "ix_knowledge_relations_tenant_id_source_entity_id_type",
                table: "knowledge_relations",
                columns: new[] { "tenant_id", "source_entity_id", "type" });

            migrationBuilder.CreateIndex(
                name: "ix_knowledge_relations_tenant_id_target_entity_id_type",
                table: "knowledge_relations",
                columns: new[] { "tenant_id", "target_entity_id", "type" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "document_knowledge");

            migrationBuilder.DropTable(
                name: "knowledge_aliases");

            migrationBuilder.DropTable(
                name: "knowledge_analysis_runs");

            migrationBuilder.DropTable(
                name: "knowledge_claims");

            migrationBuilder.DropTable(
                name: "knowledge_frames");

            migrationBuilder.DropTable(
                name: "knowledge_gap_answers");

            migrationBuilder.DropTable(
                name: "knowledge_mentions");

            migrationBuilder.DropTable(
                name: "knowledge_relations");

            migrationBuilder.DropTable(
                name: "knowledge_gaps");

            migrationBuilder.DropTable(
                name: "knowledge_entities");

            migrationBuilder.AlterDatabase()
                .OldAnnotation("Npgsql:PostgresExtension:pg_trgm", ",,");
        }
    }
}
