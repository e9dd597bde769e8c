namespace SecondBrain.Core.Common;

/// <summary>One page of a list; every list endpoint pages the same way.</summary>
public sealed record PagedResult<T>(IReadOnlyList<T> Items, int Page, int PageSize, long Total);

public sealed record PageRequest(int Page = 1, int PageSize = 50)
{
    public const int MaxPageSize = 200;

    public int Skip => (Normalized.Page - 1) * Normalized.PageSize;

    public PageRequest Normalized => new(Math.Max(1, Page), Math.Clamp(PageSize, 1, MaxPageSize));
}
