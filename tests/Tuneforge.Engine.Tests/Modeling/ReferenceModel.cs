using System.Text.Json;

namespace Tuneforge.Engine.Tests.Modeling;

/// <summary>
/// A deliberately naive double-precision Llama/Qwen2/Qwen3/Mistral/Phi-3/Gemma 3 forward pass written straight from
/// Hugging Face's modeling_llama.py, modeling_qwen3.py, modeling_mistral.py, modeling_phi3.py and modeling_gemma3.py
/// definitions, for one sequence at positions 0..T−1: embedding (Gemma 3: × √hidden), RMSNorm (Gemma 3: × (1 + w)),
/// q/k/v (+bias; Phi-3: one qkv_proj whose output is q, then k, then v), Qwen3's and Gemma 3's q_norm/k_norm (RMSNorm
/// over each head's head_dim values, before RoPE), RoPE (rotate_half layout, with _compute_llama3_parameters scaling;
/// Phi-3: only the first partial_rotary_factor · head_dim dimensions rotated, and LongRoPE's short factors with cos
/// and sin times its attention factor, as _compute_longrope_parameters gives them within
/// original_max_position_embeddings; Gemma 3: rope_local_base_freq on sliding layers, a linear factor on global ones),
/// causal GQA softmax attention (scaled by 1/√head_dim, Gemma 3: query_pre_attn_scalar^−½; within sliding_window on
/// Mistral's layers and Gemma 3's sliding ones), o_proj (+bias), Gemma 3's post-attention norm, SwiGLU MLP (+bias;
/// Phi-3: one gate_up_proj whose first half is the gate; Gemma 3: GeGLU with tanh GELU between pre- and
/// post-feedforward norms), final norm, LM head (tied or not). It reads config.json itself and shares no code with
/// the engine.
/// </summary>
internal sealed class ReferenceModel
{
    /// <summary>The features a guard may leave out with <c>without</c>, to prove that each one matters.</summary>
    public static readonly IReadOnlyList<string> Features =
        ["embedding scale", "(1 + w) norms", "output norms", "geglu", "query_pre_attn_scalar", "sliding window", "local rope base", "linear rope scaling"];

    private readonly ReferenceWeights _w;
    private readonly int _hidden, _layers, _heads, _kvHeads, _headDim, _vocab;
    private readonly double _eps;
    private readonly double[] _invFreq, _localInvFreq;
    private readonly bool _tied, _qkNorm, _gemma, _phi3, _gateFirst;
    private readonly int _rotaryDim, _intermediate;
    private readonly double _ropeScale = 1;
    private readonly string? _without;
    private readonly int? _window;
    private readonly bool[] _sliding;
    private readonly double _queryScale;

    /// <param name="qkNorm">false leaves out Qwen3's q_norm/k_norm (for tests proving they matter)</param>
    /// <param name="partialRotary">false rotates Phi-3's whole head (for tests proving partial_rotary_factor matters)</param>
    /// <param name="longRope">false leaves out Phi-3's LongRoPE factors and attention factor</param>
    /// <param name="gateFirst">false reads Phi-3's gate_up_proj as up|gate</param>
    /// <param name="without">one of <see cref="Features"/> to leave out (for tests proving it matters)</param>
    public ReferenceModel(string directory, bool qkNorm = true, bool partialRotary = true, bool longRope = true, bool gateFirst = true,
        string? without = null)
    {
        if (without is not null && !Features.Contains(without)) throw new ArgumentException($"unknown feature {without}", nameof(without));
        _without = without;
        _w = ReferenceWeights.Load(directory);
        var c = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "config.json"))).RootElement;
        _hidden = c.GetProperty("hidden_size").GetInt32();
        _layers = c.GetProperty("num_hidden_layers").GetInt32();
        _heads = c.GetProperty("num_attention_heads").GetInt32();
        _kvHeads = c.GetProperty("num_key_value_heads").GetInt32();
        var architecture = c.GetProperty("architectures")[0].GetString();
        var qwen3 = architecture == "Qwen3ForCausalLM";
        _gemma = architecture == "Gemma3ForCausalLM";
        _qkNorm = (qwen3 || _gemma) && qkNorm;
        // Qwen3Config's head_dim defaults to 128, Gemma3TextConfig's to 256; the others' to hidden_size / num_attention_heads.
        _headDim = c.TryGetProperty("head_dim", out var hd) ? hd.GetInt32() : qwen3 ? 128 : _gemma ? 256 : _hidden / _heads;
        _vocab = c.GetProperty("vocab_size").GetInt32();
        _eps = c.GetProperty("rms_norm_eps").GetDouble();
        _tied = c.TryGetProperty("tie_word_embeddings", out var tie) && tie.GetBoolean();
        _intermediate = c.GetProperty("intermediate_size").GetInt32();
        _phi3 = c.GetProperty("architectures")[0].GetString() == "Phi3ForCausalLM";
        _gateFirst = gateFirst;
        // Phi3: rotary_dim = int(head_dim · partial_rotary_factor); the inverse frequencies are over rotary_dim.
        _rotaryDim = _phi3 && partialRotary && c.TryGetProperty("partial_rotary_factor", out var prf)
            ? (int)(_headDim * prf.GetDouble()) : _headDim;
        var theta = c.GetProperty("rope_theta").GetDouble();
        _invFreq = Default(theta, _rotaryDim);
        if (c.TryGetProperty("rope_scaling", out var rs) && rs.ValueKind == JsonValueKind.Object)
        {
            if (_phi3)
            {
                if (longRope)
                {
                    // _compute_longrope_parameters for seq_len <= original_max_position_embeddings: short_factor, and
                    // attention_factor = √(1 + ln(factor) / ln(original)) with factor = max_position_embeddings / original.
                    var shortFactor = rs.GetProperty("short_factor").EnumerateArray().Select(e => e.GetDouble()).ToArray();
                    // (with partialRotary false there are more pairs than factors: the guard reuses them cyclically)
                    for (var i = 0; i < _invFreq.Length; i++)
                        _invFreq[i] = 1.0 / (shortFactor[i % shortFactor.Length] * Math.Pow(theta, (2.0 * i) / _rotaryDim));
                    var original = c.GetProperty("original_max_position_embeddings").GetDouble();
                    var factor = c.GetProperty("max_position_embeddings").GetDouble() / original;
                    _ropeScale = factor <= 1 ? 1 : Math.Sqrt(1 + Math.Log(factor) / Math.Log(original));
                }
            }
            else
                _invFreq = rs.GetProperty("rope_type").GetString() == "linear"
                    ? _invFreq.Select(f => Drops("linear rope scaling") ? f : f / rs.GetProperty("factor").GetDouble()).ToArray()
                    : Llama3(_invFreq, rs.GetProperty("factor").GetDouble(), rs.GetProperty("low_freq_factor").GetDouble(),
                        rs.GetProperty("high_freq_factor").GetDouble(), rs.GetProperty("original_max_position_embeddings").GetDouble());
        }
        _localInvFreq = _invFreq;
        _sliding = new bool[_layers];
        _queryScale = 1 / Math.Sqrt(_headDim);
        // (Qwen2 and Qwen3 write a sliding_window they apply only with use_sliding_window, which the engine refuses;
        // Phi-3's window is never left, as the engine serves no longer context.)
        if ((_gemma || architecture == "MistralForCausalLM") && c.TryGetProperty("sliding_window", out var sw)
            && sw.ValueKind == JsonValueKind.Number && !Drops("sliding window"))
        {
            // Mistral: every layer; Gemma 3: the layers layer_types calls sliding_attention
            _window = sw.GetInt32();
            for (var l = 0; l < _layers; l++)
                _sliding[l] = !_gemma || c.GetProperty("layer_types")[l].GetString() == "sliding_attention";
        }
        if (_gemma)
        {
            // Gemma3RotaryEmbedding: the sliding layers' default RoPE over rope_local_base_freq
            if (!Drops("local rope base")) _localInvFreq = Default(c.GetProperty("rope_local_base_freq").GetDouble(), _headDim);
            if (!Drops("query_pre_attn_scalar")) _queryScale = 1 / Math.Sqrt(c.GetProperty("query_pre_attn_scalar").GetDouble());
        }
    }

    private bool Drops(string feature) => _without == feature;

    private static double[] Default(double theta, int headDim) =>
        Enumerable.Range(0, headDim / 2).Select(i => 1.0 / Math.Pow(theta, (2.0 * i) / headDim)).ToArray();

    // _compute_llama3_parameters, case by case as written there.
    private static double[] Llama3(double[] invFreq, double factor, double lowFreqFactor, double highFreqFactor, double oldContext)
    {
        var lowFreqWavelen = oldContext / lowFreqFactor;
        var highFreqWavelen = oldContext / highFreqFactor;
        var result = new double[invFreq.Length];
        for (var i = 0; i < invFreq.Length; i++)
        {
            var wavelen = 2 * Math.PI / invFreq[i];
            var llama = wavelen > lowFreqWavelen ? invFreq[i] / factor : invFreq[i];
            var smoothFactor = (oldContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
            var smoothed = (1 - smoothFactor) * llama / factor + smoothFactor * llama;
            var isMedium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
            result[i] = isMedium ? smoothed : llama;
        }
        return result;
    }

    /// <returns>logits [T, vocab]</returns>
    public double[,] Logits(IReadOnlyList<int> ids)
    {
        var t = ids.Count;
        var embed = _w.Matrix("model.embed_tokens.weight");
        var x = new double[t][];
        for (var i = 0; i < t; i++) { x[i] = new double[_hidden]; for (var j = 0; j < _hidden; j++) x[i][j] = embed[ids[i], j]; }
        if (_gemma && !Drops("embedding scale"))   // Gemma3TextScaledWordEmbedding
            foreach (var row in x) for (var j = 0; j < _hidden; j++) row[j] *= Math.Sqrt(_hidden);

        for (var l = 0; l < _layers; l++)
        {
            var p = $"model.layers.{l}.";
            var normed = x.Select(r => Norm(r, _w.Vector(p + "input_layernorm.weight"))).ToArray();
            double[][] q, k, v;
            if (_phi3)
            {
                // Phi3Attention: qkv = qkv_proj(x); q = qkv[:, :heads·d], k = the next kv_heads·d, v = the rest
                var qkv = normed.Select(r => Linear(r, p + "self_attn.qkv_proj")).ToArray();
                int qWidth = _heads * _headDim, kvWidth = _kvHeads * _headDim;
                q = qkv.Select(r => r[..qWidth]).ToArray();
                k = qkv.Select(r => r[qWidth..(qWidth + kvWidth)]).ToArray();
                v = qkv.Select(r => r[(qWidth + kvWidth)..]).ToArray();
            }
            else
            {
                q = normed.Select(r => Linear(r, p + "self_attn.q_proj")).ToArray();
                k = normed.Select(r => Linear(r, p + "self_attn.k_proj")).ToArray();
                v = normed.Select(r => Linear(r, p + "self_attn.v_proj")).ToArray();
            }
            if (_qkNorm)
                for (var i = 0; i < t; i++)
                {
                    HeadNorm(q[i], _heads, _w.Vector(p + "self_attn.q_norm.weight"));
                    HeadNorm(k[i], _kvHeads, _w.Vector(p + "self_attn.k_norm.weight"));
                }
            var invFreq = _gemma && _sliding[l] ? _localInvFreq : _invFreq;
            for (var i = 0; i < t; i++) { Rope(q[i], _heads, i, invFreq); Rope(k[i], _kvHeads, i, invFreq); }
            var from = (int i) => _sliding[l] ? Math.Max(0, i - _window!.Value + 1) : 0;   // sliding_window_overlay: j > i − window

            var attn = new double[t][];
            var group = _heads / _kvHeads;
            for (var i = 0; i < t; i++)
            {
                attn[i] = new double[_heads * _headDim];
                for (var h = 0; h < _heads; h++)
                {
                    var kvh = h / group;
                    var first = from(i);
                    var scores = new double[i + 1 - first];
                    for (var j = first; j <= i; j++)
                    {
                        double s = 0;
                        for (var d = 0; d < _headDim; d++) s += q[i][h * _headDim + d] * k[j][kvh * _headDim + d];
                        scores[j - first] = s * _queryScale;
                    }
                    var max = scores.Max();
                    var exp = scores.Select(s => Math.Exp(s - max)).ToArray();
                    var sum = exp.Sum();
                    for (var j = first; j <= i; j++)
                        for (var d = 0; d < _headDim; d++) attn[i][h * _headDim + d] += exp[j - first] / sum * v[j][kvh * _headDim + d];
                }
            }
            for (var i = 0; i < t; i++)
            {
                var o = Linear(attn[i], p + "self_attn.o_proj");
                var sandwich = _gemma && !Drops("output norms");
                if (sandwich) o = Norm(o, _w.Vector(p + "post_attention_layernorm.weight"));
                for (var j = 0; j < _hidden; j++) x[i][j] += o[j];
                var n = Norm(x[i], _w.Vector(p + (_gemma ? "pre_feedforward_layernorm.weight" : "post_attention_layernorm.weight")));
                double[] gate, up;
                if (_phi3)
                {
                    // Phi3MLP: gate, up = gate_up_proj(x).chunk(2, dim=-1)
                    var gateUp = Linear(n, p + "mlp.gate_up_proj");
                    (gate, up) = (gateUp[.._intermediate], gateUp[_intermediate..]);
                    if (!_gateFirst) (gate, up) = (up, gate);
                }
                else
                {
                    gate = Linear(n, p + "mlp.gate_proj");
                    up = Linear(n, p + "mlp.up_proj");
                }
                var act = _gemma && !Drops("geglu")
                    ? gate.Select((g, j) => 0.5 * g * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (g + 0.044715 * g * g * g))) * up[j]).ToArray()   // gelu_pytorch_tanh
                    : gate.Select((g, j) => g / (1 + Math.Exp(-g)) * up[j]).ToArray();
                var down = Linear(act, p + "mlp.down_proj");
                if (sandwich) down = Norm(down, _w.Vector(p + "post_feedforward_layernorm.weight"));
                for (var j = 0; j < _hidden; j++) x[i][j] += down[j];
            }
        }

        var head = _tied ? embed : _w.Matrix("lm_head.weight");
        var logits = new double[t, _vocab];
        for (var i = 0; i < t; i++)
        {
            var n = Norm(x[i], _w.Vector("model.norm.weight"));
            for (var vId = 0; vId < _vocab; vId++)
            {
                double s = 0;
                for (var j = 0; j < _hidden; j++) s += head[vId, j] * n[j];
                logits[i, vId] = s;
            }
        }
        return logits;
    }

    private double[] Norm(double[] x, double[] weight)
    {
        var ms = x.Sum(e => e * e) / x.Length;
        var r = 1 / Math.Sqrt(ms + _eps);
        var offset = _gemma && !Drops("(1 + w) norms") ? 1.0 : 0.0;   // Gemma3RMSNorm: x̂ · (1 + w)
        return x.Select((e, j) => e * r * (offset + weight[j])).ToArray();
    }

    // Qwen3RMSNorm(head_dim) on q_proj(x).view(..., heads, head_dim): each head normalised on its own, in place.
    private void HeadNorm(double[] vec, int heads, double[] weight)
    {
        for (var h = 0; h < heads; h++)
        {
            var head = Norm(vec.AsSpan(h * _headDim, _headDim).ToArray(), weight);
            head.CopyTo(vec, h * _headDim);
        }
    }

    private double[] Linear(double[] x, string module)
    {
        var w = _w.Matrix(module + ".weight");
        var outDim = w.GetLength(0);
        var y = new double[outDim];
        var bias = _w.Has(module + ".bias") ? _w.Vector(module + ".bias") : null;
        for (var o = 0; o < outDim; o++)
        {
            double s = bias?[o] ?? 0;
            for (var i = 0; i < x.Length; i++) s += w[o, i] * x[i];
            y[o] = s;
        }
        return y;
    }

    // q_embed = q·cos + rotate_half(q)·sin, rotate_half(x) = cat(−x[d/2:], x[:d/2]), cos/sin = cat(freqs, freqs)
    // (times the attention factor); with a partial rotary only q[..., :rotary_dim] is rotated and the rest passes.
    private void Rope(double[] vec, int heads, int position, double[] invFreq)
    {
        var half = _rotaryDim / 2;
        for (var h = 0; h < heads; h++)
        {
            var o = h * _headDim;
            for (var i = 0; i < half; i++)
            {
                var angle = position * invFreq[i];
                double c = Math.Cos(angle) * _ropeScale, s = Math.Sin(angle) * _ropeScale;
                var x1 = vec[o + i]; var x2 = vec[o + i + half];
                vec[o + i] = x1 * c - x2 * s;
                vec[o + i + half] = x2 * c + x1 * s;
            }
        }
    }
}
