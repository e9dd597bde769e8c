using System.Globalization;

namespace SecondBrain.Core.Knowledge.Extraction;

internal enum TokenKind : byte
{
    Word,
    Number,
    Punct,
    Email,
    Url,
    Handle
}

[Flags]
internal enum TokenFlags : ushort
{
    None = 0,
    Capitalized = 1,
    AllCaps = 2,
    HasDigit = 4,
    CamelCase = 8,
    Hyphenated = 16,
    Possessive = 32,
    NegatedContraction = 64,
    Identifier = 128,
    HasLetter = 256
}

/// <param name="TriggerWord">The lexicon vocabulary id of the token's stem, or -1: the automaton's input symbol.</param>
/// <param name="Verb">-1, <see cref="StemInfo.CommonVerb"/>, or the index of a claim verb in <see cref="WordLists.ClaimVerbs"/>.</param>
internal readonly record struct Token(int Start, int Length, TokenKind Kind, TokenFlags Flags, WordClass Class, int TriggerWord, short Verb)
{
    public int End => Start + Length;

    public bool Is(WordClass wordClass) => (Class & wordClass) != 0;

    public bool Has(TokenFlags flags) => (Flags & flags) != 0;

    public bool IsWord => Kind == TokenKind.Word;

    public bool IsVerb => Verb >= 0;
}

/// <summary>
/// One pass over a sentence: words (with internal hyphens and apostrophes, and "e.g."-style dotted letters), numbers
/// (with decimal and date separators and unit letters, "3.5", "2025-03-03", "200ms"), e-mail addresses, URLs,
/// @handles, and single punctuation characters. Every non-space character belongs to exactly one token. Each word is
/// lower-cased into a stack buffer and looked up twice in frozen tables (its word classes, its stem's lexicon id),
/// which is everything the automaton and the slot heuristics need, with no allocation per token.
/// </summary>
internal static class Tokenizer
{
    private const int MaxLookupLength = 48;

    public static void Tokenize(string text, TriggerLexicon lexicon, List<Token> tokens)
    {
        var n = text.Length;
        var i = 0;
        Span<char> lower = stackalloc char[MaxLookupLength];
        while (i < n)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }

            if (IsUrlStart(text, i))
            {
                var j = i;
                while (j < n && !char.IsWhiteSpace(text[j]))
                {
                    j++;
                }

                while (j > i + 4 && text[j - 1] is '.' or ',' or ';' or ':' or '!' or '?' or ')' or ']' or '}' or '\'' or '"' or '>' or '\u2019' or '\u201D' or '\u00BB')
                {
                    j--;
                }

                tokens.Add(new Token(i, j - i, TokenKind.Url, TokenFlags.None, WordClass.None, -1, -1));
                i = j;
                continue;
            }

            if (IsWordChar(c))
            {
                if (TryEmail(text, i, out var emailEnd))
                {
                    tokens.Add(new Token(i, emailEnd - i, TokenKind.Email, TokenFlags.None, WordClass.None, -1, -1));
                    i = emailEnd;
                    continue;
                }

                if (char.IsDigit(c))
                {
                    var j = ScanNumber(text, i);
                    tokens.Add(new Token(i, j - i, TokenKind.Number, TokenFlags.HasDigit, WordClass.None, -1, -1));
                    i = j;
                    continue;
                }

                var end = ScanWord(text, i);
                tokens.Add(Word(text, i, end, lexicon, lower));
                i = end;
                continue;
            }

            if (c == '@' && i + 1 < n && IsWordChar(text[i + 1]))
            {
                var j = i + 1;
                while (j < n && (IsWordChar(text[j]) || (text[j] is '.' or '-' && j + 1 < n && IsWordChar(text[j + 1]))))
                {
                    j++;
                }

                tokens.Add(new Token(i, j - i, TokenKind.Handle, TokenFlags.None, WordClass.None, -1, -1));
                i = j;
                continue;
            }

            tokens.Add(new Token(i, 1, TokenKind.Punct, TokenFlags.None, WordClass.None, -1, -1));
            i++;
        }
    }

    /// <summary>Exactly the regex class \w ([\p{L}\p{Mn}\p{Nd}\p{Pc}]), so the naive matcher's boundaries agree.</summary>
    public static bool IsWordChar(char c)
    {
        if (c < 128)
        {
            return char.IsAsciiLetterOrDigit(c) || c == '_';
        }

        return CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter
            or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
            or UnicodeCategory.NonSpacingMark or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.ConnectorPunctuation;
    }

    private static bool IsUrlStart(string text, int i) =>
        text.AsSpan(i).StartsWith("http://", StringComparison.OrdinalIgnoreCase)
        || text.AsSpan(i).StartsWith("https://", StringComparison.OrdinalIgnoreCase)
        || text.AsSpan(i).StartsWith("www.", StringComparison.OrdinalIgnoreCase);

    private static bool IsLocalPartChar(char c) => IsWordChar(c) || c is '.' or '%' or '+' or '-';

    /// <summary>local@domain where the domain has a dot followed by a word character (the naive regexes test the same).</summary>
    private static bool TryEmail(string text, int start, out int end)
    {
        end = start;
        var j = start;
        while (j < text.Length && IsLocalPartChar(text[j]))
        {
            j++;
        }

        if (j >= text.Length || text[j] != '@')
        {
            return false;
        }

        var k = j + 1;
        var valid = false;
        while (k < text.Length && (IsWordChar(text[k]) || text[k] is '.' or '-'))
        {
            if (text[k] == '.' && k + 1 < text.Length && IsWordChar(text[k + 1]))
            {
                valid = true;
            }

            k++;
        }

        if (!valid)
        {
            return false;
        }

        while (text[k - 1] is '.' or '-')
        {
            k--;
        }

        end = k;
        return true;
    }

    private static int ScanNumber(string text, int i)
    {
        var n = text.Length;
        var j = i + 1;
        while (j < n)
        {
            var c = text[j];
            if (IsWordChar(c))
            {
                j++;
            }
            else if (c is '.' or ',' or ':' or '/' && j + 1 < n && char.IsDigit(text[j + 1]) && char.IsDigit(text[j - 1]))
            {
                j++;
            }
            else if (c is '-' or '\'' or '\u2019' && j + 1 < n && IsWordChar(text[j + 1]))
            {
                j++;
            }
            else
            {
                break;
            }
        }

        return j;
    }

    private static int ScanWord(string text, int i)
    {
        var n = text.Length;
        var j = i + 1;
        var segmentStart = i;
        while (j < n)
        {
            var c = text[j];
            if (IsWordChar(c))
            {
                j++;
            }
            else if (c is '-' or '\'' or '\u2019' && j + 1 < n && IsWordChar(text[j + 1]))
            {
                j++;
            }
            else if (c == '.' && j - segmentStart == 1 && j + 1 < n && char.IsLetter(text[j + 1]) && (j + 2 >= n || !IsWordChar(text[j + 2])))
            {
                // Dotted single letters: "e.g", "i.e", "U.S", "a.m".
                segmentStart = j + 1;
                j += 2;
            }
            else
            {
                break;
            }
        }

        return j;
    }

    private static Token Word(string text, int start, int end, TriggerLexicon lexicon, Span<char> lower)
    {
        var span = text.AsSpan(start, end - start);
        var flags = TokenFlags.None;
        var upper = 0;
        var letters = 0;
        var previousLower = false;
        foreach (var ch in span)
        {
            var isLower = false;
            if (char.IsLetter(ch))
            {
                letters++;
                if (char.IsUpper(ch))
                {
                    upper++;
                    if (previousLower)
                    {
                        // "DataSync", "iPhone"; not "All-Requirements".
                        flags |= TokenFlags.CamelCase;
                    }
                }
                else
                {
                    isLower = true;
                }
            }
            else if (char.IsDigit(ch))
            {
                flags |= TokenFlags.HasDigit;
            }
            else if (ch == '-')
            {
                flags |= TokenFlags.Hyphenated;
            }
            else if (ch == '_')
            {
                flags |= TokenFlags.Identifier;
            }

            previousLower = isLower;
        }

        if (letters > 0)
        {
            flags |= TokenFlags.HasLetter;
            if (char.IsUpper(span[0]))
            {
                flags |= TokenFlags.Capitalized;
            }

            if (upper == letters && letters >= 2)
            {
                flags |= TokenFlags.AllCaps;
            }
        }

        if (span.Length > MaxLookupLength)
        {
            return new Token(start, span.Length, TokenKind.Word, flags, WordClass.None, -1, -1);
        }

        var lowered = lower[..span.Length];
        span.ToLowerInvariant(lowered);
        lowered.Replace('\u2019', '\'');
        if (lowered.Length > 2 && lowered[^2] == '\'' && lowered[^1] == 's')
        {
            flags |= TokenFlags.Possessive;
        }

        if (lowered.EndsWith("n't", StringComparison.Ordinal))
        {
            flags |= TokenFlags.NegatedContraction;
        }

        var wordClass = WordLists.ClassLookup.TryGetValue(lowered, out var classes) ? classes : WordClass.None;
        if ((flags & TokenFlags.NegatedContraction) != 0)
        {
            wordClass |= WordClass.Negation;
        }

        var stem = lexicon.LookupStem(lowered[..LightStemmer.StemLength(lowered)]);
        return new Token(start, span.Length, TokenKind.Word, flags, wordClass, stem.TriggerWord, stem.Verb);
    }
}
