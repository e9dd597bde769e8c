using System.Net;
using System.Net.Http.Json;
using SecondBrain.Core.Knowledge.Analysis;
using SecondBrain.Tests.Infrastructure;

namespace SecondBrain.Tests.Integration;

/// <summary>
/// The Worker's own work shows in the dashboard: every capability registers its ActivitySource where it registers its
/// services, and the spans of a sync, an ingestion, an extraction, an analysis and the migrations reach an OTLP
/// collector (a stand-in speaking OTLP over HTTP, configured the way Aspire configures the dashboard's endpoint).
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class TelemetryExportTests(FaultFixture app)
{
    [Fact]
    public async Task Sync_ingestion_extraction_analysis_and_migration_spans_are_exported()
    {
        var tenant = await app.Api(0).SignupAsync();
        using var client = app.Api(1).CreateClient(tenant.Tokens.AccessToken);
        using (var form = new MultipartFormDataContent())
        {
            form.Add(new ByteArrayContent("""
                From: Ana Lima <ana@example.test>
                To: Team <team@example.test>
                Subject: Release plan
                Date: Tue, 3 Mar 2026 09:12:00 +0000
                Message-ID: <release-plan@example.test>

                We decided to ship the portal on 17 March because the audit is done.
                """u8.ToArray()), "file", "release.eml");
            var import = await client.PostAsync("api/sync/email-archive", form);
            await import.EnsureStatusAsync(HttpStatusCode.Accepted);
        }

        await app.UploadAsync(tenant.Tokens.AccessToken, FaultFixture.Corpus(3, "otel"));
        await app.WaitForIngestionAsync(tenant.Tenant.Id, TimeSpan.FromMinutes(3));
        await app.WaitForExtractionAsync(tenant.Tenant.Id, TimeSpan.FromMinutes(3));
        var analyze = await client.PostAsync("api/knowledge/analyze", null);
        Assert.Equal(HttpStatusCode.Accepted, analyze.StatusCode);

        string[] spans =
        [
            "sync batch", "sync run", "ingestion batch", "ingest document", "prepare document", "embed chunks", "index document",
            "extraction batch", "extract document", "analysis batch", "knowledge analysis", "migrate database"
        ];
        var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        while (spans.Any(s => !app.Otlp.Exported(s, "worker")) && DateTimeOffset.UtcNow < deadline)
        {
            await Task.Delay(500);
        }

        var missing = spans.Where(s => !app.Otlp.Exported(s, "worker")).ToList();
        Assert.True(missing.Count == 0, $"spans not exported by the Worker: {string.Join(", ", missing)} ({app.Otlp.TraceExports} trace exports seen)");
        Assert.True(app.Otlp.Exported("POST", "api"), "the Api's request spans are exported too");
    }
}
