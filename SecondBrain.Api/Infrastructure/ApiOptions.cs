using System.ComponentModel.DataAnnotations;

namespace SecondBrain.Api.Infrastructure;

public sealed class ApiOptions
{
    public const string SectionName = "Api";

    /// <summary>Largest request body accepted by default; endpoints that take uploads raise it for themselves.</summary>
    [Range(1024, long.MaxValue)]
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;
}
