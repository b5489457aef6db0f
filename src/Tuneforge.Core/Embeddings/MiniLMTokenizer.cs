using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using Tuneforge.Engine.Tokenization;

namespace Tuneforge.Core.Embeddings;

/// <summary>
/// all-MiniLM-L6-v2's tokenizer: uncased BERT WordPiece (30,522 pieces) as Hugging Face runs it for this model —
/// clean-up, CJK ideographs and punctuation split apart, lowercase, accents stripped, WordPiece with <c>[UNK]</c> for a
/// word with no pieces or over 100 characters, <c>[CLS] … [SEP]</c> around. Built on Microsoft.ML.Tokenizers'
/// BertTokenizer with four corrections, each found by comparing ids with Hugging Face's JavaScript tokenizer
/// (MiniLMTokenizerTests): accents (it decomposes with <see cref="string.Normalize(NormalizationForm)"/>, a no-op
/// under this project's InvariantGlobalization, so "café" was <c>[UNK]</c>: ICU decomposes first), the pre-tokenizer
/// (<see cref="BertWords"/>), the clean-up (<see cref="Clean"/>) and special tokens written in the text (<see cref="Encode"/>).
/// </summary>
internal sealed class MiniLMTokenizer
{
    /// <summary>
    /// Hugging Face's BertPreTokenizer: each punctuation character alone (Unicode P*, plus the ASCII symbols BERT counts
    /// as punctuation: <c>$ + &lt; = &gt; ^ ` | ~</c>), runs of anything else but whitespace as words. The library's own
    /// (<c>\w+|\p{P}</c>) would drop symbols and emoji instead of making them pieces or <c>[UNK]</c>.
    /// </summary>
    private static readonly Regex BertWords = new(@"[\p{P}$+<=>^`|~]|[^\s\p{P}$+<=>^`|~]+", RegexOptions.Compiled);

    private static readonly Dictionary<string, int> SpecialTokens = new()
    {
        ["[PAD]"] = 0, ["[UNK]"] = 100, ["[CLS]"] = 101, ["[SEP]"] = 102, ["[MASK]"] = 103,
    };
    private static readonly Regex SpecialToken = new(@"\[(?:PAD|UNK|CLS|SEP|MASK)\]", RegexOptions.Compiled);

    private readonly BertTokenizer _bert;

    public MiniLMTokenizer(byte[] vocabulary)
    {
        VocabularySize = Encoding.UTF8.GetString(vocabulary).Split('\n').Count(line => line.TrimEnd('\r').Length > 0);
        _bert = BertTokenizer.Create(new MemoryStream(vocabulary), new BertOptions
        {
            LowerCaseBeforeTokenization = true,
            RemoveNonSpacingMarks = true,
            IndividuallyTokenizeCjk = true,
            ApplyBasicTokenization = true,
            SplitOnSpecialTokens = false,
            PreTokenizer = new RegexPreTokenizer(BertWords, null),
        });
    }

    /// <summary>Pieces in vocab.txt (one a line): token ids run from 0 to this minus one.</summary>
    public int VocabularySize { get; }
    public int ClassificationId => SpecialTokens["[CLS]"];
    public int SeparatorId => SpecialTokens["[SEP]"];

    /// <summary>The ids the model reads for <paramref name="text"/>: <c>[CLS]</c>, the text's word pieces, <c>[SEP]</c>.</summary>
    public int[] Encode(string text)
    {
        var ids = new List<int>(text.Length / 4 + 2) { ClassificationId };
        var start = 0;
        // Special tokens written in the text are matched as written, before normalisation (as Hugging Face's added
        // tokens with normalized: false); the library would lowercase them first and split "[CLS]" into pieces.
        for (var special = SpecialToken.Match(text); special.Success; special = special.NextMatch())
        {
            AddPieces(ids, text[start..special.Index]);
            ids.Add(SpecialTokens[special.Value]);
            start = special.Index + special.Length;
        }
        AddPieces(ids, text[start..]);
        ids.Add(SeparatorId);
        return ids.ToArray();
    }

    private void AddPieces(List<int> ids, string text)
    {
        if (text.Length == 0) return;
        var clean = Clean(text);
        var decomposed = IcuNormalization.IsTriviallyNormalized(clean, NormalizationForm.FormD)
            ? clean : IcuNormalization.Normalize(clean, NormalizationForm.FormD);
        ids.AddRange(_bert.EncodeToIds(decomposed, addSpecialTokens: false, considerPreTokenization: true, considerNormalization: true));
    }

    /// <summary>
    /// Hugging Face's clean_text where the library's differs: tab, newline and carriage return are whitespace (it drops
    /// them as control characters, joining the words on either side), and format, private-use and unassigned characters
    /// (zero-width space, byte-order mark, …) are dropped like control characters (it keeps them).
    /// </summary>
    private static string Clean(string text)
    {
        StringBuilder? cleaned = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var width = char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            string? replacement = c is '\t' or '\n' or '\r' ? " "
                : CharUnicodeInfo.GetUnicodeCategory(text, i) is UnicodeCategory.Format or UnicodeCategory.PrivateUse
                    or UnicodeCategory.OtherNotAssigned or UnicodeCategory.Surrogate ? "" : null;
            if (replacement is not null) (cleaned ??= new StringBuilder(text, 0, i, text.Length)).Append(replacement);
            else cleaned?.Append(text, i, width);
            i += width - 1;
        }
        return cleaned?.ToString() ?? text;
    }
}
