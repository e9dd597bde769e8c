using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Npgsql;
using SecondBrain.Core.Documents;
using SecondBrain.Tests.Infrastructure;

namespace SecondBrain.Tests.Integration;

/// <summary>
/// The Worker's extraction after ingestion: mentions resolved to entities (header people by address), frames with
/// missing slots, claims and relation evidence stored per document, and all of it gone with the document.
/// </summary>
[Collection(SecondBrainAppCollection.Name)]
public sealed class KnowledgeExtractionTests(SecondBrainAppFixture app)
{
    [Fact]
    public async Task Ingested_documents_are_extracted_into_the_graph_and_removed_with_the_document()
    {
        var tenant = await app.Api(0).SignupAsync();
        using var client = app.Api(1).CreateClient(tenant.Tokens.AccessToken);
        var mail = "From: Priya Raman <priya@northwind.example>\r\nTo: Tom Becker <tom@northwind.example>\r\nSubject: Billing ownership\r\n" +
                   "Date: Mon, 2 Jun 2025 10:00:00 +0000\r\nMessage-ID: <billing-1@northwind.example>\r\n\r\n" +
                   "Hi Tom,\r\n\r\nTom Becker owns the Billing pipeline.\r\nWe decided to retire the legacy reporting API.\r\n" +
                   "The SLA for enterprise customers is 99.9%.\r\n\r\nPriya\r\n";
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(mail));
        file.Headers.ContentType = new MediaTypeHeaderValue("message/rfc822");
        form.Add(file, "files", "billing.eml");
        var upload = await client.PostAsync("api/documents", form);
        await upload.EnsureStatusAsync(HttpStatusCode.Accepted);
        var documentId = (await upload.Content.ReadFromJsonAsync<DocumentsAccepted>(ApiClient.Json))!.DocumentIds.Single();

        await WaitUntilAsync(async () => await ScalarAsync<long>(
            "SELECT count(*) FROM document_knowledge WHERE tenant_id = @t AND status = 'extracted'", tenant.Tenant.Id) == 1);

        Assert.Equal("priya@northwind.example", await ScalarAsync<string>(
            "SELECT e.email FROM knowledge_entities e JOIN knowledge_aliases a ON a.entity_id = e.id WHERE e.tenant_id = @t AND e.type = 'person' AND a.key = 'priya raman'", tenant.Tenant.Id));
        Assert.Equal(1L, await ScalarAsync<long>(
            "SELECT count(*) FROM knowledge_frames WHERE tenant_id = @t AND type = 'decision' AND 'rationale' = ANY(missing_slots)", tenant.Tenant.Id));
        Assert.True(await ScalarAsync<long>(
            "SELECT count(*) FROM knowledge_claims WHERE tenant_id = @t AND value_key LIKE '99.9%'", tenant.Tenant.Id) >= 1);
        Assert.Equal(1L, await ScalarAsync<long>("""
            SELECT count(*) FROM knowledge_relations r
              JOIN knowledge_aliases s ON s.entity_id = r.source_entity_id AND s.key = 'tom becker'
             WHERE r.tenant_id = @t AND r.type = 'owns'
            """, tenant.Tenant.Id));

        await (await client.DeleteAsync($"api/documents/{documentId}")).EnsureStatusAsync(HttpStatusCode.NoContent);
        await WaitUntilAsync(async () => await ScalarAsync<long>("""
            SELECT (SELECT count(*) FROM knowledge_mentions WHERE tenant_id = @t) + (SELECT count(*) FROM knowledge_frames WHERE tenant_id = @t)
                 + (SELECT count(*) FROM knowledge_claims WHERE tenant_id = @t) + (SELECT count(*) FROM knowledge_relations WHERE tenant_id = @t)
                 + (SELECT count(*) FROM document_knowledge WHERE tenant_id = @t)
            """, tenant.Tenant.Id) == 0);
    }

    private async Task<T> ScalarAsync<T>(string sql, Guid tenantId)
    {
        await using var connection = new NpgsqlConnection(app.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("t", tenantId);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for extraction");
            await Task.Delay(250);
        }
    }
}
