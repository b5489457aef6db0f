namespace Tuneforge.Core.Evals.Grading;

/// <summary>
/// The Porter stemmer as nltk's <c>PorterStemmer()</c> runs it by default (mode NLTK_EXTENSIONS): Porter's 1980 steps
/// 1a–5b plus nltk's changes — a table of irregular forms, words of one or two letters kept, "ies"/"ied" on four-letter
/// words → "ie", y → i only after a consonant that is not the first letter, "alli" handled before the rest of step 2,
/// "bli" → "ble" (not "abli"), "fulli" → "ful", "logi" → "log", and a two-letter vowel-consonant stem counting as cvc.
/// Input is lower-cased first.
/// </summary>
internal static class PorterStemmer
{
    private static readonly Dictionary<string, string> Irregular = new()
    {
        ["skies"] = "sky", ["sky"] = "sky", ["dying"] = "die", ["lying"] = "lie", ["tying"] = "tie", ["news"] = "news",
        ["innings"] = "inning", ["inning"] = "inning", ["outings"] = "outing", ["outing"] = "outing",
        ["cannings"] = "canning", ["canning"] = "canning", ["howe"] = "howe", ["proceed"] = "proceed",
        ["exceed"] = "exceed", ["succeed"] = "succeed",
    };

    /// <summary>A rule: when the word ends with Suffix, the condition (on the word without it) decides; the first rule whose suffix matches ends the step.</summary>
    private readonly record struct Rule(string Suffix, string Replacement, Func<string, bool>? Condition);

    public static string Stem(string word)
    {
        var stem = word.ToLowerInvariant();
        if (Irregular.TryGetValue(stem, out var irregular)) return irregular;
        if (stem.Length <= 2) return stem;
        stem = Step1a(stem);
        stem = Step1b(stem);
        stem = Step1c(stem);
        stem = Step2(stem);
        stem = Step3(stem);
        stem = Step4(stem);
        stem = Step5a(stem);
        return Step5b(stem);
    }

    private static bool IsConsonant(string word, int i) => word[i] switch
    {
        'a' or 'e' or 'i' or 'o' or 'u' => false,
        'y' => i == 0 || !IsConsonant(word, i - 1),
        _ => true,
    };

    /// <summary>m in [C](VC)^m[V]: the number of vowel-then-consonant transitions.</summary>
    private static int Measure(string stem)
    {
        var m = 0;
        for (var i = 1; i < stem.Length; i++)
            if (IsConsonant(stem, i) && !IsConsonant(stem, i - 1)) m++;
        return m;
    }

    private static bool PositiveMeasure(string stem) => Measure(stem) > 0;
    private static bool MeasureAboveOne(string stem) => Measure(stem) > 1;
    private static bool ContainsVowel(string stem) => Enumerable.Range(0, stem.Length).Any(i => !IsConsonant(stem, i));

    private static bool EndsDoubleConsonant(string word) =>
        word.Length >= 2 && word[^1] == word[^2] && IsConsonant(word, word.Length - 1);

    /// <summary>*o: consonant-vowel-consonant with the last not w, x or y; nltk also counts a two-letter vowel-consonant word.</summary>
    private static bool EndsCvc(string word) =>
        (word.Length >= 3 && IsConsonant(word, word.Length - 3) && !IsConsonant(word, word.Length - 2)
         && IsConsonant(word, word.Length - 1) && word[^1] is not ('w' or 'x' or 'y'))
        || (word.Length == 2 && !IsConsonant(word, 0) && IsConsonant(word, 1));

    private static string Apply(string word, IEnumerable<Rule> rules)
    {
        foreach (var rule in rules)
        {
            if (rule.Suffix == "*d")
            {
                if (!EndsDoubleConsonant(word)) continue;
                var undoubled = word[..^2];
                return rule.Condition is null || rule.Condition(undoubled) ? undoubled + rule.Replacement : word;
            }
            if (!word.EndsWith(rule.Suffix, StringComparison.Ordinal)) continue;
            var stem = word[..^rule.Suffix.Length];
            return rule.Condition is null || rule.Condition(stem) ? stem + rule.Replacement : word;
        }
        return word;
    }

    private static string Step1a(string word)
    {
        if (word.EndsWith("ies") && word.Length == 4) return word[..^3] + "ie";
        return Apply(word, [new("sses", "ss", null), new("ies", "i", null), new("ss", "ss", null), new("s", "", null)]);
    }

    private static string Step1b(string word)
    {
        if (word.EndsWith("ied")) return word[..^3] + (word.Length == 4 ? "ie" : "i");
        if (word.EndsWith("eed")) return PositiveMeasure(word[..^3]) ? word[..^3] + "ee" : word;

        string? stem = null;
        foreach (var suffix in new[] { "ed", "ing" })
            if (word.EndsWith(suffix) && ContainsVowel(word[..^suffix.Length])) { stem = word[..^suffix.Length]; break; }
        if (stem is null) return word;

        var last = stem[^1];
        return Apply(stem, [
            new("at", "ate", null), new("bl", "ble", null), new("iz", "ize", null),
            new("*d", last.ToString(), _ => last is not ('l' or 's' or 'z')),
            new("", "e", s => Measure(s) == 1 && EndsCvc(s)),
        ]);
    }

    // nltk: y → i only when the y follows a consonant that is not the word's first letter ("happy" → "happi", "enjoy", "by" kept).
    private static string Step1c(string word) =>
        Apply(word, [new("y", "i", stem => stem.Length > 1 && IsConsonant(stem, stem.Length - 1))]);

    private static string Step2(string word)
    {
        // nltk applies "alli" → "al" first and, when it fires, runs step 2 again on the result.
        if (word.EndsWith("alli") && PositiveMeasure(word[..^4])) return Step2(word[..^4] + "al");
        return Apply(word, [
            new("ational", "ate", PositiveMeasure), new("tional", "tion", PositiveMeasure), new("enci", "ence", PositiveMeasure),
            new("anci", "ance", PositiveMeasure), new("izer", "ize", PositiveMeasure), new("bli", "ble", PositiveMeasure),
            new("alli", "al", PositiveMeasure), new("entli", "ent", PositiveMeasure), new("eli", "e", PositiveMeasure),
            new("ousli", "ous", PositiveMeasure), new("ization", "ize", PositiveMeasure), new("ation", "ate", PositiveMeasure),
            new("ator", "ate", PositiveMeasure), new("alism", "al", PositiveMeasure), new("iveness", "ive", PositiveMeasure),
            new("fulness", "ful", PositiveMeasure), new("ousness", "ous", PositiveMeasure), new("aliti", "al", PositiveMeasure),
            new("iviti", "ive", PositiveMeasure), new("biliti", "ble", PositiveMeasure), new("fulli", "ful", PositiveMeasure),
            // The "l" of "logi" stays with the stem for the measure, so short stems like "geo", "theo" qualify.
            new("logi", "log", _ => PositiveMeasure(word[..^3])),
        ]);
    }

    private static string Step3(string word) => Apply(word, [
        new("icate", "ic", PositiveMeasure), new("ative", "", PositiveMeasure), new("alize", "al", PositiveMeasure),
        new("iciti", "ic", PositiveMeasure), new("ical", "ic", PositiveMeasure), new("ful", "", PositiveMeasure),
        new("ness", "", PositiveMeasure),
    ]);

    private static string Step4(string word) => Apply(word, [
        new("al", "", MeasureAboveOne), new("ance", "", MeasureAboveOne), new("ence", "", MeasureAboveOne),
        new("er", "", MeasureAboveOne), new("ic", "", MeasureAboveOne), new("able", "", MeasureAboveOne),
        new("ible", "", MeasureAboveOne), new("ant", "", MeasureAboveOne), new("ement", "", MeasureAboveOne),
        new("ment", "", MeasureAboveOne), new("ent", "", MeasureAboveOne),
        new("ion", "", s => MeasureAboveOne(s) && s.Length > 0 && s[^1] is 's' or 't'),
        new("ou", "", MeasureAboveOne), new("ism", "", MeasureAboveOne), new("ate", "", MeasureAboveOne),
        new("iti", "", MeasureAboveOne), new("ous", "", MeasureAboveOne), new("ive", "", MeasureAboveOne),
        new("ize", "", MeasureAboveOne),
    ]);

    private static string Step5a(string word)
    {
        if (!word.EndsWith('e')) return word;
        var stem = word[..^1];
        var m = Measure(stem);
        return m > 1 || (m == 1 && !EndsCvc(stem)) ? stem : word;
    }

    private static string Step5b(string word) =>
        Apply(word, [new("ll", "l", _ => Measure(word[..^1]) > 1)]);
}
