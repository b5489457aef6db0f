using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tuneforge.Engine.Chat;
using Tuneforge.Engine.Tests.Tokenization;
using Tuneforge.Engine.Tokenization;
using Tuneforge.Server.Tests.Harness;

namespace Tuneforge.Server.Tests;

/// <summary>A service with a --models-dir into which the tests write tiny checkpoints carrying real tokenizers.</summary>
public sealed class ScriptedModelsFixture : ServiceFixture
{
    public string ModelsDir => Path.Combine(DataDir, "scripted-models");
    protected override string[] ExtraArgs => ["--models-dir", ModelsDir];
}

/// <summary>
/// Text that comes back from /v1/completions and /v1/chat/completions is exact, compared with Hugging Face's
/// JavaScript tokenizers on the real Llama 2 (SentencePiece, byte fallback), Llama 3.1 and Qwen3 (byte-level)
/// tokenizers: echoed prompts, generated text continuing a prompt, streamed deltas, logprob tokens and offsets.
/// Generated ids are known in advance: each model is scripted (see <see cref="ScriptedCheckpoint"/>).
/// </summary>
public class ExactTextApiTests(ScriptedModelsFixture service) : IClassFixture<ScriptedModelsFixture>
{
    public static TheoryData<string> Packages => new() { "tokenizer-llama2", "tokenizer-llama3_1", "tokenizer-qwen3" };

    /// <summary>What each scripted model generates: characters split across tokens, a combining accent, spaces.</summary>
    /// <remarks>Few single spaces: the plain chat prompt ends with one, and each token may appear once.</remarks>
    private static string ScriptText(string package) => package == "tokenizer-llama2"
        ? " 你好🙂  e\u0301 ok"            // byte fallback needs each byte once: one emoji without repeated bytes
        : " 中文👩🏽‍💻  e\u0301 ok";

    private const string Prompt = "Story:", ChatContent = "Tell me a story";

    [Theory]
    [MemberData(nameof(Packages))]
    public async Task An_echoed_string_prompt_comes_back_exactly(string package)
    {
        var model = EnsureModel(package);
        var tokenizer = ReferenceNode.LenmlTokenizer(package);
        string[] prompts = [.. ExactText.Corpus, "Hello world, again and again", "<s> and <|begin_of_text|> as text"];
        var body = await PostAsync("completions", new { model, prompt = prompts, max_tokens = 0, echo = true, logprobs = 1 });
        for (var i = 0; i < prompts.Length; i++)
        {
            var choice = Choice(body, i);
            var text = choice.GetProperty("text").GetString()!;
            Assert.Equal(prompts[i], text);
            var (tokens, offsets) = Logprobs(choice);
            var bos = tokenizer.AddBosToken && tokenizer.BosTokenId is not null ? 1 : 0;
            Assert.Equal(tokenizer.Encode(prompts[i]).Length + bos, tokens.Count);
            AssertOffsetsIncrease(offsets, text.Length);
        }
        // Plain words: each token's text is found at its offset (the first may carry the space a decoder strips).
        var (plainTokens, plainOffsets) = Logprobs(Choice(body, prompts.Length - 2));
        for (var i = 2; i < plainTokens.Count; i++)
            Assert.Equal(plainTokens[i], prompts[^2].Substring(plainOffsets[i], plainTokens[i].Length));
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public async Task An_echoed_token_id_prompt_is_the_huggingface_decode_of_the_whole_sequence(string package)
    {
        var model = EnsureModel(package);
        var tokenizer = ReferenceNode.LenmlTokenizer(package);
        int[] bos = tokenizer.BosTokenId is int b ? [b] : [];
        var spelled = ExactText.Corpus.Select(t => ByteSpelling(tokenizer, t)).ToList();
        var sequences = ExactText.Corpus.Select(t => (int[])[.. bos, .. tokenizer.Encode(t)])
            .Concat(spelled)
            .Append([.. tokenizer.Encode("before"), tokenizer.EosTokenIds[0], .. bos, .. tokenizer.Encode(" after  ")])
            .ToList();
        var expected = ReferenceNode.Decode(TokenizerFile(package, "tokenizer.json"), TokenizerFile(package, "tokenizer_config.json"), sequences, skipSpecialTokens: false);

        var body = await PostAsync("completions", new { model, prompt = sequences, max_tokens = 0, echo = true, logprobs = 0 });
        for (var i = 0; i < sequences.Count; i++)
        {
            var choice = Choice(body, i);
            var text = choice.GetProperty("text").GetString()!;
            Assert.Equal(expected[i], text);
            var (tokens, offsets) = Logprobs(choice);
            Assert.Equal(sequences[i].Length, tokens.Count);
            AssertOffsetsIncrease(offsets, text.Length);
        }
        // One token per byte: tokens that are part of a character read "bytes:\xNN", and all of them give back the bytes.
        for (var i = 0; i < spelled.Count; i++)
        {
            var (tokens, _) = Logprobs(Choice(body, ExactText.Corpus.Length + i));
            Assert.Equal(Encoding.UTF8.GetBytes(ExactText.Corpus[i]), tokens.SelectMany(TokenBytes).ToArray());
            if (ExactText.Corpus[i].Any(c => c > 0x7f)) Assert.Contains(tokens, t => t.StartsWith("bytes:\\x", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData(Tuneforge.Engine.Checkpoints.ModelConfig.Qwen3)]
    [InlineData(Tuneforge.Engine.Checkpoints.ModelConfig.Gemma3)]
    [InlineData(Tuneforge.Engine.Checkpoints.ModelConfig.Phi3)]
    [InlineData(Tuneforge.Engine.Checkpoints.ModelConfig.Mistral)]
    public async Task A_checkpoint_of_each_architecture_in_the_models_dir_is_listed_and_answers_over_http(string architecture)
    {
        // The same script and Qwen3 tokenizer in a checkpoint of another architecture: listed as loadable, and its
        // greedy completion, plain and streamed, is the script's text (the service path: catalog, capability check,
        // decoder, text).
        const string package = "tokenizer-qwen3";
        var name = "scripted-" + architecture.Replace("ForCausalLM", "").ToLowerInvariant();
        var dir = Path.Combine(service.ModelsDir, name);
        lock (Scripts)
            if (!File.Exists(Path.Combine(dir, "config.json")))
                ScriptedCheckpoint.Write(dir, Path.GetDirectoryName(TokenizerFile(package, "tokenizer.json"))!, ReferenceNode.LenmlTokenizer(package),
                    Script(package), architecture);
        var (expected, _) = await ExpectedAsync(package);

        using (var http = service.Http())
        {
            var listed = JsonDocument.Parse(await http.GetStringAsync($"models/{name}")).RootElement;
            Assert.Equal(name, listed.GetProperty("id").GetString());
        }
        var plain = await PostAsync("completions", new { model = name, prompt = Prompt, max_tokens = 64, temperature = 0 });
        Assert.Equal("stop", Choice(plain, 0).GetProperty("finish_reason").GetString());
        Assert.Equal(expected, Choice(plain, 0).GetProperty("text").GetString());
        var deltas = await StreamAsync("completions", new { model = name, prompt = Prompt, max_tokens = 64, temperature = 0, stream = true }, "text");
        Assert.Equal(expected, string.Concat(deltas));
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public async Task Generated_text_continues_the_prompt_exactly_streamed_or_not(string package)
    {
        var model = EnsureModel(package);
        var (expected, _) = await ExpectedAsync(package);

        var echoed = await PostAsync("completions", new { model, prompt = Prompt, max_tokens = 64, temperature = 0, echo = true });
        Assert.Equal("stop", Choice(echoed, 0).GetProperty("finish_reason").GetString());
        Assert.Equal(Prompt + expected, Choice(echoed, 0).GetProperty("text").GetString());

        var plain = await PostAsync("completions", new { model, prompt = Prompt, max_tokens = 64, temperature = 0, logprobs = 1 });
        var text = Choice(plain, 0).GetProperty("text").GetString()!;
        Assert.Equal(expected, text);
        var (tokens, offsets) = Logprobs(Choice(plain, 0));
        Assert.Equal(Encoding.UTF8.GetBytes(expected), tokens.SelectMany(TokenBytes).ToArray());
        Assert.Contains(tokens, t => t.StartsWith("bytes:\\x", StringComparison.Ordinal));
        AssertOffsetsIncrease(offsets, text.Length);
        for (var i = 0; i < tokens.Count; i++)
            if (!tokens[i].StartsWith("bytes:", StringComparison.Ordinal)) Assert.Equal(tokens[i], text.Substring(offsets[i], tokens[i].Length));

        var deltas = await StreamAsync("completions", new { model, prompt = Prompt, max_tokens = 64, temperature = 0, stream = true }, "text");
        AssertWholeCharacters(deltas);
        Assert.Equal(expected, string.Concat(deltas));
        var echoedDeltas = await StreamAsync("completions", new { model, prompt = Prompt, max_tokens = 64, temperature = 0, echo = true, stream = true }, "text");
        Assert.Equal(Prompt + expected, string.Concat(echoedDeltas));
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public async Task A_stop_string_inside_a_character_split_across_tokens_still_stops(string package)
    {
        var model = EnsureModel(package);
        var (expected, _) = await ExpectedAsync(package);
        var stop = package == "tokenizer-llama2" ? "🙂" : "💻";
        var before = expected[..expected.IndexOf(stop, StringComparison.Ordinal)];

        var plain = await PostAsync("completions", new { model, prompt = Prompt, max_tokens = 64, temperature = 0, stop });
        Assert.Equal(before, Choice(plain, 0).GetProperty("text").GetString());
        Assert.Equal("stop", Choice(plain, 0).GetProperty("finish_reason").GetString());
        var deltas = await StreamAsync("completions", new { model, prompt = Prompt, max_tokens = 64, temperature = 0, stop, stream = true }, "text");
        AssertWholeCharacters(deltas);
        Assert.Equal(before, string.Concat(deltas));
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public async Task A_chat_reply_streams_whole_characters_and_equals_the_huggingface_decode(string package)
    {
        var model = EnsureModel(package);
        var (_, reply) = await ExpectedAsync(package);
        var messages = new[] { new { role = "user", content = ChatContent } };

        var plain = await PostAsync("chat/completions", new { model, messages, max_tokens = 64, temperature = 0 });
        Assert.Equal(reply, Choice(plain, 0).GetProperty("message").GetProperty("content").GetString());
        var deltas = await StreamAsync("chat/completions", new { model, messages, max_tokens = 64, temperature = 0, stream = true }, "content");
        AssertWholeCharacters(deltas);
        Assert.Equal(reply, string.Concat(deltas));
    }

    [Fact]
    public async Task A_qwen3_chat_prompt_is_the_huggingface_render_with_thinking_off_unless_chat_template_kwargs_turn_it_on()
    {
        const string package = "tokenizer-qwen3";
        var config = TokenizerFile(package, "tokenizer_config.json");
        var model = EnsureModel(package);
        var withTemplate = model + "-chat";
        var dir = Path.Combine(service.ModelsDir, withTemplate);
        lock (Scripts)
        {
            if (!File.Exists(Path.Combine(dir, "config.json")))
            {
                Directory.CreateDirectory(dir);
                foreach (var file in Directory.GetFiles(Path.Combine(service.ModelsDir, model))) File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
                File.Copy(config, Path.Combine(dir, "tokenizer_config.json"), overwrite: true); // Qwen3's own chat template
            }
        }
        var messages = new[] { new { role = "system", content = "Be brief." }, new { role = "user", content = ChatContent } };
        var template = JsonNode.Parse(File.ReadAllText(config))!["chat_template"]!.GetValue<string>();
        var rendered = ReferenceNode.Run(new JsonObject
        {
            ["render"] = new JsonArray(new[] { false, true }.Select(thinking => (JsonNode?)new JsonObject
            {
                ["template"] = template,
                ["variables"] = new JsonObject
                {
                    ["messages"] = JsonNode.Parse(JsonSerializer.Serialize(messages)),
                    ["add_generation_prompt"] = true, ["enable_thinking"] = thinking,
                },
            }).ToArray()),
        })["render"]!.AsArray().Select(r => r!["text"]!.GetValue<string>()).ToList();
        Assert.EndsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n", rendered[0]);
        var expected = ReferenceNode.Tokenize(TokenizerFile(package, "tokenizer.json"), config, rendered).Select(t => t.Ids.Length).ToList();

        int PromptTokens(JsonElement body) => body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
        Assert.Equal(expected[0], PromptTokens(await PostAsync("chat/completions", new { model = withTemplate, messages, max_tokens = 1 })));
        Assert.Equal(expected[0], PromptTokens(await PostAsync("chat/completions",
            new { model = withTemplate, messages, max_tokens = 1, chat_template_kwargs = new { enable_thinking = false } })));
        Assert.Equal(expected[1], PromptTokens(await PostAsync("chat/completions",
            new { model = withTemplate, messages, max_tokens = 1, chat_template_kwargs = new { enable_thinking = true } })));

        using var http = service.Http();
        foreach (var (kwargs, param) in new (object, string)[] { (new { enable_thinking = "yes" }, "chat_template_kwargs.enable_thinking"),
                     (new { tools_in_system = true }, "chat_template_kwargs.tools_in_system"), ("on", "chat_template_kwargs") })
        {
            using var response = await http.PostAsJsonAsync("chat/completions", new { model = withTemplate, messages, max_tokens = 1, chat_template_kwargs = kwargs });
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
            Assert.Equal(param, JsonDocument.Parse(text).RootElement.GetProperty("error").GetProperty("param").GetString());
        }
    }

    /// <summary>
    /// The completion of <see cref="Prompt"/> (decode(prompt + script) after decode(prompt), special tokens skipped)
    /// and the chat reply (decode(script)), both from Hugging Face's decoder.
    /// </summary>
    private static Task<(string Completion, string Reply)> ExpectedAsync(string package)
    {
        lock (Expected)
        {
            if (!Expected.TryGetValue(package, out var expected)) Expected[package] = expected = Task.Run(() => ReferenceTexts(package));
            return expected;
        }
    }

    private static readonly Dictionary<string, Task<(string, string)>> Expected = [];

    private static (string Completion, string Reply) ReferenceTexts(string package)
    {
        var tokenizer = ReferenceNode.LenmlTokenizer(package);
        var script = Script(package);
        int[] prompt = [.. tokenizer.AddBosToken && tokenizer.BosTokenId is int b ? [b] : Array.Empty<int>(), .. tokenizer.Encode(Prompt)];
        Assert.DoesNotContain(prompt[^1], script); // the script starts after a token outside it
        var decoded = ReferenceNode.Decode(TokenizerFile(package, "tokenizer.json"), TokenizerFile(package, "tokenizer_config.json"),
            [prompt, [.. prompt, .. script], script], skipSpecialTokens: true);
        Assert.StartsWith(decoded[0], decoded[1]);
        return (decoded[1][decoded[0].Length..], decoded[2]);
    }

    private static readonly Dictionary<string, int[]> Scripts = [];

    private static int[] Script(string package)
    {
        lock (Scripts)
        {
            if (Scripts.TryGetValue(package, out var script)) return script;
            var tokenizer = ReferenceNode.LenmlTokenizer(package);
            var chat = new ChatEncoder(tokenizer, ScriptedCheckpoint.PlainChatTemplate(tokenizer))
                .Encode([new ChatMessage("user", ChatContent)], addGenerationPrompt: true).Ids;
            var excluded = new HashSet<int> { chat[^1], tokenizer.Encode(Prompt)[^1] };
            return Scripts[package] = ScriptedCheckpoint.SpellUniquely(tokenizer, ScriptText(package), excluded);
        }
    }

    private string EnsureModel(string package)
    {
        var name = "scripted-" + package["tokenizer-".Length..].Replace('_', '-');
        var dir = Path.Combine(service.ModelsDir, name);
        lock (Scripts)
        {
            if (!File.Exists(Path.Combine(dir, "config.json")))
                ScriptedCheckpoint.Write(dir, Path.GetDirectoryName(TokenizerFile(package, "tokenizer.json"))!, ReferenceNode.LenmlTokenizer(package), Script(package));
        }
        return name;
    }

    private static string TokenizerFile(string package, string file) => ReferenceNode.LenmlModelFile(package, file);

    /// <summary>One token per UTF-8 byte: the &lt;0xNN&gt; byte-fallback token or the byte-level symbol.</summary>
    private static int[] ByteSpelling(HfTokenizer tokenizer, string text)
    {
        var byByte = new int?[256];
        for (var b = 0; b < 256; b++) byByte[b] = tokenizer.TokenToId($"<0x{b:X2}>");
        for (var id = 0; id < tokenizer.VocabSize; id++)
            if (tokenizer.IsToken(id) && !tokenizer.IsSpecial(id) && tokenizer.TokenBytes(id) is [var only]) byByte[only] ??= id;
        return Encoding.UTF8.GetBytes(text).Select(b => byByte[b] ?? throw new InvalidOperationException($"no token for byte {b:X2}")).ToArray();
    }

    /// <summary>A logprobs token's bytes: "bytes:\xNN…" read back, else the text's UTF-8.</summary>
    private static byte[] TokenBytes(string token) => token.StartsWith("bytes:", StringComparison.Ordinal)
        ? token["bytes:".Length..].Split("\\x", StringSplitOptions.RemoveEmptyEntries).Select(h => byte.Parse(h, NumberStyles.HexNumber)).ToArray()
        : Encoding.UTF8.GetBytes(token);

    private static void AssertOffsetsIncrease(IReadOnlyList<int> offsets, int textLength)
    {
        for (var i = 0; i < offsets.Count; i++) Assert.InRange(offsets[i], i == 0 ? 0 : offsets[i - 1], textLength);
    }

    private static void AssertWholeCharacters(IReadOnlyList<string> deltas) =>
        Assert.All(deltas, d => Assert.False(d.Contains('\uFFFD') || (d.Length > 0 && (char.IsHighSurrogate(d[^1]) || char.IsLowSurrogate(d[0]))),
            $"delta {JsonSerializer.Serialize(d)} splits a character"));

    private static JsonElement Choice(JsonElement body, int index) =>
        body.GetProperty("choices").EnumerateArray().Single(c => c.GetProperty("index").GetInt32() == index);

    private static (List<string> Tokens, List<int> Offsets) Logprobs(JsonElement choice)
    {
        var logprobs = choice.GetProperty("logprobs");
        return (logprobs.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToList(),
            logprobs.GetProperty("text_offset").EnumerateArray().Select(o => o.GetInt32()).ToList());
    }

    private async Task<JsonElement> PostAsync(string path, object body)
    {
        using var http = service.Http();
        using var response = await http.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text + "\n" + service.Service.Output);
        return JsonDocument.Parse(text).RootElement;
    }

    /// <summary>The text deltas of choice 0 of a streamed response (field "text", or "content" of a chat delta).</summary>
    private async Task<List<string>> StreamAsync(string path, object body, string field)
    {
        using var http = service.Http();
        using var response = await http.PostAsJsonAsync(path, body);
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.True(events[^1] == "data: [DONE]", string.Join("\n", events) + "\n" + service.Service.Output);
        var deltas = new List<string>();
        foreach (var e in events[..^1])
        {
            foreach (var choice in JsonDocument.Parse(e["data: ".Length..]).RootElement.GetProperty("choices").EnumerateArray())
            {
                var holder = field == "content" ? choice.GetProperty("delta") : choice;
                if (holder.TryGetProperty(field, out var t) && t.ValueKind == JsonValueKind.String) deltas.Add(t.GetString()!);
            }
        }
        return deltas;
    }
}
