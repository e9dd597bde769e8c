using Microsoft.EntityFrameworkCore;
using SecondBrain.Core.Data;
using SecondBrain.Core.Feedback;
using SecondBrain.Core.Search.Answers;

namespace SecondBrain.Core.Conversations;

internal static class ConversationModelConfiguration
{
    public static void ConfigureConversations(this ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Conversation>(e =>
        {
            e.ToTable("conversations");
            e.Property(x => x.Title).HasMaxLength(300);
            e.HasIndex(x => new { x.TenantId, x.UserId, x.Archived, x.Pinned, x.LastMessageAt });
        });

        modelBuilder.Entity<ConversationMessage>(e =>
        {
            e.ToTable("conversation_messages");
            e.Property(x => x.Role).HasMaxLength(20);
            e.Property(x => x.Status).HasMaxLength(20);
            e.Property(x => x.Mode).HasMaxLength(20);
            e.Property(x => x.Citations).AsJsonColumn();
            e.Property(x => x.Related).AsJsonColumn();
            e.HasIndex(x => new { x.ConversationId, x.Sequence }).IsUnique();
            e.HasOne<Conversation>().WithMany().HasForeignKey(x => x.ConversationId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<AnswerRecord>(e =>
        {
            e.ToTable("answers");
            e.Property(x => x.Mode).HasMaxLength(20);
            e.Property(x => x.Origin).HasMaxLength(20);
            e.HasIndex(x => new { x.TenantId, x.CreatedAt });
        });

        modelBuilder.Entity<FeedbackEntry>(e =>
        {
            e.ToTable("feedback");
            e.Property(x => x.TargetType).HasMaxLength(20);
            e.Property(x => x.Comment).HasMaxLength(2000);
            e.HasIndex(x => new { x.TenantId, x.UserId, x.TargetType, x.TargetId }).IsUnique();
            e.HasIndex(x => new { x.TenantId, x.TargetType, x.CreatedAt });
        });
    }
}
