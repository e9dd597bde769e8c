using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SecondBrain.Core.Conversations;
using SecondBrain.Core.Documents;
using SecondBrain.Core.Search;
using SecondBrain.Core.Search.Answers;
using SecondBrain.TestSupport.StandIns;
using SecondBrain.Tests.Infrastructure;

namespace SecondBrain.Tests.Integration;

/// <summary>
/// Conversations with a language model (an OpenAI-compatible server stand-in): the model rewrites a follow-up from the
/// conversation, answers from the numbered sources with the history, streams its answer, and another instance can
/// follow an answer while it is still being written.
/// </summary>
[Collection(ModelCollection.Name)]
public sealed class ModelConversationsTests(ModelFixture app)
{
    private const string Rewritten = "Who decided the price of the enterprise plan?";

    [Fact]
    public async Task The_model_rewrites_a_follow_up_and_answers_it_with_the_conversation_streamed()
    {
        var tenant = await app.Api(0).SignupAsync();
        await SeedAsync(tenant.Tokens.AccessToken);
        app.Model.Reply = messages => messages[0].Content.StartsWith("Rewrite the user's last question", StringComparison.Ordinal)
            ? Rewritten
            : messages.Last().Content.Contains("Question: and who decided the enterprise one?", StringComparison.Ordinal)
                ? "Ana Lima decided the enterprise price of 30 euros per seat [1]."
                : "The starter plan costs 12 euros per seat [1].";

        using var onA = app.Api(0).CreateClient(tenant.Tokens.AccessToken);
        using var onB = app.Api(1).CreateClient(tenant.Tokens.AccessToken);
        var conversation = (await (await onA.PostAsJsonAsync("api/conversations", new CreateConversationRequest(null))).Content.ReadFromJsonAsync<ConversationSummary>(ApiClient.Json))!;

        var first = await onB.PostAsJsonAsync($"api/conversations/{conversation.Id}/messages", new SendMessageRequest("What does the starter plan cost per seat?"));
        await first.EnsureStatusAsync(HttpStatusCode.OK);
        var firstExchange = (await first.Content.ReadFromJsonAsync<ExchangeResponse>(ApiClient.Json))!;
        Assert.Equal(AnswerModes.Llm, firstExchange.Answer.Mode);
        Assert.NotEmpty(firstExchange.Answer.Citations);

        var events = await ConversationsTests.StreamAsync(onA, $"api/conversations/{conversation.Id}/messages", new SendMessageRequest("and who decided the enterprise one?"));
        Assert.True(events.Count(e => e.Name == "delta") > 1, "the model's answer arrived in pieces");
        var done = events.Single(e => e.Name == "done").Data.Deserialize<MessageResponse>(ApiClient.Json)!;
        Assert.Equal("Ana Lima decided the enterprise price of 30 euros per seat [1].", done.Content);
        var question = events.Single(e => e.Name == "question").Data.GetProperty("question").Deserialize<MessageResponse>(ApiClient.Json)!;
        Assert.Equal(Rewritten, question.RewrittenQuestion);

        // The model was asked to rewrite with the conversation, and to answer with the history and the sources.
        var rewrite = app.Model.ChatRequests.Select(OpenAICompatibleStandIn.Messages).Last(m => m[0].Content.StartsWith("Rewrite", StringComparison.Ordinal));
        Assert.Contains("What does the starter plan cost per seat?", rewrite[^1].Content);
        var answer = app.Model.ChatRequests.Select(OpenAICompatibleStandIn.Messages).Last(m => m[0].Content.StartsWith("You answer questions", StringComparison.Ordinal));
        Assert.Contains(answer, m => m.Role == "user" && m.Content == "What does the starter plan cost per seat?");
        Assert.Contains(answer, m => m.Role == "assistant" && m.Content.Contains("12 euros", StringComparison.Ordinal));
        Assert.Contains("Sources:", answer[^1].Content);
        Assert.True(app.Model.ChatRequests[^1]["stream"]?.GetValue<bool>() == true, "the answer was requested as a stream");
    }

    [Fact]
    public async Task Another_instance_follows_an_answer_that_is_still_being_written()
    {
        var tenant = await app.Api(0).SignupAsync();
        await SeedAsync(tenant.Tokens.AccessToken);
        app.Model.Reply = messages => messages[0].Content.StartsWith("Rewrite", StringComparison.Ordinal)
            ? "What does the starter plan cost per seat?"
            : "The starter plan costs 12 euros per seat [1].";
        using var onA = app.Api(0).CreateClient(tenant.Tokens.AccessToken);
        using var onB = app.Api(1).CreateClient(tenant.Tokens.AccessToken);
        var conversation = (await (await onA.PostAsJsonAsync("api/conversations", new CreateConversationRequest("Pricing"))).Content.ReadFromJsonAsync<ConversationSummary>(ApiClient.Json))!;

        app.Model.ChatDelay = TimeSpan.FromSeconds(3);
        try
        {
            var sending = onA.PostAsJsonAsync($"api/conversations/{conversation.Id}/messages", new SendMessageRequest("What does the starter plan cost per seat?"));

            // While the model is still thinking, the other replica already has the conversation and the pending answer.
            ConversationDetail? pending = null;
            var deadline = DateTimeOffset.UtcNow.AddSeconds(20);
            while (pending?.Messages.Count != 2 && DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(100);
                pending = await onB.GetFromJsonAsync<ConversationDetail>($"api/conversations/{conversation.Id}", ApiClient.Json);
            }

            var answering = Assert.Single(pending!.Messages, m => m.Role == MessageRoles.Assistant);
            Assert.Equal(MessageStatuses.Streaming, answering.Status);
            var followed = await ConversationsTests.StreamAsync(onB, $"api/conversations/{conversation.Id}/messages/{answering.Id}/events", null);
            var done = followed.Single(e => e.Name == "done").Data.Deserialize<MessageResponse>(ApiClient.Json)!;
            Assert.Equal("The starter plan costs 12 euros per seat [1].", done.Content);
            Assert.Equal(MessageStatuses.Complete, done.Status);
            await (await sending).EnsureStatusAsync(HttpStatusCode.OK);
        }
        finally
        {
            app.Model.ChatDelay = TimeSpan.Zero;
        }
    }

    private async Task SeedAsync(string token)
    {
        using var client = app.Api(0).CreateClient(token);
        var response = await client.PostAsJsonAsync("api/documents",
            new TextDocumentRequest("Pricing change 2026", "From April the starter plan costs 12 euros per seat. The enterprise plan costs 30 euros per seat. Ana Lima decided both prices.", "Ops", null));
        var id = (await response.Content.ReadFromJsonAsync<DocumentsAccepted>(ApiClient.Json))!.DocumentIds[0];
        var deadline = DateTimeOffset.UtcNow.AddMinutes(4);
        while ((await client.GetFromJsonAsync<DocumentDetail>($"api/documents/{id}", ApiClient.Json))!.Document.Status == DocumentStatuses.Pending)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "ingestion timed out");
            await Task.Delay(200);
        }
    }
}
