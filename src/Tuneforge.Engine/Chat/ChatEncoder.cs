using Tuneforge.Engine.Tokenization;

namespace Tuneforge.Engine.Chat;

/// <summary>
/// Token ids of one training or prompt example with the loss mask. <see cref="LossMask"/>[i] is true when token i is
/// trained; <see cref="MessageIndex"/>[i] is the message the token belongs to, -1 for template glue (headers,
/// separators, BOS).
/// </summary>
public sealed record EncodedChat(int[] Ids, bool[] LossMask, int[] MessageIndex)
{
    public int Length => Ids.Length;
    public int TrainedTokenCount => LossMask.Count(m => m);
}

/// <summary>
/// Renders a conversation with the checkpoint's template, tokenizes the whole text ONCE, and maps message spans to
/// tokens through character offsets (encoding messages separately and concatenating would tokenize differently at
/// the seams). A token is masked in when it overlaps the span of a trained assistant turn (Weight != 0): its content
/// and its end-of-turn token, never the role header and never the "\n" ChatML puts after &lt;|im_end|&gt;.
/// </summary>
public sealed class ChatEncoder
{
    public HfTokenizer Tokenizer { get; }
    public ChatTemplate Template { get; }

    public ChatEncoder(HfTokenizer tokenizer, ChatTemplate template)
    {
        Tokenizer = tokenizer;
        Template = template;
    }

    public EncodedChat Encode(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, ChatTemplateVariables? variables = null)
    {
        var rendered = Template.Render(messages, addGenerationPrompt, variables);
        var tokens = Tokenizer.EncodeWithOffsets(rendered.Text);
        var ids = new int[tokens.Count];
        var mask = new bool[tokens.Count];
        var owner = new int[tokens.Count];
        for (int t = 0; t < tokens.Count; t++)
        {
            var token = tokens[t];
            ids[t] = token.Id;
            owner[t] = -1;
            foreach (var message in rendered.Messages)
            {
                var span = message.Completion ?? message.Content;
                if (!token.Overlaps(span.Start, span.End)) continue;
                owner[t] = message.Index;
                if (message.Completion is not null && messages[message.Index].IsTrainedAssistantTurn) mask[t] = true;
                break;
            }
        }
        return new EncodedChat(ids, mask, owner);
    }

    /// <summary>
    /// The legacy prompt/completion format. Layout: [BOS if the tokenizer adds one] + tokens of (prompt + completion)
    /// encoded as ONE text + [EOS]. The mask is true on every token overlapping the completion and on the EOS;
    /// MessageIndex is 0 for prompt tokens, 1 for completion tokens and EOS, -1 for BOS.
    /// </summary>
    public EncodedChat EncodePromptCompletion(string prompt, string completion)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(completion);
        int eos = Tokenizer.EosTokenIds.Count > 0 ? Tokenizer.EosTokenIds[0]
            : throw new InvalidOperationException("The tokenizer has no EOS token (tokenizer_config eos_token or generation_config eos_token_id), which prompt/completion training needs");
        var ids = new List<int>();
        var mask = new List<bool>();
        var owner = new List<int>();
        if (Tokenizer.AddBosToken && Tokenizer.BosTokenId is int bos)
        {
            ids.Add(bos); mask.Add(false); owner.Add(-1);
        }
        string text = prompt + completion;
        foreach (var token in Tokenizer.EncodeWithOffsets(text))
        {
            bool inCompletion = token.Overlaps(prompt.Length, text.Length);
            ids.Add(token.Id); mask.Add(inCompletion); owner.Add(inCompletion ? 1 : 0);
        }
        ids.Add(eos); mask.Add(true); owner.Add(1);
        return new EncodedChat(ids.ToArray(), mask.ToArray(), owner.ToArray());
    }

    /// <summary>Token count of a rendered conversation (what training sees), for dataset statistics.</summary>
    public int CountTokens(IReadOnlyList<ChatMessage> messages) =>
        Tokenizer.CountTokens(Template.Render(messages, addGenerationPrompt: false).Text);

    /// <summary>Token count of a legacy prompt/completion example, with BOS/EOS as <see cref="EncodePromptCompletion"/> adds them.</summary>
    public int CountTokens(string prompt, string completion) => EncodePromptCompletion(prompt, completion).Length;
}
