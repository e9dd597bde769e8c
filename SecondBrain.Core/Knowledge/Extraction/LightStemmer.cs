namespace SecondBrain.Core.Knowledge.Extraction;

/// <summary>
/// A deliberately small suffix stripper so "decide", "decides", "decided" and "deciding" share one lexicon entry.
/// It only ever removes a suffix, so a stem is a prefix of the lower-cased word and no string is allocated. It
/// over- and under-stems (that is fine: lexicon phrases go through the same function), and the naive matcher derives
/// its regexes from exactly these rules, so both matchers agree by construction.
/// </summary>
public static class LightStemmer
{
    /// <summary>The length of the stem of <paramref name="lower"/> (already lower-case): the stem is <c>lower[..result]</c>.</summary>
    public static int StemLength(ReadOnlySpan<char> lower)
    {
        var n = lower.Length;
        if (n > 3 && lower[n - 2] is '\'' or '\u2019' && lower[n - 1] == 's')
        {
            n -= 2;
        }

        var w = lower[..n];
        if (n >= 6 && w.EndsWith("ing", StringComparison.Ordinal))
        {
            n -= 3;
        }
        else if (n >= 5 && w.EndsWith("ed", StringComparison.Ordinal))
        {
            // Only the "d": "agreed" -> "agree" -> "agre" meets "agree" -> "agre" below.
            n -= 1;
        }
        else if (n >= 5 && w.EndsWith("es", StringComparison.Ordinal) && (w[n - 3] is 's' or 'x' or 'z' || w.EndsWith("ches", StringComparison.Ordinal) || w.EndsWith("shes", StringComparison.Ordinal)))
        {
            n -= 2;
        }
        else if (n >= 4 && w[n - 1] == 's' && w[n - 2] is not ('s' or 'u' or 'i'))
        {
            n -= 1;
        }

        if (n >= 4 && lower[n - 1] == 'e')
        {
            n -= 1;
        }

        return n;
    }

    public static string Stem(string word)
    {
        var lower = word.ToLowerInvariant();
        return lower[..StemLength(lower)];
    }

    /// <summary>
    /// Every word that stems to <paramref name="stem"/>: the stem followed by an optional "e", one of the stripped
    /// suffixes and an optional possessive, kept when it really stems back. Used to build equivalent regexes.
    /// </summary>
    public static IReadOnlyList<string> Inflections(string stem)
    {
        string[] middles = ["", "e"];
        string[] suffixes = ["", "ing", "d", "ed", "es", "s"];
        string[] possessives = ["", "'s", "\u2019s"];
        var forms = new List<string>();
        foreach (var middle in middles)
        {
            foreach (var suffix in suffixes)
            {
                foreach (var possessive in possessives)
                {
                    var candidate = stem + middle + suffix + possessive;
                    if (StemLength(candidate) == stem.Length && candidate.StartsWith(stem, StringComparison.Ordinal) && !forms.Contains(candidate))
                    {
                        forms.Add(candidate);
                    }
                }
            }
        }

        return forms;
    }
}
