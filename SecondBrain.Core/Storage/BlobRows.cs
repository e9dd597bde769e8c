using Microsoft.EntityFrameworkCore;
using SecondBrain.Core.Tenancy;

namespace SecondBrain.Core.Storage;

/// <summary>Row of <c>blobs</c>: one per stored blob, unique per tenant and key.</summary>
public sealed class StoredBlob : ITenantOwned
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid TenantId { get; set; }
    public required string Key { get; set; }
    public long Length { get; set; }

    /// <summary>Bytes per chunk row (the last may be shorter); fixed per blob, so a seek finds its chunk by division.</summary>
    public int ChunkSize { get; set; }

    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
}

/// <summary>Row of <c>blob_chunks</c>: one fixed-size piece of a blob.</summary>
public sealed class BlobChunk : ITenantOwned
{
    public Guid BlobId { get; set; }
    public int Seq { get; set; }
    public Guid TenantId { get; set; }
    public required byte[] Data { get; set; }
}

public static class BlobModel
{
    public const int MaxKeyLength = 400;

    public static ModelBuilder ConfigureBlobStorage(this ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<StoredBlob>(e =>
        {
            e.ToTable("blobs");
            e.Property(b => b.Key).HasMaxLength(MaxKeyLength);
            e.HasIndex(b => new { b.TenantId, b.Key }).IsUnique();
        });

        modelBuilder.Entity<BlobChunk>(e =>
        {
            e.ToTable("blob_chunks");
            e.HasKey(c => new { c.BlobId, c.Seq });
            e.HasOne<StoredBlob>().WithMany().HasForeignKey(c => c.BlobId).OnDelete(DeleteBehavior.Cascade);
        });
        return modelBuilder;
    }
}
