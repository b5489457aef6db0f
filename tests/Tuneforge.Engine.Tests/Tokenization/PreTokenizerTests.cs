using System.Text.RegularExpressions;
using Tuneforge.Engine.Tokenization;

namespace Tuneforge.Engine.Tests.Tokenization;

public class PreTokenizerTests
{
    // The example from Hugging Face's Split pre-tokenizer documentation: "the-final--countdown" split on "-".
    [Theory]
    [InlineData(nameof(DelimiterBehavior.Removed), new[] { "the", "final", "countdown" })]
    [InlineData(nameof(DelimiterBehavior.Isolated), new[] { "the", "-", "final", "-", "-", "countdown" })]
    [InlineData(nameof(DelimiterBehavior.MergedWithPrevious), new[] { "the-", "final-", "-", "countdown" })]
    [InlineData(nameof(DelimiterBehavior.MergedWithNext), new[] { "the", "-final", "-", "-countdown" })]
    [InlineData(nameof(DelimiterBehavior.Contiguous), new[] { "the", "-", "final", "--", "countdown" })]
    public void Split_behaviors_match_huggingface(string behavior, string[] expected)
    {
        var split = new SplitPreTokenizer(new UnicodeRegex(new Regex("-")), Enum.Parse<DelimiterBehavior>(behavior), invert: false);
        var pieces = new List<TextPiece>();
        split.Split(TextPiece.Slice("the-final--countdown", 0), pieces);
        Assert.Equal(expected, pieces.Select(p => p.Text));
    }

    [Fact]
    public void Pieces_keep_their_offsets_after_splitting()
    {
        var pieces = new List<TextPiece>();
        new DigitsPreTokenizer(individualDigits: true).Split(TextPiece.Slice("ab12", 10), pieces);
        Assert.Equal(new[] { ("ab", 10), ("1", 12), ("2", 13) }, pieces.Select(p => (p.Text, p.OriginStart(0))));
    }

    [Fact]
    public void Encoding_from_many_threads_gives_the_same_ids()
    {
        var tokenizer = HfTokenizer.FromJson(TestTokenizers.Llama3StyleJson());
        var texts = Enumerable.Range(0, 400).Select(i => TrickyText.Corpus[i % TrickyText.Corpus.Length] + " " + i).ToArray();
        var sequential = texts.Select(tokenizer.Encode).ToArray();
        var fresh = HfTokenizer.FromJson(TestTokenizers.Llama3StyleJson());
        var parallel = new int[texts.Length][];
        Parallel.For(0, texts.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => parallel[i] = fresh.Encode(texts[i]));
        for (int i = 0; i < texts.Length; i++) Assert.Equal(sequential[i], parallel[i]);
    }
}
