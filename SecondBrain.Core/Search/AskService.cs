using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using SecondBrain.Core.Errors;
using SecondBrain.Core.Resilience;
using SecondBrain.Core.Tenancy;
using StackExchange.Redis;

namespace SecondBrain.Core.Search;

public sealed record AskRequest(string? Question, IReadOnlyList<string>? Sources = null, string? Author = null, DateTimeOffset? From = null, DateTimeOffset? To = null);

public sealed record Citation(int Number, Guid ChunkId, Guid DocumentId, string Title, string Source, string? Section, int? Page, string Excerpt);

public sealed record AskResponse(string Question, string Answer, string Mode, IReadOnlyList<Citation> Citations, bool Cached);

/// <summary>
/// Answers with numbered citations to chunks: from the configured <see cref="IChatClient"/>, or, without an LLM,
/// extractively (the retrieved sentences that best match the question, each cited). Answers are cached per tenant
/// and corpus version.
/// </summary>
public sealed partial class AskService(
    SearchService search,
    TenantContext tenant,
    CorpusVersion corpus,
    IConnectionMultiplexer redis,
    IServiceProvider services,
    ILogger<AskService> logger)
{
    private const int ContextChunks = 6;
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromHours(6);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly HashSet<string> StopWords =
    [
        "a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "with", "by", "at", "from", "is", "are", "was", "were",
        "be", "been", "it", "this", "that", "what", "which", "who", "whom", "when", "where", "why", "how", "do", "does", "did",
        "we", "our", "you", "your", "they", "their", "i", "me", "my", "as", "about", "any", "can", "should", "would", "will"
    ];

    private IChatClient? Chat => services.GetService(typeof(IChatClient)) as IChatClient;

    public async Task<Outcome<AskResponse>> AskAsync(AskRequest request, CancellationToken ct)
    {
        var prepared = await PrepareAsync(request, ct);
        if (!prepared.Succeeded)
        {
            return prepared.Problem!;
        }

        var (key, cached, citations) = prepared.Value;
        if (cached is not null)
        {
            return cached with { Cached = true };
        }

        string answer, mode;
        if (Chat is { } chat && citations.Count > 0)
        {
            var response = await chat.GetResponseAsync(Prompt(request.Question!, citations), cancellationToken: ct);
            (answer, mode) = (response.Text, "llm");
        }
        else
        {
            (answer, mode) = (Extract(request.Question!, citations), "extractive");
        }

        var result = new AskResponse(request.Question!.Trim(), answer, mode, citations, false);
        await redis.GetDatabase().StringSetAsync(key, JsonSerializer.Serialize(result, Json), CacheLifetime).OrIgnoreAsync(logger, "answer cache");
        return result;
    }

    /// <summary>Streams the answer: citations first, then text deltas (from the LLM, or the extractive answer at once).</summary>
    public async IAsyncEnumerable<(string Event, object Data)> StreamAsync(AskRequest request, [EnumeratorCancellation] CancellationToken ct)
    {
        var prepared = await PrepareAsync(request, ct);
        if (!prepared.Succeeded)
        {
            yield return ("error", new { prepared.Problem!.Code, prepared.Problem.Detail });
            yield break;
        }

        var (key, cached, citations) = prepared.Value;
        yield return ("citations", citations);
        if (cached is not null)
        {
            yield return ("delta", new { text = cached.Answer });
            yield return ("done", cached with { Cached = true });
            yield break;
        }

        var builder = new StringBuilder();
        var mode = "extractive";
        if (Chat is { } chat && citations.Count > 0)
        {
            mode = "llm";
            await foreach (var update in chat.GetStreamingResponseAsync(Prompt(request.Question!, citations), cancellationToken: ct))
            {
                if (!string.IsNullOrEmpty(update.Text))
                {
                    builder.Append(update.Text);
                    yield return ("delta", new { text = update.Text });
                }
            }
        }
        else
        {
            var answer = Extract(request.Question!, citations);
            builder.Append(answer);
            yield return ("delta", new { text = answer });
        }

        var result = new AskResponse(request.Question!.Trim(), builder.ToString(), mode, citations, false);
        await redis.GetDatabase().StringSetAsync(key, JsonSerializer.Serialize(result, Json), CacheLifetime).OrIgnoreAsync(logger, "answer cache");
        yield return ("done", result);
    }

    private async Task<Outcome<(RedisKey Key, AskResponse? Cached, IReadOnlyList<Citation> Citations)>> PrepareAsync(AskRequest request, CancellationToken ct)
    {
        if (new Common.Validation().Require(nameof(request.Question), request.Question, 2000).ToProblem() is { } invalid)
        {
            return invalid;
        }

        var tenantId = tenant.TenantId!.Value;
        var version = await corpus.GetAsync(tenantId, ct);
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            q = request.Question!.Trim().ToLowerInvariant(), request.Sources, request.Author, request.From, request.To, llm = Chat is not null
        }))));
        RedisKey key = $"sb:answers:{tenantId}:{version}:{fingerprint}";
        var cached = await redis.GetDatabase().StringGetAsync(key).OrElseAsync(RedisValue.Null, logger, "answer cache");
        if (cached.HasValue)
        {
            var answer = JsonSerializer.Deserialize<AskResponse>(cached.ToString(), Json)!;
            return (key, answer, answer.Citations);
        }

        var found = await search.SearchAsync(new SearchRequest(request.Question, SearchModes.Hybrid, ContextChunks, request.Sources, request.Author, request.From, request.To), ct);
        if (!found.Succeeded)
        {
            return found.Problem!;
        }

        var citations = found.Value!.Hits.Select((h, i) =>
            new Citation(i + 1, h.ChunkId, h.DocumentId, h.Title, h.Source, h.Section, h.Page, h.Text)).ToList();
        return (key, (AskResponse?)null, (IReadOnlyList<Citation>)citations);
    }

    private static List<ChatMessage> Prompt(string question, IReadOnlyList<Citation> citations)
    {
        var context = new StringBuilder();
        foreach (var c in citations)
        {
            context.Append('[').Append(c.Number).Append("] ").Append(c.Title).Append('\n').Append(c.Excerpt).Append("\n\n");
        }

        return
        [
            new(ChatRole.System,
                "You answer questions about a team's documents. Use only the numbered sources. Cite every claim with its source number in brackets, like [2]. If the sources do not answer the question, say so."),
            new(ChatRole.User, $"Sources:\n{context}\nQuestion: {question}")
        ];
    }

    /// <summary>The best-matching sentences of the retrieved chunks, in order of relevance, each with its citation.</summary>
    internal static string Extract(string question, IReadOnlyList<Citation> citations)
    {
        if (citations.Count == 0)
        {
            return "Nothing in this knowledge base answers that yet.";
        }

        var terms = QueryExpansion.Words(question).Where(w => !StopWords.Contains(w)).Select(Stem).ToHashSet();
        var scored = new List<(double Score, string Sentence, int Number)>();
        foreach (var citation in citations)
        {
            foreach (var sentence in SentenceSplit().Split(citation.Excerpt).Select(s => s.Trim()).Where(s => s.Length >= 20))
            {
                var words = QueryExpansion.Words(sentence).Select(Stem).ToHashSet();
                var overlap = terms.Count(words.Contains);
                // Earlier (better-ranked) chunks win ties; very long sentences are penalised a little.
                var score = overlap / Math.Sqrt(terms.Count + 1) + 1.0 / (citation.Number + 1) - Math.Min(0.3, sentence.Length / 2000.0);
                scored.Add((score, sentence, citation.Number));
            }
        }

        var chosen = scored.OrderByDescending(s => s.Score).DistinctBy(s => s.Sentence).Take(3).ToList();
        if (chosen.Count == 0)
        {
            var first = citations[0];
            return $"{first.Excerpt[..Math.Min(300, first.Excerpt.Length)].Trim()} [{first.Number}]";
        }

        return string.Join(" ", chosen.Select(s => $"{s.Sentence.TrimEnd()} [{s.Number}]"));
    }

    private static string Stem(string word) =>
        word.Length > 4 && word.EndsWith("ing", StringComparison.Ordinal) ? word[..^3]
        : word.Length > 3 && word.EndsWith("es", StringComparison.Ordinal) ? word[..^2]
        : word.Length > 3 && word.EndsWith('s') ? word[..^1]
        : word;

    [GeneratedRegex(@"(?<=[.!?])\s+(?=[A-Z0-9""'(])|\n{2,}", RegexOptions.CultureInvariant)]
    private static partial Regex SentenceSplit();
}
