using System.Text;
using Microsoft.ML.Tokenizers;
using Tuneforge.Engine.Tokenization;

namespace Tuneforge.Core.Embeddings;

/// <summary>
/// all-MiniLM-L6-v2's tokenizer: uncased BERT WordPiece (30,522 pieces), as Hugging Face's BertTokenizer runs it for
/// this model: drop control characters, split CJK ideographs and punctuation, lowercase, strip accents, WordPiece
/// with <c>[UNK]</c> for a word that has no pieces or is over 100 characters; <c>[CLS] … [SEP]</c> around.
/// Microsoft.ML.Tokenizers' BertTokenizer does all of it except stripping accents: it decomposes with
/// <see cref="string.Normalize(NormalizationForm)"/>, which under InvariantGlobalization (this project's setting)
/// returns its input unchanged, so "café" would be <c>[UNK]</c>. Decomposing (NFD) through ICU first leaves only the
/// removal of the non-spacing marks to it, which gives "cafe" as Hugging Face does.
/// </summary>
internal sealed class MiniLMTokenizer
{
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
        });
    }

    /// <summary>Pieces in vocab.txt (one a line): token ids run from 0 to this minus one.</summary>
    public int VocabularySize { get; }
    public int ClassificationId => _bert.ClassificationTokenId;
    public int SeparatorId => _bert.SeparatorTokenId;

    /// <summary>The ids the model reads for <paramref name="text"/>: <c>[CLS]</c>, the text's word pieces, <c>[SEP]</c>.</summary>
    public int[] Encode(string text)
    {
        var decomposed = IcuNormalization.IsTriviallyNormalized(text, NormalizationForm.FormD)
            ? text : IcuNormalization.Normalize(text, NormalizationForm.FormD);
        return _bert.EncodeToIds(decomposed, addSpecialTokens: true, considerPreTokenization: true, considerNormalization: true).ToArray();
    }
}
