using Tuneforge.Engine.Chat;
using Tuneforge.Engine.Tests.Modeling;
using Tuneforge.Engine.Tokenization;
using Tuneforge.Engine.Training;

namespace Tuneforge.Engine.Tests.Training;

/// <summary>What the trainer trains on: weight-0 turns skipped, long examples cut with a warning, packing without padding.</summary>
public class TrainingDataTests
{
    private static ChatEncoder Encoder() => new(HfTokenizer.FromDirectory(Tiny.ModelDir), ChatTemplate.FromCheckpoint(Tiny.ModelDir));

    private static string TrainedText(ChatEncoder encoder, EncodedExample e) =>
        encoder.Tokenizer.Decode(e.Ids.Where((_, i) => e.LossMask[i]));

    [Fact]
    public void Assistant_turns_with_weight_0_are_not_trained()
    {
        var encoder = Encoder();
        var example = TrainingExample.Chat(4, ChatMessage.User("hi"), ChatMessage.Assistant("SKIPPED", weight: 0),
            ChatMessage.User("again"), ChatMessage.Assistant("TRAINED"));
        var warnings = new List<string>();
        var e = Assert.Single(TrainingData.Encode([example], encoder, 1024, warnings.Add, "training file"));
        Assert.Equal("TRAINED<|im_end|>", TrainedText(encoder, e));
        Assert.Empty(warnings);

        var row = PackedRow.Pack([e]);
        Assert.Equal(e.TrainedTokens, row.TrainedTokens);
        // each label is the next token, and only where that next token is trained
        for (int t = 0; t < row.Length; t++)
            Assert.Equal(t + 1 < row.Length && e.LossMask[t + 1] ? e.Ids[t + 1] : PackedRow.Ignore, row.Labels[t]);
    }

    [Fact]
    public void An_example_with_every_assistant_turn_at_weight_0_is_skipped_with_a_warning()
    {
        var example = TrainingExample.Chat(9, ChatMessage.User("hi"), ChatMessage.Assistant("no", weight: 0));
        var warnings = new List<string>();
        Assert.Empty(TrainingData.Encode([example], Encoder(), 1024, warnings.Add, "training file"));
        Assert.Contains("line 9: example has no trained tokens", Assert.Single(warnings));
    }

    [Fact]
    public void A_long_example_is_truncated_to_the_context_with_a_warning_naming_its_line()
    {
        var encoder = Encoder();
        var example = Tiny.Qa(7, "Tell me a long story.", new string('x', 1500));
        var warnings = new List<string>();
        var e = TrainingData.Encode([Tiny.Qa(1, "q", "a"), example], encoder, 1024, warnings.Add, "training file")[1];
        Assert.Equal(7, e.LineNumber);
        Assert.Equal(1024, e.Ids.Length);
        int full = encoder.Encode(example.Messages!, false).Length;
        Assert.Equal($"training file line 7: example has {full:N0} tokens, truncated to 1,024", Assert.Single(warnings));
    }

    [Fact]
    public void The_trainer_warns_about_truncation_through_the_observer()
    {
        using var output = new TempDir();
        var observer = new RecordingObserver();
        var hp = Tiny.Hyper(epochs: 1, batchSize: 2, multiplier: 1) with { MaxSequenceLength = 40 };
        FineTuner.Run(new FineTuneSpec(Tiny.ModelDir, [Tiny.Qa(1, "short?", "yes"), Tiny.Qa(2, "A much longer question here, with many more words in it than forty tokens can hold?",
                "And a long answer too, which goes on and on past the limit.")],
            null, hp, 1, output.Path), observer, CancellationToken.None);
        Assert.Contains(observer.Warnings, w => w.StartsWith("training file line 2: example has ") && w.EndsWith("truncated to 40"));
        Assert.Contains(observer.Infos, i => i.Contains("padding fraction 0.0%"));
    }

    [Fact]
    public void The_legacy_format_trains_on_the_completion_and_its_end_of_text()
    {
        var encoder = Encoder();
        var e = Assert.Single(TrainingData.Encode([TrainingExample.PromptCompletion(3, "Q: colour of grass?\nA:", " green")], encoder, 1024, _ => { }, "training file"));
        Assert.Equal(" green" + encoder.Tokenizer.Decode([encoder.Tokenizer.EosTokenIds[0]]), TrainingText(encoder, e));
    }

    private static string TrainingText(ChatEncoder encoder, EncodedExample e) => TrainedText(encoder, e);

    [Fact]
    public void Packing_puts_whole_examples_in_rows_without_padding()
    {
        EncodedExample Ex(int line, int n) => new(line, Enumerable.Range(0, n).ToArray(), Enumerable.Repeat(true, n).ToArray());
        var rows = BatchPlan.Pack([Ex(1, 600), Ex(2, 500), Ex(3, 400), Ex(4, 100)], rowTokens: 1024);
        Assert.Equal(2, rows.Count);
        Assert.Equal(1600, rows.Sum(r => r.Length));
        Assert.All(rows, r => Assert.True(r.Length <= 1024));
        Assert.All(rows, r => Assert.Equal(r.Length, r.SegmentLengths.Sum()));
        // positions restart for each example
        var row = rows.Single(r => r.SegmentLengths.Length == 2 && r.SegmentLengths.Contains(400));
        Assert.Equal(0, row.Positions[row.SegmentLengths[0]]);
    }
}
