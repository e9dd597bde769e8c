using System.Linq.Expressions;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using SecondBrain.Core.Auditing;
using SecondBrain.Core.Conversations;
using SecondBrain.Core.Feedback;
using SecondBrain.Core.Search.Answers;
using SecondBrain.Core.Documents;
using SecondBrain.Core.Identity;
using SecondBrain.Core.Ingestion;
using SecondBrain.Core.Integrations;
using SecondBrain.Core.Knowledge;
using SecondBrain.Core.Search;
using SecondBrain.Core.Storage;
using SecondBrain.Core.Sync;
using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Data;

/// <summary>
/// The durable truth. Tenant isolation is enforced here and only here: every <see cref="ITenantOwned"/> entity gets
/// a query filter on the current tenant, and saving refuses rows of another tenant.
/// </summary>
public sealed class SecondBrainDbContext(DbContextOptions<SecondBrainDbContext> options, ITenantContext tenant)
    : DbContext(options), IDataProtectionKeyContext
{
    public DbSet<Tenant> Tenants => Set<Tenant>();
    public DbSet<User> Users => Set<User>();
    public DbSet<RefreshSession> RefreshSessions => Set<RefreshSession>();
    public DbSet<AuditEntry> AuditLog => Set<AuditEntry>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<PasswordResetToken> PasswordResetTokens => Set<PasswordResetToken>();
    public DbSet<PendingSignup> PendingSignups => Set<PendingSignup>();
    public DbSet<SecondBrain.Core.Mail.OutgoingMail> OutgoingMail => Set<SecondBrain.Core.Mail.OutgoingMail>();
    public DbSet<MigrationRun> MigrationRuns => Set<MigrationRun>();
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<Connection> Connections => Set<Connection>();
    public DbSet<SyncRun> SyncRuns => Set<SyncRun>();
    public DbSet<SyncFailedItem> SyncFailedItems => Set<SyncFailedItem>();
    public DbSet<Upload> Uploads => Set<Upload>();
    public DbSet<StoredBlob> Blobs => Set<StoredBlob>();
    public DbSet<BlobChunk> BlobChunks => Set<BlobChunk>();
    public DbSet<Document> Documents => Set<Document>();
    public DbSet<IngestionJob> IngestionJobs => Set<IngestionJob>();
    public DbSet<Chunk> Chunks => Set<Chunk>();
    public DbSet<GlossaryEntry> Glossary => Set<GlossaryEntry>();
    public DbSet<ParsingSettingsVersion> ParsingSettings => Set<ParsingSettingsVersion>();
    public DbSet<KnowledgeEntity> KnowledgeEntities => Set<KnowledgeEntity>();
    public DbSet<EntityAlias> EntityAliases => Set<EntityAlias>();
    public DbSet<KnowledgeMention> KnowledgeMentions => Set<KnowledgeMention>();
    public DbSet<EntityRelation> EntityRelations => Set<EntityRelation>();
    public DbSet<KnowledgeFrame> KnowledgeFrames => Set<KnowledgeFrame>();
    public DbSet<KnowledgeClaim> KnowledgeClaims => Set<KnowledgeClaim>();
    public DbSet<DocumentKnowledge> DocumentKnowledge => Set<DocumentKnowledge>();
    public DbSet<KnowledgeGap> KnowledgeGaps => Set<KnowledgeGap>();
    public DbSet<GapAnswer> GapAnswers => Set<GapAnswer>();
    public DbSet<KnowledgeAnalysisRun> KnowledgeAnalysisRuns => Set<KnowledgeAnalysisRun>();
    public DbSet<Conversation> Conversations => Set<Conversation>();
    public DbSet<ConversationMessage> ConversationMessages => Set<ConversationMessage>();
    public DbSet<AnswerRecord> Answers => Set<AnswerRecord>();
    public DbSet<FeedbackEntry> Feedback => Set<FeedbackEntry>();

    /// <summary>Read by the query filters on every query; <see cref="Guid.Empty"/> (matches nothing) without a tenant.</summary>
    private Guid CurrentTenantId => tenant.TenantId ?? Guid.Empty;

    /// <summary>The tenant of this unit of work, for raw SQL (<see cref="TenantSql"/>); null outside a tenant.</summary>
    internal Guid? ScopedTenantId => tenant.TenantId;

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Tenant>(e =>
        {
            e.ToTable("tenants");
            e.Property(t => t.Name).HasMaxLength(200);
        });

        modelBuilder.Entity<User>(e =>
        {
            e.ToTable("users");
            e.Property(u => u.Email).HasMaxLength(320);
            e.Property(u => u.NormalizedEmail).HasMaxLength(320);
            e.Property(u => u.DisplayName).HasMaxLength(200);
            e.Property(u => u.Role).HasMaxLength(20);
            e.HasIndex(u => u.NormalizedEmail).IsUnique();
            e.HasIndex(u => u.TenantId);
            e.HasOne<Tenant>().WithMany().HasForeignKey(u => u.TenantId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<RefreshSession>(e =>
        {
            e.ToTable("refresh_sessions");
            e.HasIndex(s => s.TokenHash).IsUnique();
            e.HasIndex(s => s.FamilyId);
            e.HasIndex(s => new { s.TenantId, s.UserId });
            e.HasOne<User>().WithMany().HasForeignKey(s => s.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<ApiKey>(e =>
        {
            e.ToTable("api_keys");
            e.Property(k => k.Name).HasMaxLength(100);
            e.Property(k => k.Prefix).HasMaxLength(20);
            e.HasIndex(k => k.KeyHash).IsUnique();
            e.HasIndex(k => new { k.TenantId, k.UserId });
            e.HasOne<User>().WithMany().HasForeignKey(k => k.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<PasswordResetToken>(e =>
        {
            e.ToTable("password_reset_tokens");
            e.HasIndex(t => t.TokenHash).IsUnique();
            e.HasIndex(t => new { t.TenantId, t.UserId });
            e.HasOne<User>().WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<PendingSignup>(e =>
        {
            e.ToTable("pending_signups");
            e.Property(p => p.Email).HasMaxLength(320);
            e.Property(p => p.NormalizedEmail).HasMaxLength(320);
            e.HasIndex(p => p.TokenHash).IsUnique();
            e.HasIndex(p => p.NormalizedEmail);
        });

        modelBuilder.Entity<SecondBrain.Core.Mail.OutgoingMail>(e =>
        {
            e.ToTable("mail_outbox");
            e.Property(m => m.ToAddress).HasMaxLength(320);
            e.Property(m => m.Subject).HasMaxLength(300);
            e.Property(m => m.Status).HasMaxLength(20);
            e.Property(m => m.LeaseOwner).HasMaxLength(200);
            e.HasIndex(m => new { m.Status, m.QueuedAt });
        });

        modelBuilder.Entity<AuditEntry>(e =>
        {
            e.ToTable("audit_log");
            e.Property(a => a.Action).HasMaxLength(100);
            e.Property(a => a.Detail).HasColumnType("jsonb");
            e.HasIndex(a => new { a.TenantId, a.At });
        });

        modelBuilder.Entity<MigrationRun>(e => e.ToTable("migration_runs"));

        modelBuilder.Entity<Connection>(e =>
        {
            e.ToTable("connections");
            e.Property(c => c.Provider).HasMaxLength(40);
            e.Property(c => c.Status).HasMaxLength(40);
            e.HasIndex(c => new { c.TenantId, c.Provider }).IsUnique();
        });

        modelBuilder.Entity<SyncRun>(e =>
        {
            e.ToTable("sync_runs");
            e.Property(r => r.Source).HasMaxLength(40);
            e.Property(r => r.Status).HasMaxLength(40);
            // One active run per tenant and source, enforced by the database so two instances cannot both start one.
            e.HasIndex(r => new { r.TenantId, r.Source }).IsUnique()
                .HasFilter("status IN ('queued', 'running')")
                .HasDatabaseName("ux_sync_runs_one_active");
            e.HasIndex(r => new { r.Status, r.CreatedAt });
            e.HasIndex(r => new { r.TenantId, r.CreatedAt });
            // A worker commits a page only while it still holds the lease: if another worker (or this one, again)
            // reclaimed the run, the checkpoint update matches no row and the whole page transaction rolls back.
            e.Property(r => r.LeaseToken).IsConcurrencyToken();
        });

        modelBuilder.Entity<SyncFailedItem>(e =>
        {
            e.ToTable("sync_failed_items");
            e.HasIndex(f => new { f.TenantId, f.RunId });
        });

        modelBuilder.Entity<Upload>(e => e.ToTable("uploads"));
        modelBuilder.ConfigureBlobStorage();

        modelBuilder.Entity<Document>(e =>
        {
            e.ToTable("documents");
            e.Property(d => d.Source).HasMaxLength(40);
            e.Property(d => d.Status).HasMaxLength(20);
            e.Property(d => d.Metadata).HasColumnType("jsonb");
            e.Property(d => d.ContentBlobKey).HasMaxLength(BlobModel.MaxKeyLength);
            e.HasIndex(d => new { d.TenantId, d.Source, d.ExternalId }).IsUnique();
            e.HasIndex(d => new { d.TenantId, d.Status });
        });

        modelBuilder.Entity<Chunk>(e =>
        {
            e.ToTable("chunks");
            e.Property(c => c.Kind).HasMaxLength(40);
            e.Property(c => c.Source).HasMaxLength(40);
            e.Property(c => c.EmbeddingBits).HasColumnType("bit varying");
            // Keyword search: a stored tsvector of title, section and text, GIN-indexed.
            e.Property<NpgsqlTypes.NpgsqlTsVector>("SearchVector")
                .HasColumnName("search_vector")
                .HasComputedColumnSql("to_tsvector('english', coalesce(title, '') || ' ' || coalesce(section, '') || ' ' || text)", stored: true);
            e.HasIndex("SearchVector").HasMethod("GIN");
            e.HasIndex(c => new { c.TenantId, c.DocumentId });
            e.HasIndex(c => new { c.TenantId, c.Source });
            // A document version has one chunk per position: a duplicate write fails instead of doubling the document.
            e.HasIndex(c => new { c.DocumentId, c.DocumentVersion, c.Position }).IsUnique();
        });

        modelBuilder.Entity<GlossaryEntry>(e =>
        {
            e.ToTable("glossary");
            e.Property(g => g.Term).HasMaxLength(200);
            e.HasIndex(g => new { g.TenantId, g.Term }).IsUnique();
        });

        modelBuilder.Entity<ParsingSettingsVersion>(e =>
        {
            e.ToTable("parsing_settings");
            e.HasIndex(p => new { p.TenantId, p.Version }).IsUnique();
        });

        modelBuilder.Entity<IngestionJob>(e =>
        {
            e.ToTable("ingestion_jobs");
            e.HasIndex(j => new { j.Status, j.EnqueuedAt });
            e.HasIndex(j => j.DocumentId);
        });
        modelBuilder.Entity<DataProtectionKey>(e => e.ToTable("data_protection_keys"));
        modelBuilder.ConfigureKnowledge();
        modelBuilder.ConfigureConversations();

        foreach (var entityType in modelBuilder.Model.GetEntityTypes())
        {
            if (typeof(ITenantOwned).IsAssignableFrom(entityType.ClrType))
            {
                entityType.SetQueryFilter(BuildTenantFilter(entityType.ClrType));
            }
        }
    }

    // e => e.TenantId == this.CurrentTenantId, referencing the context so EF parameterises it per context instance.
    private LambdaExpression BuildTenantFilter(Type entityType)
    {
        var entity = Expression.Parameter(entityType, "e");
        var body = Expression.Equal(
            Expression.Property(entity, nameof(ITenantOwned.TenantId)),
            Expression.Property(Expression.Constant(this), nameof(CurrentTenantId)));
        return Expression.Lambda(body, entity);
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        StampTenant();
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        StampTenant();
        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    private void StampTenant()
    {
        foreach (var entry in ChangeTracker.Entries<ITenantOwned>())
        {
            if (entry.State is not (EntityState.Added or EntityState.Modified or EntityState.Deleted))
            {
                continue;
            }

            if (entry.State == EntityState.Added && entry.Entity.TenantId == Guid.Empty)
            {
                entry.Entity.TenantId = tenant.TenantId
                    ?? throw new InvalidOperationException($"A {entry.Metadata.ClrType.Name} needs a tenant, and none is set for this unit of work.");
            }

            if (tenant.TenantId is { } current && entry.Entity.TenantId != current)
            {
                throw new InvalidOperationException($"Refusing to write a {entry.Metadata.ClrType.Name} of another tenant.");
            }
        }
    }
}
