using System.Text;
using System.Text.Json.Nodes;
using Tuneforge.Engine;
using Tuneforge.Engine.Chat;
using Tuneforge.Engine.Checkpoints;
using Tuneforge.Engine.Tokenization;
using static TorchSharp.torch;

namespace Tuneforge.Server.Tests.Harness;

/// <summary>
/// A tiny Llama checkpoint with a real tokenizer whose greedy output is a chosen id sequence (the script), then EOS.
/// Attention and MLP weights are zero, so each position's hidden state is its token's embedding: every token outside
/// the script embeds as direction 0 and script token k as direction k+1; lm_head maps direction 0 to the first script
/// token, direction k+1 to token k+1, and the last one to EOS. Each script id must therefore appear once, and a prompt
/// must not end with one. The weights go through the real forward pass; only their values are chosen.
/// </summary>
internal static class ScriptedCheckpoint
{
    private const int Hidden = 48;

    /// <param name="architecture">
    /// any architecture the engine runs: its config.json fields are set so that zero attention and MLP weights leave
    /// each position's embedding (Gemma 3: scaled, and its norm weights stored as 0, applied as 1 + 0; no tied head)
    /// </param>
    public static void Write(string directory, string tokenizerDirectory, HfTokenizer tokenizer, IReadOnlyList<int> script,
        string architecture = ModelConfig.Llama)
    {
        if (script.Distinct().Count() != script.Count) throw new ArgumentException("a script id appears twice", nameof(script));
        if (script.Count + 1 >= Hidden) throw new ArgumentException($"a script has at most {Hidden - 2} tokens", nameof(script));
        TorchRuntime.Initialize(1);
        Directory.CreateDirectory(directory);
        File.Copy(Path.Combine(tokenizerDirectory, "tokenizer.json"), Path.Combine(directory, "tokenizer.json"), overwrite: true);
        // Without its chat template, the model chats with the plain template (see PlainChatTemplate).
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(tokenizerDirectory, "tokenizer_config.json")))!.AsObject();
        config.Remove("chat_template");
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), config.ToJsonString());
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"), ["model_type"] = "llama", ["vocab_size"] = tokenizer.VocabSize,
            ["hidden_size"] = Hidden, ["intermediate_size"] = 32, ["num_hidden_layers"] = 1, ["num_attention_heads"] = 2,
            ["num_key_value_heads"] = 1, ["max_position_embeddings"] = 256, ["rms_norm_eps"] = 1e-5, ["rope_theta"] = 10000.0,
            ["tie_word_embeddings"] = false, ["hidden_act"] = "silu", ["torch_dtype"] = "float32",
        };
        json["architectures"] = new JsonArray(architecture);
        json["model_type"] = architecture switch
        {
            ModelConfig.Qwen3 => "qwen3", ModelConfig.Gemma3 => "gemma3_text", ModelConfig.Phi3 => "phi3",
            ModelConfig.Mistral => "mistral", ModelConfig.Qwen2 => "qwen2", _ => "llama",
        };
        if (architecture is ModelConfig.Qwen3 or ModelConfig.Gemma3) json["head_dim"] = Hidden / 2;
        if (architecture == ModelConfig.Gemma3)
        {
            json.Remove("hidden_act");
            json["hidden_activation"] = "gelu_pytorch_tanh";
            json["query_pre_attn_scalar"] = Hidden / 2;
            json["sliding_window"] = 4;
            json["layer_types"] = new JsonArray("sliding_attention");
        }
        if (architecture == ModelConfig.Mistral) json["sliding_window"] = 4;
        File.WriteAllText(Path.Combine(directory, "config.json"), json.ToJsonString());

        using var scope = NewDisposeScope();
        var weights = new Dictionary<string, Tensor>();
        var parsed = ModelConfig.Parse(json.ToJsonString());
        foreach (var (name, shape) in parsed.ParameterShapes())
            weights[name] = name.EndsWith("norm.weight", StringComparison.Ordinal) && !parsed.Gemma ? ones(shape) : zeros(shape);
        var embed = weights["model.embed_tokens.weight"];
        var head = weights["lm_head.weight"];
        embed[TensorIndex.Colon, TensorIndex.Single(0)] = tensor(1f);
        for (var k = 0; k < script.Count; k++)
        {
            embed[script[k]] = zeros(Hidden);
            embed[script[k], k + 1] = tensor(1f);
            head[script[k], k] = tensor(10f);          // direction k (the previous token) → script token k
        }
        head[tokenizer.EosTokenIds[0], script.Count] = tensor(10f);
        SafetensorsWriter.Write(Path.Combine(directory, CheckpointWeights.SingleFile), weights);
    }

    /// <summary>The chat template a scripted model uses.</summary>
    public static ChatTemplate PlainChatTemplate(HfTokenizer tokenizer) => ChatTemplate.FromSource(null, tokenizer.BosToken, tokenizer.EosToken);

    /// <summary>
    /// Ids whose bytes are <paramref name="text"/>'s UTF-8, each id used once and none of <paramref name="excluded"/>
    /// (the last tokens of the prompts the script must follow), multi-byte characters split over several tokens
    /// wherever the vocabulary allows (shortest pieces first, backtracking when a piece is used up).
    /// </summary>
    public static int[] SpellUniquely(HfTokenizer tokenizer, string text, IReadOnlySet<int> excluded)
    {
        var byBytes = new Dictionary<string, List<int>>();
        for (var id = 0; id < tokenizer.VocabSize; id++)
        {
            if (!tokenizer.IsToken(id) || tokenizer.IsSpecial(id) || excluded.Contains(id)) continue;
            var key = Convert.ToHexString(tokenizer.TokenBytes(id));
            if (key.Length == 0) continue;
            if (!byBytes.TryGetValue(key, out var ids)) byBytes[key] = ids = [];
            ids.Add(id);
        }
        var bytes = Encoding.UTF8.GetBytes(text);
        var used = new HashSet<int>();
        var spelled = new List<int>();
        var budget = 2_000_000;
        bool Spell(int at)
        {
            if (at == bytes.Length) return true;
            if (--budget < 0) return false;
            var lengths = Enumerable.Range(1, Math.Min(16, bytes.Length - at));
            // ASCII reads best whole; anything else is split into the shortest pieces available.
            foreach (var length in bytes[at] < 0x80 ? lengths.Reverse() : lengths)
            {
                if (!byBytes.TryGetValue(Convert.ToHexString(bytes, at, length), out var ids)) continue;
                foreach (var id in ids.Where(i => !used.Contains(i)))
                {
                    used.Add(id);
                    spelled.Add(id);
                    if (Spell(at + length)) return true;
                    used.Remove(id);
                    spelled.RemoveAt(spelled.Count - 1);
                }
            }
            return false;
        }
        if (!Spell(0)) throw new InvalidOperationException($"{text} cannot be spelled with each token once");
        return spelled.ToArray();
    }
}
