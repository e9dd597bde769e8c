using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SecondBrain.Core.Knowledge;
using SecondBrain.Core.Knowledge.Analysis;

namespace SecondBrain.Tests.Unit.Knowledge;

/// <summary>The optional LLM pass over gap candidates, with a scripted chat client standing in for the model.</summary>
public sealed class LlmVerificationTests
{
    /// <summary>Answers each request with the next scripted reply (or throws it), and records what it was asked.</summary>
    private sealed class ScriptedChatClient(params object[] replies) : IChatClient
    {
        private int _next;
        public List<string> Asked { get; } = [];

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            Asked.Add(string.Join("\n", messages.Select(m => m.Text)));
            var reply = replies[Math.Min(_next++, replies.Length - 1)];
            return reply is Exception ex ? Task.FromException<ChatResponse>(ex) : Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, (string)reply)));
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    private static GapCandidate Candidate(string quote) => new(GapTypes.UndefinedTerm, quote.ToLowerInvariant(),
        new GapText("Undefined term: " + quote, "d", ["q"]), [new GapEvidence(Guid.NewGuid(), "doc", quote, null)], [], 2, 0.6);

    private static LlmGapVerifier Verifier(IChatClient? chat)
    {
        var services = new ServiceCollection();
        if (chat is not null)
        {
            services.AddSingleton(chat);
        }

        return new LlmGapVerifier(services.BuildServiceProvider(), Options.Create(new KnowledgeAnalysisOptions()), NullLogger<LlmGapVerifier>.Instance);
    }

    [Fact]
    public async Task A_confident_no_drops_a_candidate_and_anything_else_keeps_it()
    {
        var chat = new ScriptedChatClient(
            """{"real": false, "confidence": 0.9}""",
            """Sure! ```json {"real": true, "confidence": 0.8} ```""",
            """{"real": false, "confidence": 0.3}""",
            "not json at all",
            new HttpRequestException("model unavailable"));
        var result = new DetectorResult(GapTypes.UndefinedTerm, [Candidate("VPN"), Candidate("DCQ"), Candidate("KLV"), Candidate("PX-3"), Candidate("HF-HOLD")], false);

        var verified = await Verifier(chat).VerifyAsync(result, CancellationToken.None);

        Assert.Equal(["DCQ", "KLV", "PX-3", "HF-HOLD"], verified.Candidates.Select(c => c.Evidence[0].Quote));
        Assert.Equal(0.8, verified.Candidates[0].Confidence);
        Assert.Equal(5, chat.Asked.Count);
        Assert.Contains("never explained", chat.Asked[0], StringComparison.Ordinal);
        Assert.Contains("\"VPN\"", chat.Asked[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_model_every_candidate_stands()
    {
        var result = new DetectorResult(GapTypes.UndefinedTerm, [Candidate("DCQ")], false);
        Assert.Same(result, await Verifier(null).VerifyAsync(result, CancellationToken.None));
    }

    [Fact]
    public async Task The_budget_bounds_the_calls_of_a_run()
    {
        var chat = new ScriptedChatClient("""{"real": false, "confidence": 0.95}""");
        var verifier = Verifier(chat);
        verifier.Budget = 2;
        var result = new DetectorResult(GapTypes.UndefinedTerm, [Candidate("A1"), Candidate("B2"), Candidate("C3")], false);

        var verified = await verifier.VerifyAsync(result, CancellationToken.None);

        Assert.Equal(2, chat.Asked.Count);
        Assert.Equal(["C3"], verified.Candidates.Select(c => c.Evidence[0].Quote));
    }

    [Theory]
    [InlineData("""{"type": "organisation", "confidence": 0.9}""", "organisation", 0.9)]
    [InlineData("""Here you go: {"type": "Person"}""", "person", 0.5)]
    public void Entity_type_answers_are_read_from_the_models_json(string reply, string type, double confidence) =>
        Assert.Equal((type, confidence), LlmEntityTypeVerifier.Parse(reply));
}
