using Tuneforge.Core.Embeddings;

namespace Tuneforge.Core.Tests.Embeddings;

public class SentenceEmbedderTests
{
    private static readonly SentenceEmbedder Model = SentenceEmbedder.Default;

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
        return dot / Math.Sqrt(na * nb);
    }

    [Fact]
    public void It_reproduces_the_similarities_sentence_transformers_publishes_for_all_MiniLM_L6_v2()
    {
        // sbert.net's usage example for this model prints this matrix (4 decimals).
        var v = Model.Embed(["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]);
        Assert.Equal(0.6660, Cosine(v[0], v[1]), 0.0006);
        Assert.Equal(0.1046, Cosine(v[0], v[2]), 0.0006);
        Assert.Equal(0.1411, Cosine(v[1], v[2]), 0.0006);
    }

    [Theory]
    [InlineData("A man is playing a guitar.", "Someone strums an instrument.", "A man is playing a game of chess.")]
    [InlineData("The child is reading a book.", "A kid enjoys a novel.", "The child is reading a street sign.")]
    [InlineData("How do I reset my password?", "I forgot my login credentials.", "How do I reset my router?")]
    public void A_paraphrase_without_shared_words_is_closer_than_a_sentence_that_shares_most_words(string anchor, string paraphrase, string overlap)
    {
        var v = Model.Embed([anchor, paraphrase, overlap]);
        Assert.True(Cosine(v[0], v[1]) > Cosine(v[0], v[2]) + 0.05,
            $"paraphrase {Cosine(v[0], v[1]):F4} vs word overlap {Cosine(v[0], v[2]):F4}");
    }

    [Fact]
    public void Vectors_are_unit_length_384_wide_and_a_text_is_its_own_nearest()
    {
        var v = Model.Embed(["The cat sits on the mat", "The cat sits on the mat", "Stock prices fell sharply."]);
        Assert.All(v, x => Assert.Equal(384, x.Length));
        Assert.All(v, x => Assert.Equal(1.0, Math.Sqrt(x.Sum(f => (double)f * f)), 1e-5));
        Assert.Equal(1.0, Cosine(v[0], v[1]), 1e-6);
        Assert.True(Cosine(v[0], v[2]) < 0.5);
    }

    [Fact]
    public void Batching_and_padding_do_not_change_a_vector_and_results_keep_the_input_order()
    {
        // 70 texts of mixed lengths: sorted into several padded batches, then put back in order.
        var texts = Enumerable.Range(0, 70).Select(i => string.Join(' ', Enumerable.Repeat($"word{i % 7} and item {i}", 1 + i % 9))).ToList();
        var batched = Model.Embed(texts);
        foreach (var i in new[] { 0, 5, 33, 68, 69 })
        {
            var alone = Model.Embed([texts[i]])[0];
            Assert.Equal(1.0, Cosine(batched[i], alone), 1e-5);
        }
        Assert.True(Cosine(batched[0], batched[1]) < 0.999);
    }

    [Fact]
    public void The_tokenizer_lowercases_strips_accents_and_frames_the_text_with_cls_and_sep()
    {
        // Ids of BERT's uncased vocabulary: [CLS]=101, [SEP]=102, "the"=1996, "cafe"=7668, "."=1012.
        Assert.Equal(Model.Tokenize("the cafe."), Model.Tokenize("THE Café."));
        Assert.Equal([101, 1996, 7668, 1012, 102], Model.Tokenize("the cafe."));
        Assert.Equal(5, Model.CountTokens("Naïve café."));
        Assert.Equal(Model.Tokenize("hello world"), Model.Frame(Model.Tokenize("hello world")[1..^1]));
        Assert.DoesNotContain(100, Model.Tokenize("Héllo wörld, naïve façade")); // no [UNK]
    }

    [Fact]
    public void A_text_over_512_tokens_is_cut_by_Embed_but_refused_by_EmbedTokens()
    {
        var longText = string.Join(' ', Enumerable.Repeat("apple", 600));
        Assert.Equal(602, Model.CountTokens(longText));
        var cut = Model.Embed([longText])[0];
        Assert.Equal(1.0, Cosine(cut, Model.Embed([string.Join(' ', Enumerable.Repeat("apple", 510))])[0]), 1e-5);
        Assert.Throws<ArgumentException>(() => Model.EmbedTokens([Model.Tokenize(longText)]));
    }

    [Fact]
    public void A_cancelled_request_stops()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => Model.Embed(["one", "two"], cancelled.Token));
    }
}
