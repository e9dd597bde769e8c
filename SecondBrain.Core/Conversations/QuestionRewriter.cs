using System.Text.RegularExpressions;
using SecondBrain.Core.Common;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SecondBrain.Core.Search;

namespace SecondBrain.Core.Conversations;

/// <summary>A turn the rewriter reads: what was asked (and what it was rewritten to), or what was answered.</summary>
public sealed record Turn(string Role, string Content, string? Rewritten = null);

/// <summary>
/// Turns a follow-up ("and who decided that?", "what about the enterprise plan?") into a standalone question that
/// retrieval can search for. With a language model configured, the model rewrites it from the conversation (and the
/// deterministic rewrite is kept if the model fails or takes too long); without one, <see cref="Deterministic"/>
/// carries the previous question's subject and the previous answer's names over.
/// </summary>
public sealed partial class QuestionRewriter(IServiceProvider services, ILogger<QuestionRewriter> logger)
{
    private static readonly TimeSpan ModelTimeout = TimeSpan.FromSeconds(10);

    private static readonly HashSet<string> Stop = new(StringComparer.OrdinalIgnoreCase)
    {
        "a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "with", "by", "at", "from", "is", "are", "was", "were", "be",
        "do", "does", "did", "what", "which", "who", "whom", "when", "where", "why", "how", "we", "our", "you", "your", "i", "me",
        "my", "it", "its", "this", "that", "these", "those", "they", "them", "their", "he", "she", "him", "her", "his", "about",
        "also", "but", "so", "then", "there", "any", "can", "could", "should", "would", "will", "much", "many", "has", "have", "had"
    };

    private static readonly HashSet<string> Pronouns = new(StringComparer.OrdinalIgnoreCase)
    {
        "it", "its", "this", "that", "these", "those", "they", "them", "their", "he", "she", "him", "her", "his", "there", "then"
    };

    private static readonly HashSet<string> Interrogatives = new(StringComparer.OrdinalIgnoreCase)
    {
        "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "is", "are", "was", "were", "do", "does", "did",
        "can", "could", "should", "would", "will", "has", "have", "had", "long", "much", "many", "often", "s"
    };

    public async Task<string> RewriteAsync(IReadOnlyList<Turn> history, string question, CancellationToken ct)
    {
        var fallback = Deterministic(history, question);
        if (history.Count == 0 || services.GetService<IChatClient>() is not { } chat)
        {
            return fallback;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(ModelTimeout);
            var transcript = string.Join("\n", history.TakeLast(6).Select(t => $"{t.Role}: {Clip(t.Content, 600)}"));
            var response = await chat.GetResponseAsync(
            [
                new ChatMessage(ChatRole.System,
                    "Rewrite the user's last question so that it can be understood without the conversation: resolve pronouns and " +
                    "follow-ups (\"what about X\") from the conversation. Keep the user's wording otherwise. Answer with the question only."),
                new ChatMessage(ChatRole.User, $"Conversation:\n{transcript}\n\nLast question: {question}")
            ], cancellationToken: timeout.Token);
            var rewritten = response.Text.Trim().Trim('"').Trim();
            return rewritten.Length is > 0 and <= 2000 ? rewritten : fallback;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            logger.LogWarning(ex, "The model could not rewrite a follow-up; using the deterministic rewrite");
            return fallback;
        }
    }

    /// <summary>
    /// Without a model: a question that stands on its own is kept. A follow-up (it starts with "and", "what about",
    /// or leans on a pronoun with few words of its own) takes its subject from the previous question: "what about X"
    /// puts X in place of the phrase of the previous question that shares X's last word (else its last phrase);
    /// otherwise the pronoun becomes the previous question's subject. Names from the previous answer come along, so
    /// "who decided that?" after an answer about PostgreSQL searches for PostgreSQL too.
    /// </summary>
    public static string Deterministic(IReadOnlyList<Turn> history, string question)
    {
        var q = question.Trim();
        var previous = history.LastOrDefault(t => t.Role == MessageRoles.User);
        if (previous is null)
        {
            return q;
        }

        var previousQuestion = (previous.Rewritten ?? previous.Content).Trim().TrimEnd('?', '.', '!').Trim();
        var words = Tokens(q);
        var content = words.Where(w => !Stop.Contains(w)).ToList();
        var connector = Connector().IsMatch(q) || WhatAbout().IsMatch(q);
        var leansOnPronoun = words.Any(Pronouns.Contains) && content.Count <= 3;
        if (!connector && !leansOnPronoun && content.Count > 1)
        {
            return q;
        }

        var names = Names(history.LastOrDefault(t => t.Role == MessageRoles.Assistant)?.Content)
            .Where(n => !q.Contains(n, StringComparison.OrdinalIgnoreCase) && !previousQuestion.Contains(n, StringComparison.OrdinalIgnoreCase))
            .Take(3)
            .ToList();

        string rewritten;
        if (WhatAbout().Match(q) is { Success: true } about)
        {
            rewritten = Substitute(previousQuestion, Tokens(about.Groups["x"].Value).Where(w => w is not ("the" or "a" or "an")).ToList());
        }
        else
        {
            var own = Connector().Replace(q, "").Trim().TrimEnd('?', '.', '!').Trim();
            var subject = Subject(previousQuestion);
            var replaced = false;
            var tokens = own.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(t =>
            {
                if (!replaced && Pronouns.Contains(t.Trim(',', ';')))
                {
                    replaced = true;
                    return subject;
                }

                return t;
            }).ToList();
            rewritten = string.Join(' ', tokens);
            if (!replaced)
            {
                rewritten = $"{rewritten} {subject}".Trim();
            }
        }

        if (names.Count > 0)
        {
            rewritten = $"{rewritten} ({string.Join(", ", names)})";
        }

        return rewritten.Length > 0 ? rewritten + "?" : q;
    }

    /// <summary>Puts <paramref name="replacement"/> in place of the previous question's phrase that ends in the same word.</summary>
    private static string Substitute(string previousQuestion, IReadOnlyList<string> replacement)
    {
        if (replacement.Count == 0)
        {
            return previousQuestion;
        }

        var tokens = previousQuestion.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        var head = Stem(replacement[^1]);
        var at = tokens.FindLastIndex(t => Stem(t.Trim(',', ';').ToLowerInvariant()) == head);
        int start;
        if (at >= 0)
        {
            start = at;
            while (start > 0 && !Stop.Contains(tokens[start - 1]))
            {
                start--;
            }
        }
        else
        {
            // No shared word: the previous question's last phrase (after its last small word) is what changes.
            at = tokens.Count - 1;
            start = tokens.FindLastIndex(t => Stop.Contains(t)) + 1;
            if (start > at)
            {
                start = at;
            }
        }

        tokens.RemoveRange(start, at - start + 1);
        tokens.InsertRange(start, replacement);
        return string.Join(' ', tokens);
    }

    /// <summary>The previous question without its question words: what it was about.</summary>
    private static string Subject(string previousQuestion)
    {
        var tokens = previousQuestion.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        var skip = 0;
        while (skip < tokens.Count - 1 && Interrogatives.Contains(tokens[skip].Trim('\'', ',')))
        {
            skip++;
        }

        return string.Join(' ', tokens.Skip(skip));
    }

    /// <summary>Capitalised names and acronyms in an answer (not sentence starts, not citation markers).</summary>
    private static IEnumerable<string> Names(string? answer)
    {
        if (string.IsNullOrEmpty(answer))
        {
            return [];
        }

        return SafeRegex.Matches(NameToken(), answer).Select(m => m.Value).Where(n => !Stop.Contains(n)).Distinct(StringComparer.Ordinal);
    }

    private static List<string> Tokens(string text) => Word().Matches(text.ToLowerInvariant()).Select(m => m.Value).ToList();

    private static string Stem(string word) => word.Length > 3 && word.EndsWith('s') ? word[..^1] : word;

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..max] + "…";

    [GeneratedRegex(@"^\s*(and|but|also|so|ok|okay|then)\b[\s,]*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Connector();

    [GeneratedRegex(@"^\s*(and\s+|but\s+|ok\s+|okay\s+)?(what|how)\s+about\s+(?<x>[^?]+)\??\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex WhatAbout();

    [GeneratedRegex(@"[\p{L}\p{N}][\p{L}\p{N}'-]*", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex Word();

    [GeneratedRegex(@"(?<=[a-z,;:]\s)(\p{Lu}[\p{L}\p{N}]+(\s\p{Lu}[\p{L}\p{N}]+)?)", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: SafeRegex.TimeoutMilliseconds)]
    private static partial Regex NameToken();
}
