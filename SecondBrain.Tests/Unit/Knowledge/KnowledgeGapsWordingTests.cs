using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SecondBrain.Core.Knowledge;
using SecondBrain.Core.Knowledge.Analysis;

namespace SecondBrain.Tests.Unit.Knowledge;

/// <summary>The pure rules of gap detection and the two ways a gap is worded: templates, and an LLM when one is registered.</summary>
public sealed class KnowledgeGapsWordingTests
{
    private static readonly GapEvidence Decision = new(Guid.NewGuid(), "decisions-log.md",
        "We decided to retire the legacy reporting API on January 30, 2026.", null);

    [Fact]
    public void Fingerprints_depend_on_type_and_subject_only_and_match_the_sql_twin_format()
    {
        var a = GapRules.Fingerprint(GapTypes.Contradiction, "v|sla for enterprise customer|be");
        Assert.Equal(a, GapRules.Fingerprint(GapTypes.Contradiction, "v|sla for enterprise customer|be"));
        Assert.NotEqual(a, GapRules.Fingerprint(GapTypes.SingleSource, "v|sla for enterprise customer|be"));
        Assert.Matches("^[0-9a-f]{64}$", a);
        Assert.Contains("sha256", GapRules.FingerprintSql("@type", "key"), StringComparison.Ordinal);

        var document = Guid.NewGuid();
        Assert.Equal(GapRules.DocumentSentenceKey(document, "Tom Becker: We decided to X."), GapRules.DocumentSentenceKey(document, "we  decided to x"));
        Assert.NotEqual(GapRules.DocumentSentenceKey(document, "We decided to X."), GapRules.DocumentSentenceKey(Guid.NewGuid(), "We decided to X."));
    }

    [Theory]
    [InlineData("We will migrate the Helios data warehouse to the new cluster because the current disks are nearly full.", true, false)]
    [InlineData("We will migrate the customer portal to the new auth service by February 27, 2026 so that we can retire the old session store.", true, true)]
    [InlineData("Maria will circulate the LRR checklist by January 23.", true, true)]
    [InlineData("The Contoso kickoff will happen on January 20, 2026.", true, true)]
    [InlineData("We are going to ship it next week.", true, true)]
    [InlineData("We may revisit this in Q3.", false, true)]
    [InlineData("Will we keep the old inbox?", false, false)]
    [InlineData("We will not migrate Helios.", false, false)]
    public void Commitments_and_time_expressions(string sentence, bool commitment, bool hasTime)
    {
        Assert.Equal(commitment, GapRules.IsCommitment(sentence));
        Assert.Equal(hasTime, GapRules.HasTimeExpression(sentence));
    }

    [Theory]
    [InlineData("We will launch the partner referral program because three agencies asked for it.", true)]
    [InlineData("Raj Aggarwal: We will migrate the Helios data warehouse to the new cluster.", true)]
    [InlineData("Our team plans to hire a backend engineer.", true)]
    [InlineData("We will not launch the referral program.", false)]
    [InlineData("Maria will circulate the LRR checklist by January 23.", false)]
    [InlineData("Will we launch the referral program?", false)]
    public void Team_commitments(string sentence, bool expected) => Assert.Equal(expected, GapRules.IsTeamCommitment(sentence));

    [Fact]
    public void Name_keys_are_the_capitalised_words_acronyms_and_short_runs_of_a_sentence()
    {
        var keys = GapRules.NameKeys("Tom Becker: We do not support single sign-on in Atlas.");
        Assert.Contains("tom becker", keys);
        Assert.Contains("atlas", keys);
        Assert.Contains("single sign-on", keys);
        Assert.DoesNotContain("we", keys);
        Assert.DoesNotContain("in atlas", keys);
        Assert.Contains("lrr", GapRules.NameKeys("Atlas cannot ship until the LRR is signed off."));
        Assert.True(GapRules.IsHeaderLine("Subject: Stripe webhook secret rotation"));
        Assert.False(GapRules.IsOperationalKnowledge("Subject: Stripe webhook secret rotation for the production namespace"));
    }

    [Theory]
    [InlineData("The break-glass credentials for production are stored in the Infra Break Glass vault in 1Password.", true)]
    [InlineData("To rotate the Stripe webhook secret, create a new endpoint secret in the Stripe dashboard and paste it into the billing-webhook secret.", true)]
    [InlineData("To request production access, open a ticket on the Ops board.", true)]
    [InlineData("The refund window is 30 days.", false)]
    [InlineData("Where are the credentials stored?", false)]
    public void Operational_knowledge(string sentence, bool expected) => Assert.Equal(expected, GapRules.IsOperationalKnowledge(sentence));

    [Theory]
    [InlineData("date", "2026-03-03", "2026-03-17", false)]
    [InlineData("date", "2026-03", "2026-03-17", true)]
    [InlineData("date", "--03-03", "2026-03-03", true)]
    [InlineData("percent", "99.9%", "99.5%", false)]
    [InlineData("percent", "99.90%", "99.9%", true)]
    [InlineData("money", "USD 48200", "USD 48200", true)]
    [InlineData("money", "USD 48200", "EUR 48200", false)]
    [InlineData("duration", "P30D", "P14D", false)]
    public void Claim_values_agree_only_when_they_say_the_same(string kind, string a, string b, bool agree) =>
        Assert.Equal(agree, GapRules.ValuesAgree(kind, a, b));

    [Fact]
    public void Change_predicates_are_history_not_contradictions()
    {
        Assert.True(GapRules.IsChangePredicate("increased to"));
        Assert.True(GapRules.IsChangePredicate("grew by"));
        Assert.False(GapRules.IsChangePredicate("be"));
        Assert.False(GapRules.IsChangePredicate("date"));
    }

    [Fact]
    public void A_slack_question_is_answered_only_by_a_later_message_from_someone_else()
    {
        const string answered = "Jonas Nilsson: Which Postgres version does Atlas use in production?\nTom Becker: Atlas runs on Postgres 16 in production.\nJonas Nilsson: :+1:";
        Assert.Equal((true, "Jonas Nilsson", true), GapRules.SlackReplies(answered, "Jonas Nilsson: Which Postgres version does Atlas use in production?"));

        const string alone = "Jonas Nilsson: Who approves changes to the public pricing page? I have a small copy fix for the Growth plan.";
        Assert.Equal((true, "Jonas Nilsson", false), GapRules.SlackReplies(alone, "Who approves changes to the public pricing page?"));

        const string selfFollowUp = "Lena Choi: Anyone know the renewal date?\nLena Choi: bumping this";
        Assert.False(GapRules.SlackReplies(selfFollowUp, "Anyone know the renewal date?").AnsweredByOther);
    }

    [Fact]
    public void Authors_parse_as_name_and_address()
    {
        Assert.Equal(("Lena Choi", "lena.choi@northwind.example"), GapRules.ParseAuthor("Lena Choi <Lena.Choi@northwind.example>"));
        Assert.Equal(((string?)null, "x@y.test"), GapRules.ParseAuthor("x@y.test"));
        Assert.Equal(("Priya Raman", (string?)null), GapRules.ParseAuthor("Priya Raman"));
    }

    [Fact]
    public void Templates_ask_grounded_questions_that_quote_the_evidence()
    {
        var rationale = GapTemplates.MissingRationale("We", "retire the legacy reporting API", "decided to", false, Decision);
        Assert.Equal("Why did we decide to retire the legacy reporting API?", rationale.Questions[0]);
        Assert.Contains(Decision.Quote, rationale.Description, StringComparison.Ordinal);

        var owner = GapTemplates.MissingOwner("The certificate renewal", "every 90 days",
            new GapEvidence(Guid.NewGuid(), "runbook-infrastructure.md", "The certificate renewal happens every 90 days.", null));
        Assert.Equal("Who owns the certificate renewal?", owner.Questions[0]);

        var time = GapTemplates.MissingTime(new GapEvidence(Guid.NewGuid(), "Helios capacity",
            "We will migrate the Helios data warehouse to the new cluster because the current disks are nearly full.", "Raj Aggarwal <raj.aggarwal@northwind.example>"));
        Assert.Equal("When will we migrate the Helios data warehouse to the new cluster?", time.Questions[0]);
        Assert.Contains("Raj Aggarwal", time.Description, StringComparison.Ordinal);

        var bus = GapTemplates.BusFactor("Priya Raman", ["on-call rotation", "Kubernetes cluster", "deployment pipeline", "AWS", "office VPN"]);
        Assert.Contains("Priya Raman alone owns 5 things", bus.Title, StringComparison.Ordinal);
        Assert.StartsWith("Who can back up Priya Raman on on-call rotation, Kubernetes cluster and deployment pipeline", bus.Questions[0], StringComparison.Ordinal);

        var single = GapTemplates.SingleSource([new GapEvidence(Guid.NewGuid(), "Stripe webhook secret rotation",
            "To rotate the Stripe webhook secret, create a new endpoint secret in the Stripe dashboard.", "Priya Raman <priya.raman@northwind.example>")], null);
        Assert.StartsWith("Who besides Priya Raman knows how to rotate the Stripe webhook secret", single.Questions[0], StringComparison.Ordinal);

        var question = GapTemplates.UnansweredQuestion("Jonas Nilsson: Who approves changes to the public pricing page?", "Jonas Nilsson",
            new GapEvidence(Guid.NewGuid(), "#general: Who approves changes", "Jonas Nilsson: Who approves changes to the public pricing page?", "Jonas Nilsson"), null);
        Assert.Equal("Who approves changes to the public pricing page?", question.Questions[0]);
    }

    [Fact]
    public async Task Without_an_llm_the_template_text_is_kept()
    {
        var writer = Writer(chat: null);
        var gap = Candidate();
        var (text, refined) = await writer.WriteAsync(gap, CancellationToken.None);
        Assert.False(writer.UsesLlm);
        Assert.False(refined);
        Assert.Same(gap.Text, text);
    }

    [Fact]
    public async Task With_an_llm_its_wording_is_used_and_the_prompt_carries_the_evidence()
    {
        var chat = new FakeChatClient("""
            Here you go:
            ```json
            {"title": "Retiring the legacy reporting API: reason missing", "description": "The decisions log records the retirement but not why.",
             "questions": ["Why did we decide to retire the legacy reporting API on January 30, 2026?"]}
            ```
            """);
        var writer = Writer(chat);
        var (text, refined) = await writer.WriteAsync(Candidate(), CancellationToken.None);
        Assert.True(writer.UsesLlm);
        Assert.True(refined);
        Assert.Equal("Retiring the legacy reporting API: reason missing", text.Title);
        Assert.Equal(["Why did we decide to retire the legacy reporting API on January 30, 2026?"], text.Questions);
        Assert.Contains(Decision.Quote, chat.LastPrompt, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("{\"title\": \"\", \"description\": \"x\", \"questions\": [\"q?\"]}")]
    [InlineData("{\"title\": \"t\", \"description\": \"d\", \"questions\": []}")]
    [InlineData(null)]
    public async Task An_llm_answer_that_is_unusable_or_fails_keeps_the_template(string? reply)
    {
        var gap = Candidate();
        var (text, refined) = await Writer(new FakeChatClient(reply)).WriteAsync(gap, CancellationToken.None);
        Assert.False(refined);
        Assert.Same(gap.Text, text);
    }

    private static GapCandidate Candidate() => new(
        GapTypes.MissingRationale,
        GapRules.DocumentSentenceKey(Decision.DocumentId, Decision.Quote),
        GapTemplates.MissingRationale("We", "retire the legacy reporting API", "decided to", false, Decision),
        [Decision], [], 3, 0.75);

    private static GapWriter Writer(IChatClient? chat)
    {
        var services = new ServiceCollection();
        if (chat is not null)
        {
            services.AddSingleton(chat);
        }

        return new GapWriter(services.BuildServiceProvider(), Options.Create(new KnowledgeAnalysisOptions { LlmTimeout = TimeSpan.FromSeconds(5) }),
            NullLogger<GapWriter>.Instance);
    }

    /// <summary>Returns a canned reply (or throws when given none), and remembers the prompt it was sent.</summary>
    private sealed class FakeChatClient(string? reply) : IChatClient
    {
        public string LastPrompt { get; private set; } = "";

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            LastPrompt = string.Join("\n", messages.Select(m => m.Text));
            return reply is null
                ? throw new HttpRequestException("the model is unavailable")
                : Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, reply)));
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
