using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;

namespace SecondBrain.Core.Knowledge.Extraction;

/// <summary>How the slots sit around a trigger (or, for a cue, what the cue introduces).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TriggerRole>))]
public enum TriggerRole
{
    /// <summary>Agent on the left, object on the right: "we decided to ...", "Maria owns ...".</summary>
    Active,

    /// <summary>Object on the left: "the budget was approved", "payments failed", "the launch is scheduled for".</summary>
    Passive,

    /// <summary>The trigger is the head of a noun phrase that is the frame's object: "the release process", "the outage".</summary>
    Noun,

    /// <summary>A frequency ("every week", "nightly"): a process done on a schedule.</summary>
    Frequency,

    /// <summary>"the owner of X is Y".</summary>
    OwnerOf,

    /// <summary>A bound on a quantity: "at most", "no more than".</summary>
    Limit,

    /// <summary>"X stands for Y": term on the left.</summary>
    TermFirst,

    /// <summary>"Y is called X": term on the right.</summary>
    TermLast,

    /// <summary>Cue: the reason follows ("because", "due to", "in order to").</summary>
    Rationale,

    /// <summary>Cue: a purpose whose words are the reason ("to reduce costs").</summary>
    Purpose,

    /// <summary>Cue: the cause of a problem follows ("caused by", "triggered by").</summary>
    Cause,

    /// <summary>Cue: an ordered step ("first", "then", "finally").</summary>
    Step
}

/// <param name="Phrase">Words separated by single spaces; matched on lower-cased, lightly stemmed tokens.</param>
/// <param name="Frame">The frame the trigger opens, or null for a cue that only fills slots.</param>
/// <param name="Weight">0..1, how reliably the phrase signals the frame (multi-word phrases are stronger).</param>
/// <param name="Negates">The phrase itself negates its frame ("decided against").</param>
public sealed record TriggerEntry(string Phrase, FrameType? Frame, TriggerRole Role, double Weight, bool Negates = false);

/// <summary>A lexicon entry found in a text: character offsets into the text that was matched.</summary>
public readonly record struct TriggerMatch(int Entry, int Start, int End);

internal readonly record struct TokenMatch(int Entry, int First, int End);

internal readonly record struct StemInfo(int TriggerWord, short Verb)
{
    public const short CommonVerb = 1000;
    public static readonly StemInfo None = new(-1, -1);
}

/// <summary>
/// The one trigger lexicon: frame triggers and slot cues as immutable data, compiled once into an Aho-Corasick
/// automaton over stemmed word tokens. A sentence is tokenized once and every entry, multi-word or not, is found in
/// that single left-to-right pass: the cost grows with the sentence, not with the number of entries.
/// </summary>
public sealed partial class TriggerLexicon
{
    /// <summary>Bump when the analyser's heuristics change in a way that changes its output: it is part of <see cref="Version"/>.</summary>
    public const int AnalyzerRevision = 6;

    public static TriggerLexicon Default { get; } = new(DefaultEntries());

    private readonly FrozenDictionary<string, StemInfo>.AlternateLookup<ReadOnlySpan<char>> _stems;
    private readonly FrozenDictionary<long, int> _goto;
    private readonly int[] _fail;
    private readonly int[][] _outputs;
    private readonly int[] _lengths;
    private readonly FrozenDictionary<string, TriggerEntry> _byPhrase;

    public TriggerLexicon(IEnumerable<TriggerEntry> entries)
    {
        Entries = [.. entries];
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        var sequences = new int[Entries.Length][];
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var e = 0; e < Entries.Length; e++)
        {
            var words = Entries[e].Phrase.Split(' ');
            var stems = words.Select(StemOf).ToArray();
            var key = string.Join(' ', stems);
            if (!seen.TryAdd(key, Entries[e].Phrase))
            {
                throw new InvalidOperationException($"Lexicon entries '{seen[key]}' and '{Entries[e].Phrase}' are the same after stemming ('{key}').");
            }

            sequences[e] = [.. stems.Select(s => vocabulary.TryGetValue(s, out var id) ? id : vocabulary[s] = vocabulary.Count)];
        }

        Vocabulary = [.. vocabulary.OrderBy(p => p.Value).Select(p => p.Key)];
        _lengths = [.. sequences.Select(s => s.Length)];
        (_goto, _fail, _outputs) = BuildAutomaton(sequences);

        var stemTable = vocabulary.ToDictionary(p => p.Key, p => new StemInfo(p.Value, -1), StringComparer.Ordinal);
        foreach (var verb in WordLists.CommonVerbs)
        {
            var stem = LightStemmer.Stem(verb);
            stemTable[stem] = stemTable.GetValueOrDefault(stem, StemInfo.None) with { Verb = StemInfo.CommonVerb };
        }

        for (short v = 0; v < WordLists.ClaimVerbs.Length; v++)
        {
            var stem = LightStemmer.Stem(WordLists.ClaimVerbs[v]);
            var current = stemTable.GetValueOrDefault(stem, StemInfo.None);
            if (current.Verb is -1 or StemInfo.CommonVerb)
            {
                stemTable[stem] = current with { Verb = v };
            }
        }

        _stems = stemTable.ToFrozenDictionary(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
        _byPhrase = Entries.ToFrozenDictionary(e => e.Phrase, StringComparer.Ordinal);
        Version = ComputeVersion(Entries);
    }

    public ImmutableArray<TriggerEntry> Entries { get; }

    /// <summary>"every", "each", "times": frequency triggers only inside a frequency expression ("every 90 days", "3 times a week").</summary>
    public static bool IsGenericFrequency(string phrase) => phrase is "every" or "each" or "times";

    /// <summary>The distinct stems the automaton reads, in id order.</summary>
    public ImmutableArray<string> Vocabulary { get; }

    /// <summary>
    /// A hash of the entries, the analyser's word lists and <see cref="AnalyzerRevision"/>: part of every sentence
    /// cache key, so a changed lexicon never reads analyses made by an older one.
    /// </summary>
    public string Version { get; }

    /// <summary>The stems of a phrase's words, in order: what the automaton matches.</summary>
    public static IReadOnlyList<string> PhraseStems(string phrase) => [.. phrase.Split(' ').Select(StemOf)];

    /// <summary>The entry with this exact phrase, or null.</summary>
    public TriggerEntry? Find(string phrase) => _byPhrase.GetValueOrDefault(phrase);

    internal StemInfo LookupStem(ReadOnlySpan<char> stem) => _stems.TryGetValue(stem, out var info) ? info : StemInfo.None;

    /// <summary>All entries in the token stream, overlapping ones included, in order of their last token.</summary>
    internal void Scan(List<Token> tokens, List<TokenMatch> matches)
    {
        var state = 0;
        for (var i = 0; i < tokens.Count; i++)
        {
            var symbol = tokens[i].TriggerWord;
            if (symbol < 0)
            {
                state = 0;
                continue;
            }

            while (true)
            {
                if (_goto.TryGetValue(((long)state << 32) | (uint)symbol, out var next))
                {
                    state = next;
                    break;
                }

                if (state == 0)
                {
                    break;
                }

                state = _fail[state];
            }

            foreach (var entry in _outputs[state])
            {
                matches.Add(new TokenMatch(entry, i - _lengths[entry] + 1, i + 1));
            }
        }
    }

    private static string StemOf(string word)
    {
        if (word.Length == 0 || !word.All(c => Tokenizer.IsWordChar(c) || c is '-' or '\''))
        {
            throw new InvalidOperationException($"Lexicon word '{word}' is not a single word token.");
        }

        return LightStemmer.Stem(word);
    }

    private static (FrozenDictionary<long, int> Goto, int[] Fail, int[][] Outputs) BuildAutomaton(int[][] sequences)
    {
        var transitions = new Dictionary<long, int>();
        var children = new List<List<(int Symbol, int State)>> { new() };
        var outputs = new List<List<int>> { new() };
        for (var e = 0; e < sequences.Length; e++)
        {
            var state = 0;
            foreach (var symbol in sequences[e])
            {
                var key = ((long)state << 32) | (uint)symbol;
                if (!transitions.TryGetValue(key, out var next))
                {
                    next = children.Count;
                    transitions[key] = next;
                    children[state].Add((symbol, next));
                    children.Add([]);
                    outputs.Add([]);
                }

                state = next;
            }

            outputs[state].Add(e);
        }

        // Breadth-first failure links; each state's outputs include those of its failure chain, so a scan reports
        // every entry ending at a token without walking the chain.
        var fail = new int[children.Count];
        var queue = new Queue<int>();
        foreach (var (_, child) in children[0])
        {
            queue.Enqueue(child);
        }

        while (queue.Count > 0)
        {
            var state = queue.Dequeue();
            foreach (var (symbol, child) in children[state])
            {
                var f = fail[state];
                int target;
                while (!transitions.TryGetValue(((long)f << 32) | (uint)symbol, out target) && f != 0)
                {
                    f = fail[f];
                }

                fail[child] = transitions.TryGetValue(((long)f << 32) | (uint)symbol, out target) && target != child ? target : 0;
                outputs[child].AddRange(outputs[fail[child]]);
                queue.Enqueue(child);
            }
        }

        return (transitions.ToFrozenDictionary(), fail, [.. outputs.Select(o => o.ToArray())]);
    }

    private static string ComputeVersion(ImmutableArray<TriggerEntry> entries)
    {
        var content = new StringBuilder();
        content.Append("revision ").Append(AnalyzerRevision).Append('\n');
        foreach (var entry in entries)
        {
            content.Append(entry.Phrase).Append('|').Append(entry.Frame).Append('|').Append(entry.Role).Append('|')
                .Append(entry.Weight.ToString("R", System.Globalization.CultureInfo.InvariantCulture)).Append('|').Append(entry.Negates).Append('\n');
        }

        foreach (var (wordClass, words) in WordLists.Groups)
        {
            content.Append(wordClass).Append(':').AppendJoin(',', words).Append('\n');
        }

        content.AppendJoin(',', WordLists.ClaimVerbs).Append('\n').AppendJoin(',', WordLists.CommonVerbs);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content.ToString())))[..16];
    }
}
