using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SecondBrain.Core.Documents;

namespace SecondBrain.Core.Knowledge;

/// <summary>The knowledge graph, extraction state, gaps and analysis runs in the EF model.</summary>
internal static class KnowledgeModelConfiguration
{
    public static void ConfigureKnowledge(this ModelBuilder modelBuilder)
    {
        // Trigram similarity for fuzzy entity names; a contrib extension shipped with Postgres itself.
        modelBuilder.HasPostgresExtension("pg_trgm");

        modelBuilder.Entity<KnowledgeEntity>(e =>
        {
            e.ToTable("knowledge_entities");
            e.Property(x => x.Type).HasMaxLength(20);
            e.Property(x => x.Name).HasMaxLength(300);
            e.Property(x => x.Email).HasMaxLength(320);
            e.HasIndex(x => new { x.TenantId, x.Type });
        });

        modelBuilder.Entity<EntityAlias>(e =>
        {
            e.ToTable("knowledge_aliases");
            e.Property(x => x.Alias).HasMaxLength(300);
            e.Property(x => x.Key).HasMaxLength(300);
            e.Property(x => x.Origin).HasMaxLength(20);
            e.HasIndex(x => new { x.TenantId, x.Key }).IsUnique();
            // Fuzzy normalisation: similarity search on the key (pg_trgm).
            e.HasIndex(x => x.Key).HasMethod("gin").HasOperators("gin_trgm_ops").HasDatabaseName("ix_knowledge_aliases_key_trgm");
            e.HasIndex(x => x.EntityId);
            e.HasOne<KnowledgeEntity>().WithMany().HasForeignKey(x => x.EntityId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<KnowledgeMention>(e =>
        {
            e.ToTable("knowledge_mentions");
            e.Property(x => x.Text).HasMaxLength(300);
            e.HasIndex(x => new { x.TenantId, x.EntityId });
            e.HasIndex(x => x.DocumentId);
            e.HasOne<KnowledgeEntity>().WithMany().HasForeignKey(x => x.EntityId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<EntityRelation>(e =>
        {
            e.ToTable("knowledge_relations");
            e.Property(x => x.Type).HasMaxLength(30);
            e.HasIndex(x => new { x.TenantId, x.SourceEntityId, x.Type });
            e.HasIndex(x => new { x.TenantId, x.TargetEntityId, x.Type });
            e.HasIndex(x => x.DocumentId);
            e.HasOne<KnowledgeEntity>().WithMany().HasForeignKey(x => x.SourceEntityId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<KnowledgeEntity>().WithMany().HasForeignKey(x => x.TargetEntityId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<KnowledgeFrame>(e =>
        {
            e.ToTable("knowledge_frames");
            e.Property(x => x.Type).HasMaxLength(20);
            e.Property(x => x.Trigger).HasMaxLength(100);
            e.Property(x => x.Slots).AsJson();
            e.HasIndex(x => new { x.TenantId, x.Type });
            e.HasIndex(x => x.DocumentId);
            e.HasOne<Document>().WithMany().HasForeignKey(x => x.DocumentId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<KnowledgeClaim>(e =>
        {
            e.ToTable("knowledge_claims");
            e.Property(x => x.SubjectKey).HasMaxLength(300);
            e.Property(x => x.ValueKind).HasMaxLength(20);
            e.HasIndex(x => new { x.TenantId, x.SubjectKey });
            e.HasIndex(x => x.DocumentId);
            e.HasOne<Document>().WithMany().HasForeignKey(x => x.DocumentId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<DocumentKnowledge>(e =>
        {
            e.ToTable("document_knowledge");
            e.HasKey(x => x.DocumentId);
            e.Property(x => x.Status).HasMaxLength(20);
            e.Property(x => x.LexiconVersion).HasMaxLength(80);
            e.Property(x => x.ThreadKey).HasMaxLength(500);
            e.HasIndex(x => new { x.Status, x.QueuedAt });
            e.HasIndex(x => new { x.TenantId, x.ExtractedAt });
            e.HasIndex(x => new { x.TenantId, x.ThreadKey });
            e.HasOne<Document>().WithMany().HasForeignKey(x => x.DocumentId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<KnowledgeGap>(e =>
        {
            e.ToTable("knowledge_gaps");
            e.Property(x => x.Fingerprint).HasMaxLength(64);
            e.Property(x => x.Type).HasMaxLength(30);
            e.Property(x => x.Title).HasMaxLength(300);
            e.Property(x => x.Status).HasMaxLength(20);
            e.Property(x => x.Evidence).AsJson();
            e.HasIndex(x => new { x.TenantId, x.Fingerprint }).IsUnique();
            e.HasIndex(x => new { x.TenantId, x.Status, x.Priority });
        });

        modelBuilder.Entity<GapAnswer>(e =>
        {
            e.ToTable("knowledge_gap_answers");
            e.HasIndex(x => x.GapId);
            e.HasOne<KnowledgeGap>().WithMany().HasForeignKey(x => x.GapId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<KnowledgeAnalysisRun>(e =>
        {
            e.ToTable("knowledge_analysis_runs");
            e.Property(x => x.Status).HasMaxLength(20);
            e.Property(x => x.Trigger).HasMaxLength(30);
            e.Property(x => x.Stage).HasMaxLength(40);
            e.Property(x => x.ErrorCode).HasMaxLength(60);
            e.Property(x => x.LeaseToken).IsConcurrencyToken();
            e.HasIndex(x => new { x.Status, x.CreatedAt });
            e.HasIndex(x => new { x.TenantId, x.CreatedAt });
            // One queued or running analysis per tenant: a second request joins the first.
            e.HasIndex(x => x.TenantId).IsUnique().HasFilter("status IN ('queued', 'running')").HasDatabaseName("ix_knowledge_analysis_runs_active");
        });
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>A jsonb column holding a serialised value, compared by its JSON so in-place changes are saved.</summary>
    private static PropertyBuilder<T> AsJson<T>(this PropertyBuilder<T> property) where T : class, new() =>
        property.HasColumnType("jsonb").HasConversion(
            v => JsonSerializer.Serialize(v, Json),
            s => JsonSerializer.Deserialize<T>(s, Json) ?? new T(),
            new ValueComparer<T>(
                (a, b) => JsonSerializer.Serialize(a, Json) == JsonSerializer.Serialize(b, Json),
                v => JsonSerializer.Serialize(v, Json).GetHashCode(StringComparison.Ordinal),
                v => JsonSerializer.Deserialize<T>(JsonSerializer.Serialize(v, Json), Json)!));
}
