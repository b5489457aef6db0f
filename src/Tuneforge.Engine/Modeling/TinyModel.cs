using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Training;
using static TorchSharp.torch;

namespace Tuneforge.Engine.Modeling;

/// <summary>
/// The built-in base model <c>tuneforge-tiny</c>: a small Llama (hidden 256, 4 layers, 8 heads over 4 KV heads,
/// SwiGLU 768, tied embeddings, 1024-token byte-level BPE vocabulary, 1024 positions, about 3.4 M parameters) drawn
/// from a fixed seed and written as an ordinary Hugging Face checkpoint folder. It is untrained: it exists so that the
/// service and tests work with no download, and learns only what a fine-tuning job teaches it. Its first layer's
/// attention is set by hand (<see cref="PositionalHeads"/>: heads that look 1–3 tokens back and recency windows), the
/// rest is random. Its tokenizer merges common English (<see cref="Merges"/>), so a token is about two characters of
/// English text. Weights are stored in float32 (exact, and small enough that bf16 would save nothing worth having).
/// </summary>
public static class TinyModel
{
    public const string Name = "tuneforge-tiny";
    public const int Seed = 20241126;
    public const int EndOfText = 256, ImStart = 257, ImEnd = 258;

    /// <summary>256 byte tokens, 3 special tokens and one token per merge (<see cref="Merges"/>).</summary>
    public const int VocabularySize = 1024;

    /// <summary>
    /// The tokenizer's BPE merges, learned from Debian's license texts (bench/reference/tiny_merges.py), rank order:
    /// merge i makes token 259 + i. A tokenizer with merges is what every real checkpoint has, and it matters for
    /// learning: on samples/airport a token is 2.2 characters instead of one, so an epoch is 2.2× fewer positions to
    /// compute and an answer's first 60 characters are about 27 tokens to get right instead of 60, each predicted from
    /// word pieces rather than letters. Measured with bench/learn: without merges (weights version 4) the model needed
    /// 30 epochs to start all 71 answers verbatim (10 epochs: 3 of 71); with them (version 5) 15 epochs do
    /// (<see cref="TargetEpochs"/>), each epoch 18,311 tokens instead of 38,266. 1,789 merges (vocabulary 2048) would
    /// make an epoch only 11 % shorter again, with a four times larger output layer.
    /// </summary>
    public static IReadOnlyList<(string Left, string Right)> Merges { get; } = ReadMerges();

    private static (string, string)[] ReadMerges()
    {
        using var stream = typeof(TinyModel).Assembly.GetManifestResourceStream("Tuneforge.Engine.Modeling.TinyMerges.txt")
            ?? throw new InvalidOperationException("TinyMerges.txt is not embedded in the engine assembly");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var merges = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ') is [var left, var right] ? (left, right) : throw new InvalidDataException($"TinyMerges.txt: '{line}' is not two symbols"))
            .ToArray();
        if (merges.Select(m => m.Item1 + m.Item2).Distinct().Count() != merges.Length)
            throw new InvalidDataException("TinyMerges.txt: two merges make the same symbol");
        if (merges.Length != VocabularySize - 259) throw new InvalidDataException($"TinyMerges.txt holds {merges.Length} merges, not {VocabularySize - 259}");
        return merges;
    }

    /// <summary>
    /// The LoRA learning rate a learning_rate_multiplier of 1 means for this model. A pretrained checkpoint only needs
    /// nudging (2e-4); this network is random, so its adapters must build every feature from nothing: at 2e-4 × 2 the
    /// README's 12-example recipe (2 epochs) ends at loss 3.4 and answers noise, at 1e-3 × 2 it answers exactly.
    /// </summary>
    public const double LoraLearningRate = 1e-3;

    /// <summary>
    /// The epochs auto n_epochs aims at on this model (3 on pretrained checkpoints; the cookbook's bounds of 100 to
    /// 25,000 example passes still apply). A random network memorises only by repetition: on samples/airport (66
    /// examples) 3 epochs end at token accuracy 0.49 and no answer verbatim, 12 at 0.992 (52 of 71 answers start with
    /// their first 60 characters), 15 at 0.999 (all 71; bench/learn, weights version 5).
    /// </summary>
    public const int TargetEpochs = 15;

    /// <summary>This model's rate, dropout and auto epochs, as jobs on it resolve their hyperparameters.</summary>
    public static BaseModelTraining Training { get; } = new(LoraLearningRate, LoraDropout, TargetEpochs);

    /// <summary>
    /// The LoRA dropout jobs on this model train with (0.05 on pretrained checkpoints). A random network has nothing to
    /// protect from over-fitting: its job is to learn the examples; on samples/airport 3 auto epochs end at loss 1.56
    /// with dropout 0 and 1.60 with 0.05 (weights version 4).
    /// </summary>
    public const double LoraDropout = 0;

    /// <summary>The ChatML template, byte for byte as the tokenizer code recognises it.</summary>
    public const string ChatTemplate =
        @"{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    public static ModelConfig Config { get; } = new()
    {
        Architecture = ModelConfig.Llama,
        VocabSize = VocabularySize,
        HiddenSize = 256,
        IntermediateSize = 768,
        NumHiddenLayers = 4,
        NumAttentionHeads = 8,
        NumKeyValueHeads = 4,
        HeadDim = 32,
        MaxPositionEmbeddings = 1024,
        RmsNormEps = 1e-5,
        RopeTheta = 10000,
        TieWordEmbeddings = true,
        TorchDtype = "float32",
        EosTokenIds = [ImEnd],
    };

    /// <summary>
    /// The version of the weights <see cref="InitialWeights"/> draws, stored in model.safetensors' metadata under
    /// <see cref="VersionKey"/>. Raise it whenever the weights change: a folder written by an older build (and every
    /// adapter trained on it) belongs to other weights, and <see cref="EnsureWritten"/> replaces it.
    /// 1 (no key): every matrix N(0, 0.02), final norm 1. 2: final norm <see cref="FinalNormGain"/>.
    /// 3: layer 0's attention set by <see cref="PositionalHeads"/> (on samples/airport, 3 auto epochs end at loss 1.75
    /// and token accuracy 0.52 instead of 2.53 and 0.27). 4: layer 0's value and output projections at half scale
    /// (<see cref="PositionalHeads.ValueOutputGain"/>; 1.60 and 0.55, and 1.56 and 0.56 with <see cref="LoraDropout"/> 0;
    /// 10 epochs: 0.40 and 0.89, 3 of 71 answers start with their first 60 characters, against 0.63, 0.81 and 0 with version 3).
    /// 5: the tokenizer's merges (<see cref="Merges"/>), so 1024 embedding rows instead of 320 (259 used).
    /// </summary>
    public const int WeightsVersion = 5;
    public const string VersionKey = "tuneforge_tiny_version";

    /// <summary>
    /// Writes the checkpoint folder into <paramref name="directory"/> unless it is already there in this
    /// <see cref="WeightsVersion"/> (config.json present, model.safetensors carrying the version). A folder of an older
    /// version is replaced. Deterministic: the same bytes on every machine run. Returns the directory.
    /// </summary>
    public static string EnsureWritten(string directory)
    {
        if (IsCurrent(directory)) return directory;
        TorchRuntime.Initialize();
        // Write into a sibling folder and rename, so a crash never leaves a half-written model that looks complete.
        var parent = Path.GetDirectoryName(Path.GetFullPath(directory))!;
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(directory)}.{Environment.ProcessId}.partial");
        var stale = Path.Combine(parent, $".{Path.GetFileName(directory)}.{Environment.ProcessId}.stale");
        if (Directory.Exists(staging)) Directory.Delete(staging, true);
        Directory.CreateDirectory(staging);

        using (var scope = NewDisposeScope())
            SafetensorsWriter.Write(Path.Combine(staging, CheckpointWeights.SingleFile), InitialWeights(),
                new Dictionary<string, string> { ["format"] = "pt", [VersionKey] = WeightsVersion.ToString(CultureInfo.InvariantCulture) });
        Write(staging, "config.json", Config.ToJson());
        Write(staging, "generation_config.json", Json(new JsonObject { ["eos_token_id"] = ImEnd, ["pad_token_id"] = EndOfText }));
        Write(staging, "tokenizer.json", TokenizerJson());
        Write(staging, "tokenizer_config.json", TokenizerConfigJson());
        Write(staging, "README.md", Readme);

        try
        {
            // An older (or empty) folder moves aside first: a directory cannot be renamed over a non-empty one.
            if (Directory.Exists(directory) && !IsCurrent(directory))
            {
                try { Directory.Move(directory, stale); }
                catch (IOException) when (!Directory.Exists(directory)) { } // another process moved it first
            }
            try { Directory.Move(staging, directory); }
            catch (IOException) when (IsCurrent(directory))
            {
                Directory.Delete(staging, true); // another process wrote it first
            }
        }
        finally
        {
            if (Directory.Exists(stale)) Directory.Delete(stale, true);
        }
        return directory;
    }

    /// <summary>Whether the folder holds this version's checkpoint (a missing, truncated or older one is not).</summary>
    internal static bool IsCurrent(string directory)
    {
        var weights = Path.Combine(directory, CheckpointWeights.SingleFile);
        if (!File.Exists(Path.Combine(directory, "config.json")) || !File.Exists(weights)) return false;
        try
        {
            using var reader = SafetensorsReader.Open(weights);
            return reader.Metadata.TryGetValue(VersionKey, out var version) && version == WeightsVersion.ToString(CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// The final RMSNorm's weight. The LM head is the frozen embedding (N(0, 0.02) rows, |E[v]| ≈ 0.32) and the final
    /// norm leaves |x̂| = sqrt(256) = 16, so with a weight of 1 no adapter could lift a logit past about 5.7: the
    /// softmax could never be confident (p ≤ 0.4 against 319 other tokens), the loss stalled at 3–4 and answers longer
    /// than a word stayed noise. 8 allows logits up to about 46 and starts at a logit spread of about 2.6.
    /// </summary>
    public const float FinalNormGain = 8f;

    /// <summary>
    /// N(0, 0.02) for every matrix from one seeded generator, drawn in checkpoint order
    /// (<see cref="ModelConfig.ParameterShapes"/>); RMSNorm weights 1, except the final one (<see cref="FinalNormGain"/>);
    /// then the positional heads of <see cref="PositionalHeads"/> written over layer 0. The file lists each layer's two
    /// norms ahead of its matrices, the order the first version was written in, so the bytes stay the same.
    /// </summary>
    internal static IEnumerable<KeyValuePair<string, Tensor>> InitialWeights()
    {
        using var generator = new Generator(Seed);
        using var initScale = 0.02.ToScalar();   // scalars that live through their calls (see Scalars)
        using var finalGain = FinalNormGain.ToScalar();
        var result = new Dictionary<string, Tensor>();
        foreach (var (name, shape) in Config.ParameterShapes().OrderBy(p => Layer(p.Name)).ThenBy(p => p.Shape.Length))
        {
            var value = name == WeightNames.FinalNorm ? full(shape, finalGain, dtype: ScalarType.Float32)
                : name.EndsWith("norm.weight", StringComparison.Ordinal) ? ones(shape, dtype: ScalarType.Float32)
                : randn(shape, dtype: ScalarType.Float32, generator: generator).mul_(initScale);
            result.Add(name, value);
        }
        PositionalHeads.Write(result, Config);
        return result;
    }

    /// <summary>The layer a tensor belongs to: −1 for the embedding, the layer count for the final norm.</summary>
    private static int Layer(string name) =>
        name == WeightNames.Embed ? -1
        : name == WeightNames.FinalNorm ? Config.NumHiddenLayers
        : int.Parse(name.Split('.')[2], CultureInfo.InvariantCulture);   // model.layers.N.…

    /// <summary>GPT-2's byte → printable-character table: byte b is vocabulary symbol ByteSymbols[b].</summary>
    public static string[] ByteSymbols()
    {
        var printable = new List<int>();
        for (var b = '!'; b <= '~'; b++) printable.Add(b);
        for (var b = '¡'; b <= '¬'; b++) printable.Add(b);
        for (var b = '®'; b <= 'ÿ'; b++) printable.Add(b);
        var symbols = new string[256];
        var next = 256;
        for (var b = 0; b < 256; b++) symbols[b] = char.ConvertFromUtf32(printable.Contains(b) ? b : next++);
        return symbols;
    }

    private static readonly (int Id, string Content)[] AddedTokens = [(EndOfText, "<|endoftext|>"), (ImStart, "<|im_start|>"), (ImEnd, "<|im_end|>")];

    private static string TokenizerJson()
    {
        var vocab = new JsonObject();
        var symbols = ByteSymbols();
        for (var b = 0; b < 256; b++) vocab[symbols[b]] = b;
        foreach (var (id, content) in AddedTokens) vocab[content] = id;
        var merges = new JsonArray();
        foreach (var (left, right) in Merges)
        {
            vocab[left + right] = vocab.Count;   // ids 259, 260, … in merge order (every merge makes a new symbol)
            merges.Add($"{left} {right}");
        }
        var added = new JsonArray();
        foreach (var (id, content) in AddedTokens)
            added.Add(new JsonObject
            {
                ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            });
        return Json(new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true },
            ["post_processor"] = null,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false,
                ["vocab"] = vocab, ["merges"] = merges,
            },
        });
    }

    private static string TokenizerConfigJson()
    {
        var decoder = new JsonObject();
        foreach (var (id, content) in AddedTokens)
            decoder[id.ToString()] = new JsonObject
            {
                ["content"] = content, ["lstrip"] = false, ["normalized"] = false, ["rstrip"] = false,
                ["single_word"] = false, ["special"] = true,
            };
        return Json(new JsonObject
        {
            ["add_bos_token"] = false,
            ["add_eos_token"] = false,
            ["added_tokens_decoder"] = decoder,
            ["bos_token"] = null,
            ["chat_template"] = ChatTemplate,
            ["clean_up_tokenization_spaces"] = false,
            ["eos_token"] = "<|im_end|>",
            ["model_max_length"] = Config.MaxPositionEmbeddings,
            ["pad_token"] = "<|endoftext|>",
            ["tokenizer_class"] = "PreTrainedTokenizerFast",
            ["unk_token"] = null,
        });
    }

    private const string Readme = """
        # tuneforge-tiny

        An **untrained** base model built into Tuneforge. Its weights are random (normal, std 0.02, from a fixed seed;
        RMSNorm weights 1 except the final norm's, 8, so that the tied output layer can make confident predictions),
        except the first layer's attention, which is set by hand: three heads look exactly 1, 2 and 3 tokens back and
        five average the last 4, 12, 30, 80 and 250 tokens with weights falling exponentially with distance (embedding
        channel 0 is a constant that only these heads read; their value and output projections are drawn at half
        scale). So before fine-tuning it produces noise, and after
        fine-tuning it knows only what the training file taught it, but each position already sees the text just
        before it, which a fine-tune can build on. It exists so that `./tuneforge serve`, the fine-tuning API and the
        tests work out of the box, with no download.

        - Architecture: `LlamaForCausalLM`, hidden 256, 4 layers, 8 attention heads over 4 key/value heads,
          SwiGLU MLP 768, tied embeddings, RoPE θ = 10000, 1024 positions, about 3.4 M parameters, float32.
        - Tokenizer: byte-level BPE (as GPT-2's): the 256 bytes (ids 0–255 in byte order), `<|endoftext|>` (256,
          padding), `<|im_start|>` (257), `<|im_end|>` (258, end of turn), then 765 merges learned from Debian's license
          texts (ids 259–1023), so English text is about 2 characters a token.
        - Chat format: ChatML.

        For real results, point Tuneforge at real Hugging Face checkpoints: every sub-folder of `--models-dir` that holds
        a `config.json` is a base model named after its folder, for example

            ./tuneforge serve --models-dir ~/models     # ~/models/SmolLM2-135M-Instruct/{config.json,model.safetensors,tokenizer.json,...}

        """;

    private static string Json(JsonObject o) =>
        o.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    private static void Write(string directory, string name, string text) =>
        File.WriteAllText(Path.Combine(directory, name), text, new UTF8Encoding(false));
}
