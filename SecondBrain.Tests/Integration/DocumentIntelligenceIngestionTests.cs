using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using SecondBrain.Core.Documents;
using SecondBrain.Core.Search;
using SecondBrain.Tests.Infrastructure;
using SecondBrain.Tests.Unit.Parsing;

namespace SecondBrain.Tests.Integration;

/// <summary>Scans uploaded through the Api are read by the Worker through Document Intelligence (the stand-in the AppHost was given).</summary>
[Collection(SecondBrainAppCollection.Name)]
public sealed class DocumentIntelligenceIngestionTests(SecondBrainAppFixture app)
{
    [Fact]
    public async Task An_uploaded_scan_is_ingested_with_the_recognised_text_searchable()
    {
        var tenant = await app.Api(0).SignupAsync();
        using var client = app.Api(1).CreateClient(tenant.Tokens.AccessToken);
        var pdf = AzureDocumentIntelligenceTests.ScannedPdf();
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(pdf);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        form.Add(file, "files", "inspection-scan.pdf");

        var upload = await client.PostAsync("api/documents", form);
        await upload.EnsureStatusAsync(HttpStatusCode.Accepted);
        var id = Assert.Single((await upload.Content.ReadFromJsonAsync<DocumentsAccepted>(ApiClient.Json))!.DocumentIds);

        var detail = await WaitForIngestionAsync(client, id);
        Assert.True(detail.Document.Status == DocumentStatuses.Ingested, $"status {detail.Document.Status}: {detail.Document.FailureReason}");
        Assert.True(detail.ChunkCount >= 1);
        Assert.Contains(app.DocumentIntelligence.AnalyzeRequests, r => r.Body.AsSpan().SequenceEqual(pdf));

        var search = await client.PostAsJsonAsync("api/search", new SearchRequest("Zanzibar erosion", SearchModes.Keyword));
        await search.EnsureStatusAsync(HttpStatusCode.OK);
        var hits = (await search.Content.ReadFromJsonAsync<SearchResponse>(ApiClient.Json))!.Hits;
        Assert.Contains(hits, h => h.DocumentId == id && h.Page is 1 or 2);
        Assert.DoesNotContain(hits, h => h.Text.Contains("Confidential", StringComparison.Ordinal));
    }

    private static async Task<DocumentDetail> WaitForIngestionAsync(HttpClient client, Guid id)
    {
        var deadline = DateTimeOffset.UtcNow.AddMinutes(2);
        while (true)
        {
            var detail = (await client.GetFromJsonAsync<DocumentDetail>($"api/documents/{id}", ApiClient.Json))!;
            if (detail.Document.Status != DocumentStatuses.Pending)
            {
                return detail;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, "timed out waiting for ingestion");
            await Task.Delay(200);
        }
    }
}
