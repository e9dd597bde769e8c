using System.Net;
using Microsoft.AspNetCore.Builder;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using SecondBrain.Core.Common;
using SecondBrain.Core.Documents;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Search;
using SecondBrain.Tests.Infrastructure;

namespace SecondBrain.Tests.Integration;

[Collection(SecondBrainAppCollection.Name)]
public sealed class SearchAndDocumentsTests(SecondBrainAppFixture app)
{
    private static readonly (string Title, string Text)[] Corpus =
    [
        ("Release process", "We ship the web app every second Tuesday. The release manager is Priya Nair. QA signs off the regression suite on staging before the canary starts at 5% of traffic."),
        ("Database decision", "We moved the orders service from MongoDB to PostgreSQL because we need transactions across orders and payments."),
        ("Refund policy", "Refunds reach the customer's card within 5 to 10 business days. Upgrades apply at once and are prorated."),
        ("Checkout postmortem", "A configuration change raised the payment timeout to 60 seconds and checkout ran out of threads for 47 minutes.")
    ];

    [Fact]
    public async Task Documents_are_ingested_searchable_answerable_and_isolated_per_tenant()
    {
        var tenantA = await app.Api(0).SignupAsync();
        var tenantB = await app.Api(1).SignupAsync();
        var ids = new List<Guid>();
        using (var clientA = app.Api(0).CreateClient(tenantA.Tokens.AccessToken))
        {
            foreach (var (title, text) in Corpus)
            {
                var response = await clientA.PostAsJsonAsync("api/documents", new TextDocumentRequest(title, text, "Ops team", null));
                await response.EnsureStatusAsync(HttpStatusCode.Accepted);
                ids.AddRange((await response.Content.ReadFromJsonAsync<DocumentsAccepted>(ApiClient.Json))!.DocumentIds);
            }

            // A file upload with several files, one of them unreadable.
            using var form = new MultipartFormDataContent();
            form.Add(new ByteArrayContent("# Onboarding\n\nNew engineers get a buddy and ship a bug fix in week one."u8.ToArray()), "files", "onboarding.md");
            form.Add(new ByteArrayContent([0x50, 0x4B, 0x03, 0x04, 1, 2, 3]), "files", "broken.docx");
            var upload = await clientA.PostAsync("api/documents", form);
            await upload.EnsureStatusAsync(HttpStatusCode.Accepted);
            ids.AddRange((await upload.Content.ReadFromJsonAsync<DocumentsAccepted>(ApiClient.Json))!.DocumentIds);
        }

        await WaitForIngestionAsync(tenantA.Tokens.AccessToken, ids);

        using var onB = app.Api(1).CreateClient(tenantA.Tokens.AccessToken);
        var all = (await onB.GetFromJsonAsync<PagedResult<DocumentSummary>>("api/documents?pageSize=100", ApiClient.Json))!;
        Assert.Equal(ids.Count, all.Total);
        var broken = all.Items.Single(d => d.Title == "broken.docx");
        Assert.Equal(DocumentStatuses.Failed, broken.Status);
        Assert.False(string.IsNullOrWhiteSpace(broken.FailureReason));
        var detail = (await onB.GetFromJsonAsync<DocumentDetail>($"api/documents/{ids[0]}", ApiClient.Json))!;
        Assert.Equal(DocumentStatuses.Ingested, detail.Document.Status);
        Assert.True(detail.ChunkCount >= 1);

        foreach (var mode in new[] { "hybrid", "dense", "keyword" })
        {
            var found = await SearchAsync(onB, new SearchRequest("Which database holds orders and why?", mode));
            Assert.True(found.Hits.Count > 0, $"{mode} found nothing");
            Assert.Equal("Database decision", found.Hits[0].Title);
        }

        var keyword = await SearchAsync(onB, new SearchRequest("refunds card", "keyword"));
        Assert.Contains("<mark>", keyword.Hits[0].Highlight);

        var ask = await onB.PostAsJsonAsync("api/ask", new AskRequest("How long do refunds take?"));
        await ask.EnsureStatusAsync(HttpStatusCode.OK);
        var answer = (await ask.Content.ReadFromJsonAsync<AskResponse>(ApiClient.Json))!;
        Assert.Equal("extractive", answer.Mode);
        Assert.Contains("[1]", answer.Answer);
        Assert.Contains("10 business days", answer.Answer);
        Assert.Equal("Refund policy", answer.Citations[0].Title);

        // The same question again (another replica) comes from the per-tenant answer cache.
        using var onC = app.Api(2).CreateClient(tenantA.Tokens.AccessToken);
        var again = (await (await onC.PostAsJsonAsync("api/ask", new AskRequest("How long do refunds take?"))).Content.ReadFromJsonAsync<AskResponse>(ApiClient.Json))!;
        Assert.True(again.Cached);

        // Tenant B sees none of it: search, ask and documents.
        using var asB = app.Api(2).CreateClient(tenantB.Tokens.AccessToken);
        foreach (var mode in new[] { "hybrid", "dense", "keyword" })
        {
            Assert.Empty((await SearchAsync(asB, new SearchRequest("database orders refunds release", mode))).Hits);
        }

        var bAnswer = (await (await asB.PostAsJsonAsync("api/ask", new AskRequest("How long do refunds take?"))).Content.ReadFromJsonAsync<AskResponse>(ApiClient.Json))!;
        Assert.Empty(bAnswer.Citations);
        await (await asB.GetAsync($"api/documents/{ids[0]}")).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
        await (await asB.DeleteAsync($"api/documents/{ids[0]}")).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
        Assert.Equal(0, (await asB.GetFromJsonAsync<PagedResult<DocumentSummary>>("api/documents", ApiClient.Json))!.Total);

        // Deleting a document removes it from search, and the cached answer is not served any more.
        await (await onB.DeleteAsync($"api/documents/{ids[2]}")).EnsureStatusAsync(HttpStatusCode.NoContent);
        await WaitUntilAsync(async () => (await SearchAsync(onB, new SearchRequest("refunds card business days", "keyword"))).Hits.All(h => h.DocumentId != ids[2]));
        var afterDelete = (await (await onC.PostAsJsonAsync("api/ask", new AskRequest("How long do refunds take?"))).Content.ReadFromJsonAsync<AskResponse>(ApiClient.Json))!;
        Assert.False(afterDelete.Cached);
        Assert.DoesNotContain(afterDelete.Citations, c => c.DocumentId == ids[2]);
    }

    [Fact]
    public async Task Ask_streams_citations_and_the_answer_as_server_sent_events()
    {
        var tenant = await app.Api(0).SignupAsync();
        using var client = app.Api(1).CreateClient(tenant.Tokens.AccessToken);
        var added = await client.PostAsJsonAsync("api/documents", new TextDocumentRequest("Release process", Corpus[0].Text, null, null));
        await WaitForIngestionAsync(tenant.Tokens.AccessToken, (await added.Content.ReadFromJsonAsync<DocumentsAccepted>(ApiClient.Json))!.DocumentIds);

        using var request = new HttpRequestMessage(HttpMethod.Post, "api/ask") { Content = JsonContent.Create(new AskRequest("Who is the release manager?")) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await response.EnsureStatusAsync(HttpStatusCode.OK);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("event: citations", body);
        Assert.Contains("event: delta", body);
        Assert.Contains("event: done", body);
        Assert.Contains("Priya Nair", body);
    }

    [Fact]
    public async Task Keyword_search_ranks_by_bm25_filters_and_forgets_deleted_chunks()
    {
        var tenant = await app.Api(0).SignupAsync();
        using var client = app.Api(1).CreateClient(tenant.Tokens.AccessToken);
        (string Title, string Text, string Author)[] documents =
        [
            ("Weekly meeting", "The meeting covered the meeting agenda, the meeting notes and the next meeting with the team.", "Ana"),
            ("Lab note", "The zebrafish assay finished early, so the meeting moved.", "Ben"),
            ("Planning", "Planning meeting for the quarter: hiring, budget and the roadmap meeting.", "Ana"),
            ("Retro", "In the retro meeting the team agreed to shorten the standup meeting.", "Ben"),
            ("Zebrafish husbandry", "Zebrafish tanks are cleaned on Fridays by the lab technician.", "Ana"),
        ];
        var ids = new List<Guid>();
        foreach (var (title, text, author) in documents)
        {
            var response = await client.PostAsJsonAsync("api/documents", new TextDocumentRequest(title, text, author, null));
            await response.EnsureStatusAsync(HttpStatusCode.Accepted);
            ids.AddRange((await response.Content.ReadFromJsonAsync<DocumentsAccepted>(ApiClient.Json))!.DocumentIds);
        }

        await WaitForIngestionAsync(tenant.Tokens.AccessToken, ids);

        // "meeting" is in four of five chunks and "zebrafish" in two: a rare word outweighs a common word repeated,
        // where a frequency-only rank would put the meeting notes first.
        var found = await SearchAsync(client, new SearchRequest("zebrafish meeting", "keyword"));
        Assert.Equal("Lab note", found.Hits[0].Title);
        Assert.Equal(5, found.Hits.Count);
        Assert.True(found.Hits.Zip(found.Hits.Skip(1)).All(p => p.First.Score >= p.Second.Score));

        var byAna = await SearchAsync(client, new SearchRequest("zebrafish meeting", "keyword", Author: "ana"));
        Assert.Equal("Zebrafish husbandry", byAna.Hits[0].Title);
        Assert.All(byAna.Hits, h => Assert.Equal("Ana", h.Author));

        // Deleting a document deletes its postings with its chunks, and its word is no longer found.
        await (await client.DeleteAsync($"api/documents/{ids[4]}")).EnsureStatusAsync(HttpStatusCode.NoContent);
        await WaitUntilAsync(async () => (await SearchAsync(client, new SearchRequest("husbandry tanks", "keyword"))).Hits.Count == 0);
        await using var connection = new Npgsql.NpgsqlConnection(app.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var orphans = new Npgsql.NpgsqlCommand(
            "SELECT count(*) FROM chunk_terms p WHERE p.tenant_id = @t AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.id = p.chunk_id AND c.tenant_id = @t)", connection);
        orphans.Parameters.AddWithValue("t", tenant.Tenant.Id);
        Assert.Equal(0L, (long)(await orphans.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task The_glossary_expands_keyword_queries()
    {
        var tenant = await app.Api(0).SignupAsync();
        using var client = app.Api(2).CreateClient(tenant.Tokens.AccessToken);
        var added = await client.PostAsJsonAsync("api/documents", new TextDocumentRequest("Project Falcon", "The falcon migration moves invoices to the new ledger.", null, null));
        await WaitForIngestionAsync(tenant.Tokens.AccessToken, (await added.Content.ReadFromJsonAsync<DocumentsAccepted>(ApiClient.Json))!.DocumentIds);

        Assert.Empty((await SearchAsync(client, new SearchRequest("PF status", "keyword"))).Hits);
        await (await client.PutAsJsonAsync("api/glossary", new GlossaryEntryRequest("PF", ["falcon"]))).EnsureStatusAsync(HttpStatusCode.OK);
        var expanded = await SearchAsync(client, new SearchRequest("PF status", "keyword"));
        Assert.Contains("falcon", expanded.Expansions);
        Assert.Equal("Project Falcon", Assert.Single(expanded.Hits).Title);
    }

    [Fact]
    public async Task A_parsing_settings_change_through_one_replica_is_in_force_everywhere_for_the_next_document()
    {
        var tenant = await app.Api(0).SignupAsync();
        using var onA = app.Api(0).CreateClient(tenant.Tokens.AccessToken);
        using var onB = app.Api(1).CreateClient(tenant.Tokens.AccessToken);
        var defaults = (await onB.GetFromJsonAsync<SecondBrain.Core.Ingestion.ParsingSettings>("api/admin/settings/parsing", ApiClient.Json))!;
        Assert.Equal(0, defaults.Version);
        Assert.True(defaults.IncludeEmailQuotes);

        var put = await onA.PutAsJsonAsync("api/admin/settings/parsing", defaults with { IncludeEmailQuotes = false });
        await put.EnsureStatusAsync(HttpStatusCode.OK);
        var stored = (await onB.GetFromJsonAsync<SecondBrain.Core.Ingestion.ParsingSettings>("api/admin/settings/parsing", ApiClient.Json))!;
        Assert.Equal(1, stored.Version);
        Assert.False(stored.IncludeEmailQuotes);

        var mail = "From: Ann <ann@example.test>\r\nTo: team@example.test\r\nSubject: Vendor choice\r\nDate: Mon, 2 Jun 2025 10:00:00 +0000\r\n\r\n" +
                   "We picked Zephyrcloud for hosting.\r\n\r\nOn Fri, Bob wrote:\r\n> Should we consider Quokkahost instead?\r\n> It was cheaper last year.\r\n";
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(mail));
        file.Headers.ContentType = new MediaTypeHeaderValue("message/rfc822");
        form.Add(file, "files", "vendor.eml");
        var upload = await onB.PostAsync("api/documents", form);
        await upload.EnsureStatusAsync(HttpStatusCode.Accepted);
        await WaitForIngestionAsync(tenant.Tokens.AccessToken, (await upload.Content.ReadFromJsonAsync<DocumentsAccepted>(ApiClient.Json))!.DocumentIds);

        Assert.NotEmpty((await SearchAsync(onA, new SearchRequest("Zephyrcloud", "keyword"))).Hits);
        Assert.Empty((await SearchAsync(onA, new SearchRequest("Quokkahost", "keyword"))).Hits);

        var invalid = await onA.PutAsJsonAsync("api/admin/settings/parsing", defaults with { Timeout = TimeSpan.Zero });
        await invalid.AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
    }

    [Fact]
    public async Task Bad_document_and_search_requests_get_clear_errors()
    {
        var tenant = await app.Api(0).SignupAsync();
        using var client = app.Api(1).CreateClient(tenant.Tokens.AccessToken);
        await (await client.PostAsJsonAsync("api/documents", new TextDocumentRequest("", "", null, null))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        await (await client.PostAsync("api/documents", new StringContent("x", Encoding.UTF8, "text/plain"))).AssertProblemAsync(HttpStatusCode.UnsupportedMediaType, ProblemCodes.UnsupportedMediaType);
        await (await client.PostAsJsonAsync("api/search", new SearchRequest("", "hybrid"))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        await (await client.PostAsJsonAsync("api/search", new SearchRequest("x", "fuzzy"))).AssertProblemAsync(HttpStatusCode.BadRequest, ProblemCodes.ValidationFailed);
        await (await client.GetAsync($"api/documents/{Guid.NewGuid()}")).AssertProblemAsync(HttpStatusCode.NotFound, ProblemCodes.NotFound);
    }

    private static async Task<SearchResponse> SearchAsync(HttpClient client, SearchRequest request)
    {
        var response = await client.PostAsJsonAsync("api/search", request);
        await response.EnsureStatusAsync(HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<SearchResponse>(ApiClient.Json))!;
    }

    [Fact]
    public async Task An_uploaded_email_keeps_its_headers_and_an_uploaded_chat_export_becomes_threads_with_authors()
    {
        var tenant = await app.Api(0).SignupAsync();
        using var client = app.Api(1).CreateClient(tenant.Tokens.AccessToken);
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(Encoding.UTF8.GetBytes("""
            From: Ingrid Solberg <ingrid@clinic.example>
            To: Ops <ops@clinic.example>
            Subject: Backup restore test moved
            Date: Tue, 10 Mar 2026 08:30:00 +0000
            Message-ID: <restore@clinic.example>
            Content-Type: text/plain; charset=utf-8

            The quarterly restore test moves to Thursday.
            """)), "files", "forwarded-mail.eml");
        form.Add(new ByteArrayContent(Encoding.UTF8.GetBytes("""
            [
              {"user": "Arjun Patel", "ts": "1767600000.000100", "text": "Who switches the weekend phone message?", "thread_ts": "1767600000.000100", "reply_count": 1},
              {"user": "Mei Tanaka", "ts": "1767600300.000200", "text": "I do, every Friday at five.", "thread_ts": "1767600000.000100"},
              {"user": "Arjun Patel", "ts": "1767686400.000300", "text": "Printer on floor two is jammed again."}
            ]
            """)), "files", "it-helpdesk.json");
        var response = await client.PostAsync("api/documents", form);
        await response.EnsureStatusAsync(HttpStatusCode.Accepted);
        var ids = (await response.Content.ReadFromJsonAsync<DocumentsAccepted>(ApiClient.Json))!.DocumentIds;
        Assert.Equal(3, ids.Count); // the mail, and the chat's two threads
        await WaitForIngestionAsync(tenant.Tokens.AccessToken, ids);

        var documents = (await client.GetFromJsonAsync<PagedResult<DocumentSummary>>("api/documents?pageSize=10", ApiClient.Json))!.Items;
        var mail = documents.Single(d => d.Id == ids[0]);
        Assert.Equal("Backup restore test moved", mail.Title);
        Assert.Contains("Ingrid Solberg", mail.Author);
        Assert.Equal(new DateTimeOffset(2026, 3, 10, 8, 30, 0, TimeSpan.Zero), mail.Date);
        Assert.Equal(DocumentStatuses.Ingested, mail.Status);

        var thread = documents.Single(d => d.Id == ids[1]);
        Assert.Equal("text/x-slack-thread", thread.ContentType);
        Assert.Equal("Arjun Patel", thread.Author);
        Assert.Equal(1767600000, thread.Date!.Value.ToUnixTimeSeconds());
        var detail = (await client.GetFromJsonAsync<DocumentDetail>($"api/documents/{ids[1]}", ApiClient.Json))!;
        Assert.Equal("1767600000.000100", detail.Metadata["threadTs"]);
        Assert.Equal("1", detail.Metadata["replyCount"]);

        // The reply is part of its question's document, spoken by its author.
        var found = await SearchAsync(client, new SearchRequest("weekend phone message", "keyword"));
        Assert.Contains(found.Hits, h => h.DocumentId == ids[1] && h.Text.Contains("Mei Tanaka: I do, every Friday at five.", StringComparison.Ordinal));
    }

    private async Task WaitForIngestionAsync(string accessToken, IReadOnlyList<Guid> ids)
    {
        using var client = app.Api(0).CreateClient(accessToken);
        await WaitUntilAsync(async () =>
        {
            foreach (var id in ids)
            {
                var d = (await client.GetFromJsonAsync<DocumentDetail>($"api/documents/{id}", ApiClient.Json))!;
                if (d.Document.Status == DocumentStatuses.Pending)
                {
                    return false;
                }
            }

            return true;
        });
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTimeOffset.UtcNow.AddMinutes(4);
        while (!await condition())
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "timed out waiting");
            await Task.Delay(200);
        }
    }
}
