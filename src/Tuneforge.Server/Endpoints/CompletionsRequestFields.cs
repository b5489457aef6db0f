using System.Text.Json;
using Tuneforge.Core;
using Tuneforge.Core.Inference;
using Tuneforge.Inference;

namespace Tuneforge.Server.Endpoints;

/// <summary>
/// Reads the fields of a completions request body, shared by /v1/chat/completions and /v1/completions. A field that
/// is null counts as absent; a field of the wrong kind or out of range is a 400 naming it. Fields nobody reads are
/// reported by <see cref="RejectUnknown"/>, so nothing that would change the answer is silently ignored.
/// </summary>
internal sealed class CompletionsRequestFields(JsonElement root)
{
    private readonly HashSet<string> _read = [];

    public JsonElement Root => root;

    public JsonElement? Get(string name)
    {
        _read.Add(name);
        return root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;
    }

    /// <summary>Marks fields that are accepted and have no effect on the output (metadata, store, user, ...).</summary>
    public void Ignore(params string[] names) => _read.UnionWith(names);

    public string RequiredString(string name) => Get(name) is { ValueKind: JsonValueKind.String } v && v.GetString() is { Length: > 0 } s
        ? s : throw ApiProblem.BadRequest(Get(name) is null ? $"Missing required parameter: '{name}'." : $"Invalid type for '{name}': expected a string.", name);

    public double? Number(string name, double min, double max)
    {
        if (Get(name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Number) throw ApiProblem.BadRequest($"Invalid type for '{name}': expected a number.", name);
        var d = v.GetDouble();
        if (d < min || d > max) throw ApiProblem.BadRequest($"Invalid '{name}': {d} is out of range; expected a value from {min} to {max}.", name, "invalid_value");
        return d;
    }

    public long? Integer(string name, long min, long max)
    {
        if (Get(name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out var i))
            throw ApiProblem.BadRequest($"Invalid type for '{name}': expected an integer.", name);
        if (i < min || i > max) throw ApiProblem.BadRequest($"Invalid '{name}': {i} is out of range; expected a value from {min} to {max}.", name, "invalid_value");
        return i;
    }

    public bool? Bool(string name)
    {
        if (Get(name) is not { } v) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw ApiProblem.BadRequest($"Invalid type for '{name}': expected a boolean.", name),
        };
    }

    public string? String(string name)
    {
        if (Get(name) is not { } v) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw ApiProblem.BadRequest($"Invalid type for '{name}': expected a string.", name);
    }

    /// <summary>A field this server cannot honour: absent (or the given harmless value) passes, anything else is a 400.</summary>
    public void Unsupported(string name, string why, Func<JsonElement, bool>? harmless = null)
    {
        if (Get(name) is { } v && !(harmless?.Invoke(v) ?? false))
            throw ApiProblem.BadRequest($"'{name}' is not supported by this server: {why}", name, "unsupported_parameter");
    }

    public void RejectUnknown()
    {
        foreach (var p in root.EnumerateObject())
            if (!_read.Contains(p.Name))
                throw ApiProblem.BadRequest($"Unrecognized request argument supplied: {p.Name}", p.Name, "unknown_parameter");
    }

    /// <summary>The sampling fields both endpoints share; <paramref name="maxTokens"/> is already resolved.</summary>
    public SamplingSettings Sampling(int maxTokens, int vocabSize)
    {
        return new SamplingSettings
        {
            Temperature = Number("temperature", 0, 2) ?? 1.0,
            TopP = Number("top_p", 0, 1) ?? 1.0,
            Seed = Integer("seed", long.MinValue, long.MaxValue),
            PresencePenalty = Number("presence_penalty", -2, 2) ?? 0,
            FrequencyPenalty = Number("frequency_penalty", -2, 2) ?? 0,
            LogitBias = LogitBias(vocabSize),
            MaxTokens = maxTokens,
            Stop = Stop(),
        };
    }

    public (bool Stream, bool IncludeUsage) Streaming()
    {
        var stream = Bool("stream") ?? false;
        var includeUsage = false;
        if (Get("stream_options") is { } o)
        {
            if (!stream) throw ApiProblem.BadRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options");
            if (o.ValueKind != JsonValueKind.Object) throw ApiProblem.BadRequest("Invalid type for 'stream_options': expected an object.", "stream_options");
            foreach (var p in o.EnumerateObject())
            {
                if (p.Name == "include_usage") includeUsage = p.Value.ValueKind == JsonValueKind.True;
                else if (p.Name != "include_obfuscation")
                    throw ApiProblem.BadRequest($"Unrecognized request argument supplied: stream_options.{p.Name}", $"stream_options.{p.Name}");
            }
        }
        return (stream, includeUsage);
    }

    private IReadOnlyList<string> Stop()
    {
        if (Get("stop") is not { } v) return [];
        if (v.ValueKind == JsonValueKind.String) return [v.GetString()!];
        if (v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
            throw ApiProblem.BadRequest("Invalid type for 'stop': expected a string or an array of strings.", "stop");
        var stops = v.EnumerateArray().Select(e => e.GetString()!).ToList();
        if (stops.Count > 4) throw ApiProblem.BadRequest($"Invalid 'stop': array too long. Expected at most 4 sequences, got {stops.Count}.", "stop", "array_above_max_length");
        return stops;
    }

    private Dictionary<int, double>? LogitBias(int vocabSize)
    {
        if (Get("logit_bias") is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Object) throw ApiProblem.BadRequest("Invalid type for 'logit_bias': expected an object of token ids to numbers.", "logit_bias");
        var bias = new Dictionary<int, double>();
        foreach (var p in v.EnumerateObject())
        {
            if (!int.TryParse(p.Name, out var id) || id < 0 || id >= vocabSize)
                throw ApiProblem.BadRequest($"Invalid key in 'logit_bias': {p.Name} is not a token id of this model (0 to {vocabSize - 1}).", "logit_bias");
            if (p.Value.ValueKind != JsonValueKind.Number || p.Value.GetDouble() is < -100 or > 100)
                throw ApiProblem.BadRequest($"Invalid value in 'logit_bias' for token {p.Name}: expected a number from -100 to 100.", "logit_bias");
            bias[id] = p.Value.GetDouble();
        }
        return bias;
    }
}
