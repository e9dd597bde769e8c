using SecondBrain.Core.Knowledge;
using SecondBrain.Core.Knowledge.Analysis;
using SecondBrain.Core.Ingestion;
using SecondBrain.Core.Sync;
using SecondBrain.Core.Demo;
using SecondBrain.Core.Identity;
using SecondBrain.Worker.Identity;
using SecondBrain.Worker.Processors;
using SecondBrain.Worker.Work;

namespace Microsoft.Extensions.Hosting;

internal static class WorkerServiceExtensions
{
    /// <summary>
    /// The Worker's services. It serves only health endpoints over HTTP; its work (sync runs, ingestion, knowledge
    /// analysis) is claimed from Postgres by background services added with each capability.
    /// </summary>
    public static WebApplicationBuilder AddWorkerServices(this WebApplicationBuilder builder)
    {
        builder.AddSecondBrainCore();
        builder.Services.AddOptions<DemoOptions>().BindConfiguration(DemoOptions.SectionName);
        builder.Services.AddHostedService<DemoSeeder>();
        builder.Services.AddOptions<OperatorOptions>().BindConfiguration(OperatorOptions.SectionName);
        builder.Services.AddHostedService<OperatorAccountSeeder>();
        builder.AddSecondBrainSync();
        builder.Services.AddLeasedQueue<SyncQueue, SyncRunItem, Guid>();
        builder.AddSecondBrainSearch();
        builder.Services.AddLeasedQueue<IngestionQueue, IngestionItem, long>();
        builder.AddSecondBrainKnowledge();
        builder.Services.AddLeasedQueue<ExtractionQueue, ExtractionItem, Guid>();
        builder.Services.AddLeasedQueue<AnalysisQueue, AnalysisRunItem, Guid>();
        builder.Services.AddLeasedQueue<MailQueue, MailItem, Guid>();
        builder.Services.AddOpenTelemetry().WithTracing(t => t.AddSource(MailQueue.ActivitySourceName));
        return builder;
    }
}
