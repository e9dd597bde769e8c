using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using SecondBrain.Core.Knowledge;
using SecondBrain.Core.Knowledge.Extraction;
using SecondBrain.Core.Knowledge.Analysis;
using SecondBrain.Core.Knowledge.Analysis.Detectors;
using SecondBrain.Core.Knowledge.Gaps;
using SecondBrain.Core.Knowledge.Graph;

namespace Microsoft.Extensions.Hosting;

public static class SecondBrainKnowledgeExtensions
{
    /// <summary>
    /// The knowledge engine's shared services: the sentence-analysis cache (L1 over Redis), entity normalisation with
    /// its cross-instance alias cache, and the writer of extraction results. The Worker adds the processors.
    /// </summary>
    public static TBuilder AddSecondBrainKnowledge<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        services.AddOptions<KnowledgeExtractionOptions>().BindConfiguration(KnowledgeExtractionOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.LeaseDuration >= o.RenewInterval * 3, "Knowledge:Extraction:LeaseDuration must be at least three renewals (RenewInterval) long.")
            .ValidateOnStart();
        services.AddOpenTelemetry().WithTracing(t => t.AddSource(KnowledgeTelemetry.ExtractionName, KnowledgeTelemetry.AnalysisName));
        services.AddSingleton<RedisSentenceAnalysisCache>();
        services.AddSingleton<ISentenceAnalysisCache>(sp => sp.GetRequiredService<RedisSentenceAnalysisCache>());
        services.AddScoped<KnowledgeWriter>();
        services.AddSingleton<AliasCache>();
        services.AddScoped<EntityResolver>();
        services.AddScoped<EntityQueries>();
        services.AddScoped<ExpertRanking>();
        services.AddScoped<EntityCorrections>();
        services.AddScoped<EntityService>();
        // Tenant-level analysis and gaps: the Api starts runs and serves gaps, the Worker's processor runs them.
        services.AddOptions<KnowledgeAnalysisOptions>().BindConfiguration(KnowledgeAnalysisOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddScoped<KnowledgeAnalysisService>();
        services.AddScoped<TenantAnalyzer>();
        // The gap detectors, run by TenantAnalyzer in this order (per-document types first, then tenant-wide ones).
        services.AddScoped<IGapDetector, MissingRationaleDetector>();
        services.AddScoped<IGapDetector, MissingOwnerDetector>();
        services.AddScoped<IGapDetector, MissingTimeDetector>();
        services.AddScoped<IGapDetector, UnansweredQuestionDetector>();
        services.AddScoped<IGapDetector, ContradictionDetector>();
        services.AddScoped<IGapDetector, UndefinedTermDetector>();
        services.AddScoped<IGapDetector, SingleSourceDetector>();
        services.AddScoped<IGapDetector, BusFactorDetector>();
        // Optional second opinions from an LLM (no-ops without an IChatClient): gap candidates and entity types.
        services.AddScoped<IGapVerifier, LlmGapVerifier>();
        services.AddScoped<LlmEntityTypeVerifier>();
        services.AddScoped<GapWriter>();
        services.AddScoped<GapService>();
        return builder;
    }
}
