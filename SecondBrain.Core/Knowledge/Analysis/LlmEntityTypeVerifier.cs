using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace SecondBrain.Core.Knowledge.Analysis;

/// <summary>
/// With an <see cref="IChatClient"/> registered, people and organisations that only the text named (no mail header
/// or chat user says who they are) are checked by the model, from one sentence that names them: a confident
/// "organisation" retypes a person entity, a confident "person" an organisation. Each entity is asked about once (the
/// answer is remembered in Redis), at most <see cref="Budget"/> per run; without a model nothing changes.
/// </summary>
public sealed class LlmEntityTypeVerifier(IServiceProvider services, IOptions<KnowledgeAnalysisOptions> options, ILogger<LlmEntityTypeVerifier> logger)
{
    public int Budget { get; set; } = 20;

    public async Task<int> VerifyAsync(AnalysisQueries q, CancellationToken ct)
    {
        if (services.GetService<IChatClient>() is not { } chat)
        {
            return 0;
        }

        var redis = services.GetService<IConnectionMultiplexer>();
        var candidates = new List<(Guid Id, string Type, string Name, string Sentence)>();
        await using (var command = await q.CommandAsync("""
            SELECT DISTINCT ON (e.id) e.id, e.type, e.name, m.sentence
            FROM knowledge_entities e
            JOIN knowledge_mentions m ON m.entity_id = e.id AND m.tenant_id = @tenant AND NOT m.from_header AND m.sentence <> ''
            WHERE e.tenant_id = @tenant AND e.type IN ('person', 'organization')
              AND NOT EXISTS (SELECT 1 FROM knowledge_mentions h WHERE h.tenant_id = @tenant AND h.entity_id = e.id AND h.from_header)
            ORDER BY e.id, length(m.sentence)
            LIMIT 200
            """, ct))
        {
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                candidates.Add((reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
            }
        }

        var changed = 0;
        foreach (var (id, type, name, sentence) in candidates)
        {
            RedisKey key = $"sb:knowledge:entity-type-verdict:{id:N}";
            if (Budget <= 0)
            {
                break;
            }

            try
            {
                if (redis is not null && await redis.GetDatabase().KeyExistsAsync(key))
                {
                    continue;
                }
            }
            catch (RedisException)
            {
                // Without the cache the entity is simply asked about again.
            }

            Budget--;
            var answer = await AskAsync(chat, name, sentence, ct);
            if (answer is null)
            {
                continue;
            }

            try
            {
                await (redis?.GetDatabase().StringSetAsync(key, answer.Value.Type, TimeSpan.FromDays(30)) ?? Task.FromResult(true));
            }
            catch (RedisException)
            {
            }

            var target = answer.Value.Type switch { "organisation" or "organization" => EntityTypes.Organization, "person" => EntityTypes.Person, _ => null };
            if (target is not null && target != type && answer.Value.Confidence >= 0.75)
            {
                await using var update = await q.CommandAsync("UPDATE knowledge_entities SET type = @type, updated_at = now() WHERE tenant_id = @tenant AND id = @id", ct);
                update.Parameters.AddWithValue("type", target);
                update.Parameters.AddWithValue("id", id);
                changed += await update.ExecuteNonQueryAsync(ct);
                logger.LogInformation("The LLM retyped {Name} from {From} to {To}", name, type, target);
            }
        }

        return changed;
    }

    private async Task<(string Type, double Confidence)?> AskAsync(IChatClient chat, string name, string sentence, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.Value.LlmTimeout);
        try
        {
            var response = await chat.GetResponseAsync(
                [
                    new ChatMessage(ChatRole.System, """Classify a name as used in a sentence. Reply with JSON only: {"type": "person"|"organisation"|"other", "confidence": 0.0-1.0}."""),
                    new ChatMessage(ChatRole.User, $"Name: {name}\nSentence: \"{GapRules.Quote(sentence, 400)}\"")
                ],
                new ChatOptions { Temperature = 0f, MaxOutputTokens = 60 }, timeout.Token);
            return Parse(response.Text);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            logger.LogWarning(ex, "The LLM could not classify {Name}; its type stays", name);
            return null;
        }
    }

    internal static (string Type, double Confidence)? Parse(string? text)
    {
        var start = text?.IndexOf('{') ?? -1;
        var end = text?.LastIndexOf('}') ?? -1;
        if (start < 0 || end <= start)
        {
            return null;
        }

        try
        {
            using var json = JsonDocument.Parse(text![start..(end + 1)]);
            if (!json.RootElement.TryGetProperty("type", out var type) || type.GetString() is not { } value)
            {
                return null;
            }

            var confidence = json.RootElement.TryGetProperty("confidence", out var c) && c.TryGetDouble(out var d) ? Math.Clamp(d, 0, 1) : 0.5;
            return (value.Trim().ToLowerInvariant(), confidence);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
