using System.Net;
using System.Net.Http.Json;
using System.Text;
using SecondBrain.Core.Documents;
using SecondBrain.Core.Search;
using SecondBrain.Core.Search.Answers;
using SecondBrain.Tests.Infrastructure;

namespace SecondBrain.Tests.Integration;

/// <summary>
/// A held-out style check of extractive answers over a small corpus written the way teams write (a mail thread with
/// headers, quotes and signatures, a web page with its menu, a wiki page, an unrelated travel policy): each answer
/// holds the expected fact, quotes no header, signature or menu line and no sentence of an unrelated document; a
/// question nothing answers says so and lists the closest documents instead of citing them.
/// </summary>
[Collection(SecondBrainAppCollection.Name)]
public sealed class AnswerQualityTests(SecondBrainAppFixture app)
{
    private static readonly (string File, string Body)[] Corpus =
    [
        ("pricing-decision.eml", """
            From: Ana Lima <ana.lima@contoso.example>
            To: Sales <sales@contoso.example>
            Subject: Re: New starter plan pricing
            Date: Tue, 3 Mar 2026 09:12:00 +0000
            Message-ID: <pricing-2@contoso.example>
            Content-Type: text/plain; charset=utf-8

            Hi all,

            From April the starter plan costs 12 euros per seat per month, up from 9 euros.
            The enterprise plan stays at 30 euros per seat, with a minimum of 20 seats.

            Best regards,
            Ana Lima
            Head of Sales | Contoso
            +44 20 7946 0958

            On Mon, 2 Mar 2026 at 17:40, Tom Becker <tom.becker@contoso.example> wrote:
            > What will the starter plan cost after the change?
            """),
        ("travel-policy.md", """
            # Travel policy

            Hotels are booked through the travel desk, up to 150 euros per night in most cities and 220 euros in London.
            Economy class is the rule for flights under six hours.
            """),
        ("support-page.html", """
            <html><head><title>Support</title></head><body>
            <nav>Home | Pricing | Docs | Contact</nav>
            <h1>Support hours</h1>
            <p>Our support desk answers tickets from 8:00 to 18:00 CET on working days.</p>
            <p>Urgent incidents are handled around the clock by the on-call engineer.</p>
            <footer>© 2026 Contoso Ltd. All rights reserved.</footer>
            </body></html>
            """),
        ("database-decision.md", """
            # Orders database

            In January we moved the orders service from MongoDB to PostgreSQL, because orders and payments must change in one transaction.
            Priya Raman made the decision after the December outage.
            """)
    ];

    private static readonly (string Question, string Fact, string Source)[] Questions =
    [
        ("What is the new price of the starter plan per seat?", "12 euros per seat", "pricing-decision.eml"),
        ("When does the support desk answer tickets?", "8:00 to 18:00", "support-page.html"),
        ("How much can a hotel night cost in London?", "220 euros in London", "travel-policy.md"),
        ("Why did the orders service move to PostgreSQL?", "one transaction", "database-decision.md")
    ];

    [Fact]
    public async Task Extractive_answers_quote_the_fact_and_nothing_unrelated_and_say_so_when_nothing_answers()
    {
        var tenant = await app.Api(0).SignupAsync();
        using var client = app.Api(1).CreateClient(tenant.Tokens.AccessToken);
        using var form = new MultipartFormDataContent();
        foreach (var (file, body) in Corpus)
        {
            form.Add(new ByteArrayContent(Encoding.UTF8.GetBytes(body)), "files", file);
        }

        var upload = await client.PostAsync("api/documents", form);
        await upload.EnsureStatusAsync(HttpStatusCode.Accepted);
        var ids = (await upload.Content.ReadFromJsonAsync<DocumentsAccepted>(ApiClient.Json))!.DocumentIds;
        var byFile = Corpus.Select((c, i) => (c.File, Id: ids[i])).ToDictionary(x => x.File, x => x.Id);
        await WaitForIngestionAsync(client, ids);

        foreach (var (question, fact, source) in Questions)
        {
            var answer = await AskAsync(client, question);
            Assert.Equal(AnswerModes.Extractive, answer.Mode);
            Assert.Contains(fact, answer.Answer);
            Assert.NotEmpty(answer.Citations);
            Assert.All(answer.Citations, c => Assert.Equal(byFile[source], c.DocumentId)); // nothing from an unrelated document
            foreach (var noise in new[] { "From:", "Subject:", "Best regards", "+44", "wrote:", "Home | Pricing", "All rights reserved", "> What" })
            {
                Assert.DoesNotContain(noise, answer.Answer);
            }

            var cited = answer.Citations[0];
            Assert.False(string.IsNullOrEmpty(cited.Quote));
            Assert.Equal($"/api/documents/{cited.DocumentId}/content", cited.ContentUrl);
        }

        var none = await AskAsync(client, "What is the parental leave policy for contractors in Japan?");
        Assert.Equal(AnswerModes.NoAnswer, none.Mode);
        Assert.Empty(none.Citations);
        Assert.StartsWith("Nothing in this knowledge base answers that", none.Answer);
        Assert.NotNull(none.Related);
        Assert.NotEmpty(none.Related!);
    }

    [Fact]
    public async Task A_citation_opens_its_document_with_the_passage_located_and_the_original_cannot_run_in_our_origin()
    {
        var tenant = await app.Api(0).SignupAsync();
        using var client = app.Api(2).CreateClient(tenant.Tokens.AccessToken);
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(Encoding.UTF8.GetBytes(Corpus[2].Body.Replace("</body>", "<script>fetch('/api/auth/me')</script></body>"))), "files", "support-page.html");
        var upload = await client.PostAsync("api/documents", form);
        var id = (await upload.Content.ReadFromJsonAsync<DocumentsAccepted>(ApiClient.Json))!.DocumentIds[0];
        await WaitForIngestionAsync(client, [id]);

        var answer = await AskAsync(client, "When does the support desk answer tickets?");
        var citation = answer.Citations[0];
        using var other = app.Api(0).CreateClient(tenant.Tokens.AccessToken);
        var content = (await other.GetFromJsonAsync<DocumentContent>(citation.ContentUrl!.TrimStart('/'), ApiClient.Json))!;
        var span = content.Chunks.Single(c => c.ChunkId == citation.ChunkId);
        Assert.NotNull(span.Start);
        var passage = content.Text[span.Start!.Value..span.End!.Value];
        Assert.Contains(citation.Quote!, passage);
        Assert.DoesNotContain("<script>", content.Text);

        var original = await other.GetAsync($"api/documents/{id}/original");
        await original.EnsureStatusAsync(HttpStatusCode.OK);
        Assert.Equal("nosniff", original.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Contains("sandbox", original.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("attachment", original.Content.Headers.ContentDisposition!.DispositionType);
        Assert.Contains("<script>", await original.Content.ReadAsStringAsync()); // the file as stored, served inert

        // Another tenant opens nothing.
        var stranger = await app.Api(1).SignupAsync();
        using var strangerClient = app.Api(1).CreateClient(stranger.Tokens.AccessToken);
        Assert.Equal(HttpStatusCode.NotFound, (await strangerClient.GetAsync($"api/documents/{id}/content")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await strangerClient.GetAsync($"api/documents/{id}/original")).StatusCode);
    }

    private static async Task<AskResponse> AskAsync(HttpClient client, string question)
    {
        var response = await client.PostAsJsonAsync("api/ask", new AskRequest(question));
        await response.EnsureStatusAsync(HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<AskResponse>(ApiClient.Json))!;
    }

    private static async Task WaitForIngestionAsync(HttpClient client, IReadOnlyList<Guid> ids)
    {
        var deadline = DateTimeOffset.UtcNow.AddMinutes(4);
        foreach (var id in ids)
        {
            while ((await client.GetFromJsonAsync<DocumentDetail>($"api/documents/{id}", ApiClient.Json))!.Document.Status == DocumentStatuses.Pending)
            {
                Assert.True(DateTimeOffset.UtcNow < deadline, "ingestion timed out");
                await Task.Delay(200);
            }
        }
    }
}
