using System.Text;
using Microsoft.Extensions.AI;

namespace SecondBrain.Core.Search.Answers;

/// <summary>The messages a language model answers from: the rules, the conversation so far, the numbered sources and the question.</summary>
public static class GroundedPrompt
{
    private const int HistoryTurns = 6;

    public static List<ChatMessage> Build(string question, IReadOnlyList<ChatMessage> history, IReadOnlyList<Citation> citations)
    {
        var sources = new StringBuilder();
        foreach (var c in citations)
        {
            sources.Append('[').Append(c.Number).Append("] ").Append(c.Title).Append('\n').Append(c.Excerpt).Append("\n\n");
        }

        var messages = new List<ChatMessage>
        {
            new(ChatRole.System,
                "You answer questions about a team's documents. Use only the numbered sources. Cite every claim with its source " +
                "number in brackets, like [2]. If the sources do not answer the question, say so plainly and do not guess. " +
                "Never repeat e-mail headers, signatures or quoted replies.")
        };
        messages.AddRange(history.TakeLast(HistoryTurns));
        messages.Add(new ChatMessage(ChatRole.User, $"Sources:\n{sources}\nQuestion: {question}"));
        return messages;
    }
}
