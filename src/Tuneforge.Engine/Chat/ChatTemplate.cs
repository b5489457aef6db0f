using Tuneforge.Engine.Tokenization;

namespace Tuneforge.Engine.Chat;

/// <summary>
/// A checkpoint's chat template, recognised from its Hugging Face <c>chat_template</c> source and rendered by a
/// small C# renderer per family (no Jinja engine is involved). Training and serving both render through this class,
/// and fine-tuned checkpoints store <see cref="Source"/> so serving uses exactly the template training used.
/// Supported families: see <see cref="SupportedFamilies"/>. A checkpoint without a template gets the "plain"
/// format described on <see cref="PlainRenderer"/>; an unrecognised template is an error, never a guess.
/// </summary>
public sealed class ChatTemplate
{
    public static readonly IReadOnlyList<string> SupportedFamilies =
    [
        "chatml (plain ChatML, no default system)",
        "qwen2 (ChatML, default system \"You are a helpful assistant.\")",
        "qwen2.5 (ChatML, default system \"You are Qwen, created by Alibaba Cloud. You are a helpful assistant.\")",
        "smollm2 (ChatML, default system \"You are a helpful AI assistant named SmolLM, trained by Hugging Face\")",
        "llama3 (Llama 3.0 headers)",
        "llama3.1 / llama3.2 (headers with the Cutting Knowledge Date system block, date pinned to 26 Jul 2024)",
        "llama2 ([INST] <<SYS>>)",
        "mistral ([INST] ... [/INST], v0.1/v0.2/Mixtral variants)",
        "mistral-v3 (Mistral v0.3 and Nemo: system text joined to the last user turn)",
        "zephyr (<|user|> ... </s>, TinyLlama-Chat)",
        "qwen3 (ChatML with <think> blocks: enable_thinking off by default, reasoning of past turns dropped)",
        "gemma3 (<start_of_turn>user/model, system text folded into the first user turn)",
        "phi3 (<|user|>\\n ... <|end|>\\n, Phi-3 and Phi-3.5) / phi4-mini (<|user|> ... <|end|> without newlines)",
    ];

    private readonly ChatRenderer _renderer;

    /// <summary>The family name: chatml, qwen2, qwen2.5, smollm2, llama3, llama3.1, llama3.2, llama2, mistral, mistral-v3, zephyr, qwen3, gemma3, phi3, phi4-mini, plain.</summary>
    public string Family { get; }
    /// <summary>The template source exactly as found (null for the plain default).</summary>
    public string? Source { get; }
    /// <summary>The system message the template inserts when the conversation has none (ChatML families).</summary>
    public string? DefaultSystemPrompt { get; }
    public string? BosToken { get; }
    public string? EosToken { get; }

    private ChatTemplate(string family, string? source, ChatRenderer renderer, string? bos, string? eos, string? defaultSystem = null)
    {
        Family = family;
        Source = source;
        _renderer = renderer;
        BosToken = bos;
        EosToken = eos;
        DefaultSystemPrompt = defaultSystem;
    }

    /// <summary>
    /// Reads chat_template (and bos/eos) from tokenizer_config.json, or a separate chat_template.jinja when the
    /// config has none (newer transformers save it there).
    /// </summary>
    public static ChatTemplate FromCheckpoint(string dir)
    {
        string configPath = Path.Combine(dir, "tokenizer_config.json");
        var config = TokenizerConfig.Read(File.Exists(configPath) ? File.ReadAllText(configPath) : null, null);
        string? source = config.ChatTemplate;
        string jinjaPath = Path.Combine(dir, "chat_template.jinja");
        if (source is null && File.Exists(jinjaPath)) source = File.ReadAllText(jinjaPath);
        return FromSource(source, config.BosToken, config.EosToken);
    }

    public static ChatTemplate FromSource(string? chatTemplateSource, string? bosToken, string? eosToken)
    {
        if (chatTemplateSource is null) return new ChatTemplate("plain", null, new PlainRenderer(bosToken, eosToken), bosToken, eosToken);
        return TemplateRecognizer.Recognize(chatTemplateSource, bosToken, eosToken) switch
        {
            var (family, renderer, defaultSystem) => new ChatTemplate(family, chatTemplateSource, renderer, bosToken, eosToken, defaultSystem),
        };
    }

    /// <param name="variables">Template variables beyond the messages (Qwen3's enable_thinking); null: their defaults.</param>
    public RenderedChat Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, ChatTemplateVariables? variables = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var text = new ChatTextBuilder();
        _renderer.Render(messages, addGenerationPrompt, variables ?? ChatTemplateVariables.Default, text);
        return text.Build();
    }
}
