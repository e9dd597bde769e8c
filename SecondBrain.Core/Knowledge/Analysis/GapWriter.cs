using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SecondBrain.Core.Knowledge.Analysis;

/// <summary>
/// The wording of a gap. Without an LLM it is the template text (<see cref="GapTemplates"/>). With an
/// <see cref="IChatClient"/> registered, the LLM may rewrite the title, description and questions from the same
/// evidence; its answer is only taken when it is well-formed JSON within bounds, and any failure (timeout, error,
/// nonsense) keeps the template text, so analysis never depends on the LLM.
/// </summary>
public sealed class GapWriter(IServiceProvider services, IOptions<KnowledgeAnalysisOptions> options, ILogger<GapWriter> logger)
{
    private const int MaxTitle = 200;
    private const int MaxDescription = 1200;
    private const int MaxQuestions = 4;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private IChatClient? Chat => services.GetService<IChatClient>();

    public bool UsesLlm => Chat is not null;

    /// <summary>The gap's text: refined by the LLM when one is registered and it answers well, else the template's.</summary>
    public async Task<(GapText Text, bool Refined)> WriteAsync(GapCandidate gap, CancellationToken ct)
    {
        if (Chat is not { } chat)
        {
            return (gap.Text, false);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.Value.LlmTimeout);
        try
        {
            var response = await chat.GetResponseAsync(Prompt(gap), new ChatOptions { Temperature = 0.2f, MaxOutputTokens = 600 }, timeout.Token);
            if (Parse(response.Text) is { } refined)
            {
                return (refined, true);
            }

            logger.LogInformation("The LLM's wording of a {Type} gap was not usable; keeping the template", gap.Type);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            logger.LogWarning("The LLM did not word a {Type} gap within {Timeout}; keeping the template", gap.Type, options.Value.LlmTimeout);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "The LLM failed to word a {Type} gap; keeping the template", gap.Type);
        }

        return (gap.Text, false);
    }

    private static List<ChatMessage> Prompt(GapCandidate gap)
    {
        var evidence = new StringBuilder();
        foreach (var item in gap.Evidence.Take(8))
        {
            evidence.Append("- \"").Append(GapRules.Quote(item.Quote, 400)).Append("\" (").Append(GapTemplates.Source(item)).Append(")\n");
        }

        var system = """
            You word knowledge gaps found in a team's documents. Use only the evidence given; never invent names, dates,
            numbers or facts. Questions must be answerable by a teammate and should quote or name what the evidence says.
            Reply with JSON only: {"title": "...", "description": "...", "questions": ["...", "..."]}.
            Title at most 120 characters, description at most 3 sentences, 1 to 3 questions.
            """;
        var user = $"""
            Gap type: {gap.Type}
            Draft title: {gap.Text.Title}
            Draft description: {gap.Text.Description}
            Draft questions: {string.Join(" | ", gap.Text.Questions)}
            Evidence:
            {evidence}
            """;
        return [new ChatMessage(ChatRole.System, system), new ChatMessage(ChatRole.User, user)];
    }

    /// <summary>The LLM's JSON, or null when it is missing, malformed or out of bounds.</summary>
    internal static GapText? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        // Models like to wrap JSON in a code fence or a sentence; take the outermost object.
        var start = text.IndexOf('{');
        var end = text.LastIndexOf('}');
        if (start < 0 || end <= start)
        {
            return null;
        }

        try
        {
            var reply = JsonSerializer.Deserialize<Reply>(text[start..(end + 1)], Json);
            var questions = (reply?.Questions ?? []).Where(q => !string.IsNullOrWhiteSpace(q)).Select(q => q.Trim()).Take(MaxQuestions).ToList();
            if (reply is null || string.IsNullOrWhiteSpace(reply.Title) || string.IsNullOrWhiteSpace(reply.Description) || questions.Count == 0
                || questions.Any(q => q.Length > 400))
            {
                return null;
            }

            return new GapText(GapRules.Phrase(reply.Title, MaxTitle), Clip(reply.Description.Trim(), MaxDescription), questions);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..max];

    private sealed record Reply(string? Title, string? Description, List<string>? Questions);
}
