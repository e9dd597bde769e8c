using System.Diagnostics;
using System.Text;
using SecondBrain.Core.Documents;
using SecondBrain.Core.Ingestion;
using SecondBrain.Core.Ingestion.Parsing;
using SecondBrain.Core.Integrations.Slack;
using SecondBrain.Core.Knowledge;
using SecondBrain.Core.Knowledge.Analysis;
using SecondBrain.Core.Knowledge.Extraction;
using Xunit.Abstractions;

namespace SecondBrain.Tests.Unit;

/// <summary>
/// Every text function that runs regexes over document text (parsing, Slack rendering, knowledge extraction, gap
/// analysis) against input made to make a backtracking regex explode: long runs of capitals (which the
/// "Name Surname:" speaker patterns used to take in time to the fourth power of their length), runs of punctuation,
/// 600-character words, 100,000-character lines. Each call must finish in bounded time and give an answer.
/// </summary>
public sealed class RegexSafetyTests(ITestOutputHelper output)
{
    // Generous for a 2-core machine shared with other builds; the old patterns took minutes on these inputs.
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(5);

    public static TheoryData<string, string> Adversarial()
    {
        var random = new Random(11);
        string Word(int length) => new(Enumerable.Range(0, length).Select(_ => (char)('a' + random.Next(26))).ToArray());
        var capitals = new string('A', 600);
        return new TheoryData<string, string>
        {
            { "capitals", capitals },
            { "capitals then a team commitment", capitals + " we will ship it" },
            { "capital words", string.Join(' ', Enumerable.Repeat("ABC", 2000)) + " no colon" },
            { "capitals with apostrophes and dots", string.Concat(Enumerable.Repeat("A'B.C-", 400)) },
            { "capitals then a colon far away", capitals + new string(' ', 600) + ":" },
            { "punctuation", new string('.', 5000) + new string('!', 5000) + new string('?', 5000) },
            { "dashes", new string('-', 20_000) },
            { "hashes", new string('#', 100_000) },
            { "a heading with a long tail", "# " + string.Concat(Enumerable.Repeat("a ", 40_000)) + new string('#', 2000) + " x" },
            { "600-character words", string.Join(' ', Enumerable.Range(0, 50).Select(_ => Word(600))) },
            { "a 100,000-character line", string.Concat(Enumerable.Repeat("we will ", 12_500)) },
            { "a 100,000-character word", Word(100_000) },
            { "angle brackets", string.Concat(Enumerable.Repeat("<@U", 30_000)) },
            { "an attribution without its colon", "On " + string.Concat(Enumerable.Repeat("Mon wrote ", 10_000)) },
            { "reply prefixes", string.Concat(Enumerable.Repeat("re: fw: ", 10_000)) + "topic" },
            { "e-mail-ish", string.Concat(Enumerable.Repeat("a@b.", 25_000)) + " <x@y" },
            { "spaces then a colon", new string(' ', 100_000) + ": " }
        };
    }

    [Theory]
    [MemberData(nameof(Adversarial))]
    public async Task Parsing_extraction_and_analysis_finish_in_bounded_time(string name, string text)
    {
        var timings = new List<(string Function, TimeSpan Took)>();

        void Time(string function, Action action)
        {
            var clock = Stopwatch.StartNew();
            action();
            timings.Add((function, clock.Elapsed));
        }

        async Task TimeAsync(string function, Func<Task> action)
        {
            var clock = Stopwatch.StartNew();
            await action();
            timings.Add((function, clock.Elapsed));
        }

        var parser = new DocumentParser(new ParsingSettings { Timeout = TimeSpan.FromMinutes(5) });
        foreach (var contentType in new[] { "text/plain", "text/markdown", "text/html", "text/x-slack-thread", "message/rfc822" })
        {
            var body = contentType == "message/rfc822" ? $"From: a@b.c\r\nSubject: {text[..Math.Min(text.Length, 900)]}\r\n\r\n{text}\r\n> {text}\r\n-- \r\n{text}" : text;
            await TimeAsync($"parse {contentType}", async () =>
            {
                try
                {
                    await parser.ParseAsync(new ParseInput("adversarial", contentType, null, body), CancellationToken.None);
                }
                catch (DocumentParseException)
                {
                    // A reason is an answer too (an empty or over-long document); a hang or a crash is not.
                }
            });
        }

        Time("slack render", () => SlackText.Render(text, _ => "Ada"));
        Time("slack mentions", () => _ = SlackText.MentionedUserIds(text).Count());
        await TimeAsync("extract", () => DocumentExtractor.ExtractAsync(new DocumentInput(Guid.NewGuid(), text, "Adversarial", "upload")));
        foreach (var sentence in new[] { text, text[..Math.Min(text.Length, 600)] })
        {
            Time("sentence key", () => GapRules.SentenceKey(sentence));
            Time("time expression", () => GapRules.HasTimeExpression(sentence));
            Time("commitment", () => GapRules.IsCommitment(sentence));
            Time("team commitment", () => GapRules.IsTeamCommitment(sentence));
            Time("operational knowledge", () => GapRules.IsOperationalKnowledge(sentence));
            Time("header line", () => GapRules.IsHeaderLine(sentence));
            Time("name keys", () => GapRules.NameKeys(sentence));
            Time("author", () => GapRules.ParseAuthor(sentence));
            Time("slack replies", () => GapRules.SlackReplies(sentence + "\n" + sentence, sentence));
            Time("missing time", () => GapTemplates.MissingTime(new GapEvidence(Guid.NewGuid(), "Adversarial", sentence, null)));
        }

        Time("thread key", () => DocumentKnowledgeQueue.ThreadKey(new Document
        {
            Source = "upload", ExternalId = "x", Title = text, ContentType = "message/rfc822", ContentHash = "", Status = "pending"
        }));

        foreach (var (function, took) in timings.OrderByDescending(t => t.Took).Take(3))
        {
            output.WriteLine($"{name}: {function} {took.TotalMilliseconds:F0} ms");
        }

        Assert.All(timings, t => Assert.True(t.Took < Budget, $"{t.Function} took {t.Took.TotalSeconds:F1} s on {name}"));
    }

    [Fact]
    public void A_backtracking_pattern_that_times_out_degrades_to_no_match_instead_of_throwing()
    {
        // The team-commitment pattern keeps a lookahead (so it cannot run non-backtracking) and a nested quantifier over
        // capitalised words: on a long run of capitals it runs out of its time and answers "not a commitment".
        var text = new string('A', 600) + "x";
        var clock = Stopwatch.StartNew();
        Assert.False(GapRules.IsTeamCommitment(text));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed}");
        Assert.True(GapRules.IsTeamCommitment("Raj Aggarwal: We will ship the importer in May."));
        Assert.False(GapRules.IsTeamCommitment("We will not ship the importer."));
    }
}
