using Tuneforge.Core.Evals;
using Tuneforge.Core.Evals.Grading;

namespace Tuneforge.Core.Tests.Evals;

/// <summary>Every text_similarity metric on cases worked out by hand from its published definition.</summary>
public class SimilarityMetricTests
{
    private static double Score(string metric, string input, string reference) => TextSimilarityGrader.Score(metric, input, reference);

    [Fact]
    public void Fuzzy_match_is_twice_the_common_subsequence_over_both_lengths()
    {
        // The reference's worked example: "Paris" = "Paris"; "Jupiter." vs "Jupiter": LCS 7, 2·7/(8+7) = 14/15;
        // "Ag" vs "Au": LCS 1 ("A"), 2·1/(2+2) = 0.5.
        Assert.Equal(1.0, Score("fuzzy_match", "Paris", "Paris"));
        Assert.Equal(14.0 / 15, Score("fuzzy_match", "Jupiter.", "Jupiter"), 12);
        Assert.Equal(0.5, Score("fuzzy_match", "Ag", "Au"), 12);
        // Raw strings: case counts. "paris" vs "Paris": LCS "aris" = 4, 8/10.
        Assert.Equal(0.8, Score("fuzzy_match", "paris", "Paris"), 12);
        // Code points, as Python counts them: "a😀" is 2 characters (4 UTF-16 units would give 2/5); 2·1/(2+1) = 2/3.
        Assert.Equal(2.0 / 3, Score("fuzzy_match", "a😀", "a"), 12);
        // rapidfuzz's documented example: fuzz.ratio("this is a test", "this is a test!") = 96.55… = 100·28/29.
        Assert.Equal(28.0 / 29, Score("fuzzy_match", "this is a test", "this is a test!"), 12);
        Assert.Equal(1.0, Score("fuzzy_match", "", ""));
        Assert.Equal(0.0, Score("fuzzy_match", "abc", ""));
    }

    [Fact]
    public void Bleu_is_the_smoothed_geometric_mean_of_clipped_ngram_precisions_times_the_brevity_penalty()
    {
        // "the cat sat on the mat" vs "the cat is on the mat" (6 words each):
        //   1-grams: the×2, cat, on, mat match, sat does not → 5/6
        //   2-grams: "the cat", "on the", "the mat" of 5 → 3/5
        //   3-grams: "on the mat" of 4 → 1/4
        //   4-grams: none of 3 → method1: (0 + 0.1)/3
        //   BP: c = r = 6, exp(1 − 6/6) = 1
        //   BLEU = (5/6 · 3/5 · 1/4 · 0.1/3)^¼ = (1/240)^¼ = 0.2540663740773…
        Assert.Equal(0.25406637407730737, Score("bleu", "the cat sat on the mat", "the cat is on the mat"), 12);

        // A 2-word hypothesis of a 6-word reference: p1 = 2/2, p2 = 1/1, p3 = p4 = 0.1/max(1, 0) = 0.1;
        // (0.01)^¼ = 0.31623, BP = exp(1 − 6/2) = e⁻² → 0.0427967…
        Assert.Equal(Math.Exp(-2) * Math.Pow(0.01, 0.25), Score("bleu", "the cat", "the cat sat on the mat"), 12);
        // Words are lower-cased: "The Cat" = "the cat", BP = 1, (1·1·0.1·0.1)^¼.
        Assert.Equal(Math.Pow(0.01, 0.25), Score("bleu", "The Cat", "the cat"), 12);
        // No matching unigram → 0 (no smoothing rescues it); an empty hypothesis → 0.
        Assert.Equal(0.0, Score("bleu", "dog", "the cat"));
        Assert.Equal(0.0, Score("bleu", "", "the cat"));
    }

    [Fact]
    public void Gleu_is_pooled_ngram_matches_over_the_larger_ngram_count()
    {
        // 1..4-grams: each text has 6+5+4+3 = 18; matches 5+3+1+0 = 9 → 9/18.
        Assert.Equal(0.5, Score("gleu", "the cat sat on the mat", "the cat is on the mat"), 12);
        // "the cat" (2+1 = 3 n-grams) vs "the cat sat" (3+2+1 = 6): tp = 2+1 = 3 → 3/max(3, 6) = 0.5, i.e. the recall.
        Assert.Equal(0.5, Score("gleu", "the cat", "the cat sat"), 12);
        // Precision is the minimum the other way round: 3/max(6, 3).
        Assert.Equal(0.5, Score("gleu", "the cat sat", "the cat"), 12);
        Assert.Equal(0.0, Score("gleu", "", ""));
    }

    [Fact]
    public void Bleu_and_gleu_reproduce_the_values_nltk_documents()
    {
        // nltk's own doctests (bleu_score.SmoothingFunction, gleu_score.corpus_gleu), on its case-sensitive token lists:
        // sentence_bleu([reference1], hypothesis1, smoothing_function=method1) = 0.4118…;
        // (sentence_gleu([ref1a], hyp1) + sentence_gleu([ref2a], hyp2)) / 2 = 0.6144…
        string[] hypothesis1 = ["It", "is", "a", "guide", "to", "action", "which", "ensures", "that", "the", "military", "always", "obeys", "the", "commands", "of", "the", "party"];
        string[] reference1 = ["It", "is", "a", "guide", "to", "action", "that", "ensures", "that", "the", "military", "will", "forever", "heed", "Party", "commands"];
        string[] hypothesis2 = ["he", "read", "the", "book", "because", "he", "was", "interested", "in", "world", "history"];
        string[] reference2 = ["he", "was", "interested", "in", "world", "history", "because", "he", "read", "the", "book"];
        Assert.Equal(0.4118, Bleu.Sentence(hypothesis1, reference1), 4);
        Assert.Equal(0.6144, (Bleu.Google(hypothesis1, reference1) + Bleu.Google(hypothesis2, reference2)) / 2, 4);
        // Through the grader's text interface (lower-cased whitespace words; these are already): 1..4-grams 11+10+9+8 = 38
        // each side, matching 11+9+6+4 = 30 → 30/38.
        Assert.Equal(30.0 / 38, Score("gleu", string.Join(' ', hypothesis2), string.Join(' ', reference2)), 12);
    }

    [Fact]
    public void Meteor_matches_exact_words_then_stems_and_penalises_fragmentation()
    {
        // "cats" meets "cat" in the stem pass: 6 of 6 matched, P = R = 1, Fmean = 1; one chunk:
        // penalty = 0.5·(1/6)³ = 0.5/216 → 1 − 0.5/216 = 0.99768518…
        Assert.Equal(1 - 0.5 / 216, Score("meteor", "the cats sat on the mat", "the cat sat on the mat"), 12);

        // nltk aligns greedily from the input's last word to the reference's last equal word:
        //   input  0 on 1 the 2 mat 3 the 4 cat 5 sat;  reference 0 the 1 cat 2 sat 3 on 4 the 5 mat
        //   sat→2, cat→1, the(3)→4, mat→5, the(1)→0, on→3; by input position (0,3)(1,0)(2,5)(3,4)(4,1)(5,2):
        //   only (4,1)→(5,2) continue a chunk, so 5 chunks; penalty = 0.5·(5/6)³ → 1 − 0.5·125/216 = 0.71064814…
        Assert.Equal(1 - 0.5 * 125 / 216.0, Score("meteor", "on the mat the cat sat", "the cat sat on the mat"), 12);

        // "the dog sat" vs "the cat sat down": 2 matches, P = 2/3, R = 2/4;
        // Fmean = P·R/(0.9·P + 0.1·R) = (1/3)/0.65; chunks 2 of 2 matches → penalty 0.5 → 0.2564102…
        Assert.Equal(0.5 * (1.0 / 3) / 0.65, Score("meteor", "the dog sat", "the cat sat down"), 12);
        Assert.Equal(0.0, Score("meteor", "dog", "cat"));
        Assert.Equal(0.0, Score("meteor", "", "cat"));
    }

    [Theory]
    // Porter's own examples and nltk's extensions (irregular forms, short words, "ies"/"ied", y → i after a consonant).
    [InlineData("caresses", "caress")]
    [InlineData("ponies", "poni")]
    [InlineData("cats", "cat")]
    [InlineData("feed", "feed")]
    [InlineData("agreed", "agre")]
    [InlineData("plastered", "plaster")]
    [InlineData("motoring", "motor")]
    [InlineData("sing", "sing")]
    [InlineData("conflated", "conflat")]
    [InlineData("troubled", "troubl")]
    [InlineData("sized", "size")]
    [InlineData("hopping", "hop")]
    [InlineData("falling", "fall")]
    [InlineData("filing", "file")]
    [InlineData("failing", "fail")]
    [InlineData("happy", "happi")]
    [InlineData("enjoy", "enjoy")]
    [InlineData("relational", "relat")]
    [InlineData("generalization", "gener")]
    [InlineData("running", "run")]
    [InlineData("dying", "die")]
    [InlineData("skies", "sky")]
    [InlineData("ties", "tie")]
    [InlineData("cried", "cri")]
    [InlineData("flies", "fli")]
    [InlineData("by", "by")]
    [InlineData("Running", "run")]
    public void Porter_stems_follow_nltk(string word, string stem) => Assert.Equal(stem, PorterStemmer.Stem(word));

    [Fact]
    public void Rouge_n_is_the_f1_of_clipped_ngram_overlap_on_alphanumeric_lowercase_tokens()
    {
        // Reference "The cat sat on the mat." → the cat sat on the mat; input the cat is on the mat (6 tokens each).
        const string input = "the cat is on the mat", reference = "The cat sat on the mat.";
        Assert.Equal(5.0 / 6, Score("rouge_1", input, reference), 12); // the×2, cat, on, mat
        Assert.Equal(3.0 / 5, Score("rouge_2", input, reference), 12); // the cat, on the, the mat
        Assert.Equal(1.0 / 4, Score("rouge_3", input, reference), 12); // on the mat
        Assert.Equal(0.0, Score("rouge_4", input, reference));
        Assert.Equal(0.0, Score("rouge_5", input, reference));
        // LCS "the cat on the mat" = 5 of 6 both ways.
        Assert.Equal(5.0 / 6, Score("rouge_l", input, reference), 12);

        // rouge-score's README: target "The quick brown fox jumps over the lazy dog", prediction "The quick brown dog jumps
        // on the log." → rouge1 F 0.70588… (P 6/8, R 6/9), rougeL F 0.58823… (LCS "the quick brown jumps the": P 5/8, R 5/9).
        Assert.Equal(0.7058823529411765, Score("rouge_1", "The quick brown dog jumps on the log.", "The quick brown fox jumps over the lazy dog"), 12);
        Assert.Equal(0.5882352941176471, Score("rouge_l", "The quick brown dog jumps on the log.", "The quick brown fox jumps over the lazy dog"), 12);

        // P = 2/2, R = 2/6 → F1 = 2·1·⅓/(1 + ⅓) = 0.5.
        Assert.Equal(0.5, Score("rouge_1", "the cat", "the cat sat on the mat"), 12);
        Assert.Equal(0.5, Score("rouge_l", "the cat", "the cat sat on the mat"), 12);
        // Non-alphanumerics split tokens ("Don't-stop!" → don t stop); non-ASCII letters are dropped ("café" → caf).
        Assert.Equal(1.0, Score("rouge_1", "Don't-stop!", "don t stop"), 12);
        Assert.Equal(1.0, Score("rouge_1", "café", "caf"), 12);
        Assert.Equal(0.0, Score("rouge_l", "", "the cat"));
    }

    [Fact]
    public void Cosine_is_the_dot_product_of_the_embedders_unit_vectors()
    {
        var embedder = new TableEmbedder(new() { ["north"] = [1f, 0f], ["north-east"] = [0.6f, 0.8f], ["south"] = [-1f, 0f] });
        Assert.Equal(0.6, TextSimilarityGrader.Cosine(embedder, "north", "north-east"), 6);
        Assert.Equal(-1.0, TextSimilarityGrader.Cosine(embedder, "north", "south"), 6); // unclamped
        var error = Assert.Throws<EvalRowException>(() => TextSimilarityGrader.Cosine(null, "a", "b"));
        Assert.Contains("embedding model", error.Message);
    }

    /// <summary>An embedder with fixed unit vectors: cosine's arithmetic, not the embedding model, is under test here.</summary>
    internal sealed class TableEmbedder(Dictionary<string, float[]> vectors) : ITextEmbedder
    {
        public string ModelId => "table";
        public int Dimensions => 2;
        public IReadOnlyList<float[]> Embed(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
            texts.Select(t => vectors[t]).ToList();
    }
}
