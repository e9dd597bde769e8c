using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SecondBrain.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class LeasedWork : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "corpus_version",
                table: "tenants",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<Guid>(
                name: "lease_token",
                table: "sync_runs",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "lease_token",
                table: "knowledge_analysis_runs",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "not_before",
                table: "knowledge_analysis_runs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "lease_token",
                table: "ingestion_jobs",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "not_before",
                table: "ingestion_jobs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "lease_token",
                table: "document_knowledge",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "not_before",
                table: "document_knowledge",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_chunks_document_id_document_version_position",
                table: "chunks",
                columns: new[] { "document_id", "document_version", "position" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_chunks_document_id_document_version_position",
                table: "chunks");

            migrationBuilder.DropColumn(
                name: "corpus_version",
                table: "tenants");

            migrationBuilder.DropColumn(
                name: "lease_token",
                table: "sync_runs");

            migrationBuilder.DropColumn(
                name: "lease_token",
                table: "knowledge_analysis_runs");

            migrationBuilder.DropColumn(
                name: "not_before",
                table: "knowledge_analysis_runs");

            migrationBuilder.DropColumn(
                name: "lease_token",
                table: "ingestion_jobs");

            migrationBuilder.DropColumn(
                name: "not_before",
                table: "ingestion_jobs");

            migrationBuilder.DropColumn(
                name: "lease_token",
                table: "document_knowledge");

            migrationBuilder.DropColumn(
                name: "not_before",
                table: "document_knowledge");
        }
    }
}
