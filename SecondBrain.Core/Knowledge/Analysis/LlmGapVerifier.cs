using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace SecondBrain.Core.Knowledge.Analysis;

/// <summary>
/// With an <see cref="IChatClient"/> registered, a second opinion on each candidate gap: the model reads the gap type's
/// definition and the evidence and answers whether it is a real gap. A confident "no" drops the candidate; anything
/// else (yes, unsure, malformed, timeout, error) keeps it, so the rule-based detectors stay the default and the LLM can
/// only raise precision. Verdicts are cached in Redis per gap fingerprint and evidence for a month, so re-analysis
/// asks once and does not flip a gap from run to run. A run spends at most <see cref="Budget"/> calls.
/// </summary>
public sealed class LlmGapVerifier(IServiceProvider services, IOptions<KnowledgeAnalysisOptions> options, ILogger<LlmGapVerifier> logger) : IGapVerifier
{
    public const double DropBelow = 0.6;
    private static readonly TimeSpan CacheFor = TimeSpan.FromDays(30);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly Dictionary<string, string> Definitions = new(StringComparer.Ordinal)
    {
        [GapTypes.MissingRationale] = "a decision recorded without any reason for it, here or elsewhere",
        [GapTypes.MissingOwner] = "a recurring duty or process for which nobody is named as responsible",
        [GapTypes.MissingTime] = "a plan or commitment with no date, or only a vague time or a condition instead of one",
        [GapTypes.UndefinedTerm] = "a team-specific acronym, tag, code or code name used but never explained (well-known acronyms do not count)",
        [GapTypes.Contradiction] = "two statements about the same thing that cannot both be true",
        [GapTypes.SingleSource] = "operational knowledge (how to do something critical, where a secret or original is kept) recorded in one place only",
        [GapTypes.BusFactor] = "one person who is the only one responsible for many things",
        [GapTypes.UnansweredQuestion] = "a question nobody answered"
    };

    /// <summary>Calls one run may make; the rest of the candidates are kept unverified.</summary>
    public int Budget { get; set; } = 60;

    private IChatClient? Chat => services.GetService<IChatClient>();

    public async Task<DetectorResult> VerifyAsync(DetectorResult result, CancellationToken ct)
    {
        if (Chat is not { } chat || result.Candidates.Count == 0)
        {
            return result;
        }

        var kept = new List<GapCandidate>(result.Candidates.Count);
        foreach (var candidate in result.Candidates)
        {
            var verdict = await VerdictAsync(chat, candidate, ct);
            if (verdict is { Real: false, Confidence: >= DropBelow })
            {
                logger.LogInformation("The LLM rejected a {Type} gap ({Confidence:0.00}): {Title}", candidate.Type, verdict.Confidence, candidate.Text.Title);
                continue;
            }

            kept.Add(verdict is { Real: true } ? candidate with { Confidence = Math.Round(Math.Max(candidate.Confidence, Math.Min(0.95, verdict.Confidence)), 2) } : candidate);
        }

        return result with { Candidates = kept };
    }

    public sealed record Verdict(bool Real, double Confidence);

    private async Task<Verdict?> VerdictAsync(IChatClient chat, GapCandidate candidate, CancellationToken ct)
    {
        var key = CacheKey(candidate);
        var redis = services.GetService<IConnectionMultiplexer>();
        try
        {
            if (redis is not null && await redis.GetDatabase().StringGetAsync(key) is { HasValue: true } cached)
            {
                return JsonSerializer.Deserialize<Verdict>(cached.ToString(), Json);
            }
        }
        catch (RedisException ex)
        {
            logger.LogDebug(ex, "Verdict cache unavailable");
        }

        if (Budget <= 0)
        {
            return null;
        }

        Budget--;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.Value.LlmTimeout);
        Verdict? verdict;
        try
        {
            var response = await chat.GetResponseAsync(Prompt(candidate), new ChatOptions { Temperature = 0f, MaxOutputTokens = 120 }, timeout.Token);
            verdict = Parse(response.Text);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            logger.LogWarning("The LLM did not verify a {Type} gap in time; it is kept", candidate.Type);
            return null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "The LLM failed to verify a {Type} gap; it is kept", candidate.Type);
            return null;
        }

        if (verdict is not null && redis is not null)
        {
            try
            {
                await redis.GetDatabase().StringSetAsync(key, JsonSerializer.Serialize(verdict, Json), CacheFor);
            }
            catch (RedisException ex)
            {
                logger.LogDebug(ex, "Verdict cache unavailable");
            }
        }

        return verdict;
    }

    internal static List<ChatMessage> Prompt(GapCandidate candidate)
    {
        var evidence = new StringBuilder();
        foreach (var item in candidate.Evidence.Take(6))
        {
            evidence.Append("- \"").Append(GapRules.Quote(item.Quote, 400)).Append("\" (").Append(GapTemplates.Source(item)).Append(")\n");
        }

        var system = """
            You check knowledge gaps that rules found in a team's documents. Judge only from the evidence given.
            Reply with JSON only: {"real": true|false, "confidence": 0.0-1.0}.
            """;
        var user = $"""
            Gap type: {candidate.Type} — {Definitions.GetValueOrDefault(candidate.Type, candidate.Type)}.
            Reported as: {candidate.Text.Title}
            Evidence:
            {evidence}
            Is this a real gap of this type?
            """;
        return [new ChatMessage(ChatRole.System, system), new ChatMessage(ChatRole.User, user)];
    }

    /// <summary>The model's JSON verdict, or null when missing or malformed (the candidate is then kept).</summary>
    internal static Verdict? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var start = text.IndexOf('{');
        var end = text.LastIndexOf('}');
        if (start < 0 || end <= start)
        {
            return null;
        }

        try
        {
            using var json = JsonDocument.Parse(text[start..(end + 1)]);
            var root = json.RootElement;
            if (!root.TryGetProperty("real", out var real) || real.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                return null;
            }

            var confidence = root.TryGetProperty("confidence", out var c) && c.TryGetDouble(out var value) ? Math.Clamp(value, 0, 1) : 0.5;
            return new Verdict(real.GetBoolean(), confidence);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static RedisKey CacheKey(GapCandidate candidate)
    {
        var evidence = string.Join("\n", candidate.Evidence.Select(e => e.DocumentId.ToString("N") + ":" + e.Quote));
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(candidate.Fingerprint + "\n" + evidence)));
        return $"sb:knowledge:gap-verdict:{hash}";
    }
}
