using SecondBrain.Core.Knowledge.Gaps;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SecondBrain.Core.Common;
using SecondBrain.Core.Conversations;
using SecondBrain.Core.Documents;
using SecondBrain.Core.Feedback;
using SecondBrain.Core.Search;
using SecondBrain.Core.Search.Answers;
using SecondBrain.Tests.Infrastructure;

namespace SecondBrain.Tests.Integration;

/// <summary>
/// Conversations without a language model, across replicas: stored in Postgres, private to their user, follow-ups
/// answered in context by the deterministic rewrite, streamed over SSE, rated, and counted in the usage report.
/// </summary>
[Collection(SecondBrainAppCollection.Name)]
public sealed class ConversationsTests(SecondBrainAppFixture app)
{
    private static readonly (string Title, string Text)[] Corpus =
    [
        ("Pricing change 2026", "From April the starter plan costs 12 euros per seat per month. The enterprise plan costs 30 euros per seat per month, with at least 20 seats. Ana Lima decided the new prices after the board meeting in February."),
        ("Orders database", "We moved the orders service from MongoDB to PostgreSQL in January because orders and payments must change in one transaction. Priya Raman decided the move after the December outage."),
        ("Travel policy", "Hotels are booked through the travel desk, up to 150 euros per night, and 220 euros in London.")
    ];

    [Fact]
    public async Task A_conversation_answers_follow_ups_in_context_on_any_replica_and_stays_private()
    {
        var tenant = await app.Api(0).SignupAsync();
        await SeedAsync(tenant.Tokens.AccessToken);

        using var onA = app.Api(0).CreateClient(tenant.Tokens.AccessToken);
        using var onB = app.Api(1).CreateClient(tenant.Tokens.AccessToken);
        using var onC = app.Api(2).CreateClient(tenant.Tokens.AccessToken);
        var created = await onA.PostAsJsonAsync("api/conversations", new CreateConversationRequest(null));
        await created.EnsureStatusAsync(HttpStatusCode.Created);
        var conversation = (await created.Content.ReadFromJsonAsync<ConversationSummary>(ApiClient.Json))!;

        var first = await SendAsync(onB, conversation.Id, "What does the starter plan cost per seat?");
        Assert.Contains("12 euros per seat", first.Answer.Content);
        Assert.Equal(AnswerModes.Extractive, first.Answer.Mode);

        // "what about X": the enterprise plan takes the starter plan's place in the question.
        var second = await SendAsync(onC, conversation.Id, "what about the enterprise plan?");
        Assert.Contains("enterprise plan", second.Question.RewrittenQuestion);
        Assert.Contains("30 euros per seat", second.Answer.Content);

        // A pronoun: "that" is the previous question's subject.
        var third = await SendAsync(onA, conversation.Id, "and who decided that?");
        Assert.Contains("Ana Lima", third.Answer.Content);

        var detail = (await onB.GetFromJsonAsync<ConversationDetail>($"api/conversations/{conversation.Id}", ApiClient.Json))!;
        Assert.Equal(6, detail.Messages.Count);
        Assert.Equal("What does the starter plan cost per seat?", detail.Conversation.Title);
        Assert.All(detail.Messages.Where(m => m.Role == MessageRoles.Assistant), m =>
        {
            Assert.Equal(MessageStatuses.Complete, m.Status);
            Assert.NotEmpty(m.Citations);
            Assert.NotNull(m.AnswerId);
        });

        // Private to its user: a colleague in the same tenant sees nothing, another tenant neither.
        var colleague = await AddColleagueAsync(tenant.Tokens.AccessToken);
        using var asColleague = app.Api(2).CreateClient(colleague);
        Assert.Equal(HttpStatusCode.NotFound, (await asColleague.GetAsync($"api/conversations/{conversation.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await asColleague.PostAsJsonAsync($"api/conversations/{conversation.Id}/messages", new SendMessageRequest("hi there"))).StatusCode);
        Assert.Equal(0, (await asColleague.GetFromJsonAsync<PagedResult<ConversationSummary>>("api/conversations", ApiClient.Json))!.Total);

        // Rename, pin, archive, search, delete, from other replicas.
        var renamed = await onC.PatchAsJsonAsync($"api/conversations/{conversation.Id}", new UpdateConversationRequest("Pricing questions", true, null));
        await renamed.EnsureStatusAsync(HttpStatusCode.OK);
        var other = (await (await onA.PostAsJsonAsync("api/conversations", new CreateConversationRequest("Travel"))).Content.ReadFromJsonAsync<ConversationSummary>(ApiClient.Json))!;
        var list = (await onB.GetFromJsonAsync<PagedResult<ConversationSummary>>("api/conversations?pageSize=10", ApiClient.Json))!;
        Assert.Equal(conversation.Id, list.Items[0].Id); // pinned first
        Assert.Equal(other.Id, Assert.Single((await onB.GetFromJsonAsync<PagedResult<ConversationSummary>>("api/conversations?search=trav", ApiClient.Json))!.Items).Id);
        await (await onA.PatchAsJsonAsync($"api/conversations/{other.Id}", new UpdateConversationRequest(null, null, true))).EnsureStatusAsync(HttpStatusCode.OK);
        Assert.Single((await onC.GetFromJsonAsync<PagedResult<ConversationSummary>>("api/conversations?archived=true", ApiClient.Json))!.Items);
        Assert.Equal(HttpStatusCode.NoContent, (await onC.DeleteAsync($"api/conversations/{other.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await onA.GetAsync($"api/conversations/{other.Id}")).StatusCode);
    }

    [Fact]
    public async Task An_answer_streams_over_sse_and_any_replica_can_follow_it_and_rate_it()
    {
        var tenant = await app.Api(0).SignupAsync();
        await SeedAsync(tenant.Tokens.AccessToken);
        using var onA = app.Api(0).CreateClient(tenant.Tokens.AccessToken);
        var conversation = (await (await onA.PostAsJsonAsync("api/conversations", new CreateConversationRequest("Databases"))).Content.ReadFromJsonAsync<ConversationSummary>(ApiClient.Json))!;

        using var onB = app.Api(1).CreateClient(tenant.Tokens.AccessToken);
        var events = await StreamAsync(onB, $"api/conversations/{conversation.Id}/messages", new SendMessageRequest("Why did the orders service move to PostgreSQL?"));
        Assert.Equal(["question", "citations", "delta", "done"], events.Select(e => e.Name).Distinct().ToList());
        var done = events.Single(e => e.Name == "done").Data.Deserialize<MessageResponse>(ApiClient.Json)!;
        Assert.Contains("one transaction", done.Content);
        var answerMessageId = events.Single(e => e.Name == "question").Data.GetProperty("answerMessageId").GetGuid();
        Assert.Equal(answerMessageId, done.Id);

        // Another replica replays the finished answer from the row.
        using var onC = app.Api(2).CreateClient(tenant.Tokens.AccessToken);
        var followed = await StreamAsync(onC, $"api/conversations/{conversation.Id}/messages/{done.Id}/events", null);
        Assert.Equal(done.Content, string.Concat(followed.Where(e => e.Name == "delta").Select(e => e.Data.GetProperty("text").GetString())));
        Assert.Equal("done", followed[^1].Name);

        // Feedback on the answer, then on a stateless ask; both show in the usage report.
        var rated = await onC.PostAsJsonAsync($"api/answers/{done.AnswerId}/feedback", new AnswerFeedbackRequest("down", "It should name the outage."));
        await rated.EnsureStatusAsync(HttpStatusCode.OK);
        var ask = (await (await onA.PostAsJsonAsync("api/ask", new AskRequest("What does the starter plan cost per seat?"))).Content.ReadFromJsonAsync<AskResponse>(ApiClient.Json))!;
        await (await onB.PostAsJsonAsync($"api/answers/{ask.Id}/feedback", new AnswerFeedbackRequest("up", null))).EnsureStatusAsync(HttpStatusCode.OK);
        await (await onB.PostAsJsonAsync($"api/answers/{ask.Id}/feedback", new AnswerFeedbackRequest("sideways", null))).AssertProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        await (await onB.PostAsJsonAsync($"api/answers/{Guid.NewGuid()}/feedback", new AnswerFeedbackRequest("up", null))).AssertProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await onA.PostAsJsonAsync("api/ask", new AskRequest("What is the parental leave policy for contractors in Japan?"))).EnsureStatusAsync(HttpStatusCode.OK);

        var usage = (await onA.GetFromJsonAsync<UsageResponse>("api/admin/usage?days=7", ApiClient.Json))!;
        Assert.Equal(3, usage.Questions);
        Assert.Equal(1, usage.Answers.Positive);
        Assert.Equal(1, usage.Answers.Negative);
        Assert.Contains(usage.Unanswered, q => q.Question.Contains("parental leave", StringComparison.Ordinal));
        Assert.Equal(3, usage.PerDay.Sum(d => d.Questions));
        var stats = (await onB.GetFromJsonAsync<KnowledgeStatsResponse>("api/knowledge/stats", ApiClient.Json))!;
        Assert.Equal((1, 1), (stats.Feedback.AnswersUp, stats.Feedback.AnswersDown));

        var colleague = await AddColleagueAsync(tenant.Tokens.AccessToken);
        using var asMember = app.Api(1).CreateClient(colleague);
        Assert.Equal(HttpStatusCode.Forbidden, (await asMember.GetAsync("api/admin/usage")).StatusCode);
    }

    private async Task SeedAsync(string token)
    {
        using var client = app.Api(0).CreateClient(token);
        var ids = new List<Guid>();
        foreach (var (title, text) in Corpus)
        {
            var response = await client.PostAsJsonAsync("api/documents", new TextDocumentRequest(title, text, "Ops", null));
            ids.AddRange((await response.Content.ReadFromJsonAsync<DocumentsAccepted>(ApiClient.Json))!.DocumentIds);
        }

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

    private async Task<string> AddColleagueAsync(string adminToken)
    {
        using var admin = app.Api(0).CreateClient(adminToken);
        var email = ApiClient.UniqueEmail("colleague");
        var added = await admin.PostAsJsonAsync("api/users", new { email, password = "correct-horse-battery", displayName = "Colleague", role = "member" });
        Assert.True(added.IsSuccessStatusCode, await added.Content.ReadAsStringAsync());
        var login = await app.Api(1).LoginAsync(email, "correct-horse-battery");
        return (await login.Content.ReadFromJsonAsync<JsonElement>(ApiClient.Json)).GetProperty("accessToken").GetString()!;
    }

    private static async Task<ExchangeResponse> SendAsync(HttpClient client, Guid conversationId, string question)
    {
        var response = await client.PostAsJsonAsync($"api/conversations/{conversationId}/messages", new SendMessageRequest(question));
        await response.EnsureStatusAsync(HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<ExchangeResponse>(ApiClient.Json))!;
    }

    internal static async Task<List<(string Name, JsonElement Data)>> StreamAsync(HttpClient client, string path, object? body)
    {
        using var request = new HttpRequestMessage(body is null ? HttpMethod.Get : HttpMethod.Post, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: ApiClient.Json);
        }

        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await response.EnsureStatusAsync(HttpStatusCode.OK);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = new List<(string, JsonElement)>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        string? name = null;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && name is not null)
            {
                events.Add((name, JsonDocument.Parse(line[6..]).RootElement.Clone()));
            }
        }

        return events;
    }
}
