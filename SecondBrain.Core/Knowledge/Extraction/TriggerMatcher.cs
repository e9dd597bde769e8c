using System.Text;
using System.Text.RegularExpressions;
using SecondBrain.Core.Common;

namespace SecondBrain.Core.Knowledge.Extraction;

/// <summary>Finds every lexicon entry in a text with the compiled automaton: one tokenizer pass, one automaton pass.</summary>
public sealed class TriggerMatcher(TriggerLexicon lexicon)
{
    public static TriggerMatcher Default { get; } = new(TriggerLexicon.Default);

    public TriggerLexicon Lexicon => lexicon;

    public IReadOnlyList<TriggerMatch> Match(string text)
    {
        var tokens = new List<Token>(32);
        Tokenizer.Tokenize(text, lexicon, tokens);
        var found = new List<TokenMatch>();
        lexicon.Scan(tokens, found);
        var matches = new TriggerMatch[found.Count];
        for (var i = 0; i < found.Count; i++)
        {
            matches[i] = new TriggerMatch(found[i].Entry, tokens[found[i].First].Start, tokens[found[i].End - 1].End);
        }

        return matches;
    }
}

/// <summary>
/// What the old system did, kept only as a baseline: one regex per lexicon entry, each run over the text in turn.
/// Each word of an entry becomes the alternation of every inflection that stems to it, and the lookarounds reproduce
/// the tokenizer's word boundaries (no match inside a longer word, an e-mail address, a URL or an @handle), so it
/// finds exactly what <see cref="TriggerMatcher"/> finds, only slower.
/// </summary>
public sealed class NaiveTriggerMatcher
{
    private const string Before = @"(?<![\w@])(?<!\w['’-])(?<!(?:https?://|www\.)\S*)(?<!@[\w.-]*)";
    private const string After = @"(?!['’-]?\w)(?![\w.%+-]*@[\w.-]*\.\w)";

    private readonly Regex[] _patterns;

    public NaiveTriggerMatcher(TriggerLexicon lexicon, bool compiled = true)
    {
        var options = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | (compiled ? RegexOptions.Compiled : RegexOptions.None);
        _patterns = [.. lexicon.Entries.Select(e => new Regex(PatternFor(e), options, TimeSpan.FromMilliseconds(SafeRegex.TimeoutMilliseconds)))];
    }

    public int PatternCount => _patterns.Length;

    public IReadOnlyList<TriggerMatch> Match(string text)
    {
        var matches = new List<TriggerMatch>();
        for (var i = 0; i < _patterns.Length; i++)
        {
            for (var m = _patterns[i].Match(text); m.Success; m = m.NextMatch())
            {
                matches.Add(new TriggerMatch(i, m.Index, m.Index + m.Length));
            }
        }

        return matches;
    }

    public static string PatternFor(TriggerEntry entry)
    {
        var pattern = new StringBuilder(Before);
        var first = true;
        foreach (var stem in TriggerLexicon.PhraseStems(entry.Phrase))
        {
            if (!first)
            {
                pattern.Append(@"\s+");
            }

            first = false;
            var forms = LightStemmer.Inflections(stem).OrderByDescending(f => f.Length)
                .Select(f => string.Concat(f.Select(ch => ch is '\'' or '\u2019' ? "['’]" : Regex.Escape(ch.ToString()))));
            pattern.Append("(?:").AppendJoin('|', forms).Append(')');
        }

        return pattern.Append(After).ToString();
    }
}
