using System.Text.Json;

namespace Tuneforge.Engine.Tokenization;

/// <summary>
/// The fields of tokenizer_config.json and generation_config.json that tokenization and chat rendering use.
/// Token fields may be a string or an AddedToken object ({"content": ...}); eos_token_id may be an int or a list.
/// </summary>
public sealed record TokenizerConfig(
    string? BosToken,
    string? EosToken,
    bool? AddBosToken,
    string? ChatTemplate,
    IReadOnlyList<int> GenerationEosTokenIds,
    int? GenerationBosTokenId)
{
    public static TokenizerConfig Read(string? tokenizerConfigJson, string? generationConfigJson)
    {
        string? bos = null, eos = null, template = null;
        bool? addBos = null;
        if (tokenizerConfigJson is not null)
        {
            using var doc = JsonDocument.Parse(tokenizerConfigJson);
            var root = doc.RootElement;
            bos = TokenText(root, "bos_token");
            eos = TokenText(root, "eos_token");
            if (root.TryGetProperty("add_bos_token", out var add) && add.ValueKind is JsonValueKind.True or JsonValueKind.False)
                addBos = add.GetBoolean();
            template = ReadChatTemplate(root);
        }

        var eosIds = new List<int>();
        int? bosId = null;
        if (generationConfigJson is not null)
        {
            using var doc = JsonDocument.Parse(generationConfigJson);
            var root = doc.RootElement;
            if (root.TryGetProperty("eos_token_id", out var e))
            {
                if (e.ValueKind == JsonValueKind.Number) eosIds.Add(e.GetInt32());
                else if (e.ValueKind == JsonValueKind.Array) eosIds.AddRange(e.EnumerateArray().Select(x => x.GetInt32()));
            }
            if (root.TryGetProperty("bos_token_id", out var b) && b.ValueKind == JsonValueKind.Number) bosId = b.GetInt32();
        }
        return new TokenizerConfig(bos, eos, addBos, template, eosIds, bosId);
    }

    private static string? TokenText(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value)) return null;
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.TryGetProperty("content", out var c) => c.GetString(),
            _ => null,
        };
    }

    /// <summary>chat_template is a string, or a list of {name, template} from which "default" is taken.</summary>
    private static string? ReadChatTemplate(JsonElement root)
    {
        if (!root.TryGetProperty("chat_template", out var t)) return null;
        if (t.ValueKind == JsonValueKind.String) return t.GetString();
        if (t.ValueKind == JsonValueKind.Array)
        {
            foreach (var entry in t.EnumerateArray())
                if (entry.TryGetProperty("name", out var n) && n.GetString() == "default") return entry.GetProperty("template").GetString();
        }
        return null;
    }
}
