using System.Text.Json;

namespace Tuneforge.Engine.Tests.Modeling;

/// <summary>
/// A deliberately naive double-precision Llama/Qwen2/Qwen3/Mistral/Phi-3 forward pass written straight from Hugging
/// Face's modeling_llama.py, modeling_qwen3.py and modeling_phi3.py definitions, for one sequence at positions 0..T−1:
/// embedding, RMSNorm, q/k/v (+bias; Phi-3: one qkv_proj whose output is q, then k, then v), Qwen3's q_norm/k_norm
/// (RMSNorm over each head's head_dim values, before RoPE), RoPE (rotate_half layout, with _compute_llama3_parameters
/// scaling; Phi-3: only the first partial_rotary_factor · head_dim dimensions rotated, and LongRoPE's short factors
/// with cos and sin times its attention factor, as _compute_longrope_parameters gives them for sequences within
/// original_max_position_embeddings), causal GQA softmax attention, o_proj (+bias), SwiGLU MLP (+bias; Phi-3: one
/// gate_up_proj whose first half is the gate), final norm, LM head (tied or not). It reads config.json itself and
/// shares no code with the engine.
/// </summary>
internal sealed class ReferenceModel
{
    private readonly ReferenceWeights _w;
    private readonly int _hidden, _layers, _heads, _kvHeads, _headDim, _vocab;
    private readonly double _eps;
    private readonly double[] _invFreq;
    private readonly bool _tied, _qkNorm, _phi3, _gateFirst;
    private readonly int _rotaryDim, _intermediate;
    private readonly double _ropeScale = 1;

    /// <param name="qkNorm">false leaves out Qwen3's q_norm/k_norm (for tests proving they matter)</param>
    /// <param name="partialRotary">false rotates Phi-3's whole head (for tests proving partial_rotary_factor matters)</param>
    /// <param name="longRope">false leaves out Phi-3's LongRoPE factors and attention factor</param>
    /// <param name="gateFirst">false reads Phi-3's gate_up_proj as up|gate</param>
    public ReferenceModel(string directory, bool qkNorm = true, bool partialRotary = true, bool longRope = true, bool gateFirst = true)
    {
        _w = ReferenceWeights.Load(directory);
        var c = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "config.json"))).RootElement;
        _hidden = c.GetProperty("hidden_size").GetInt32();
        _layers = c.GetProperty("num_hidden_layers").GetInt32();
        _heads = c.GetProperty("num_attention_heads").GetInt32();
        _kvHeads = c.GetProperty("num_key_value_heads").GetInt32();
        var qwen3 = c.GetProperty("architectures")[0].GetString() == "Qwen3ForCausalLM";
        _qkNorm = qwen3 && qkNorm;
        // Qwen3Config's head_dim defaults to 128; the others' to hidden_size / num_attention_heads.
        _headDim = c.TryGetProperty("head_dim", out var hd) ? hd.GetInt32() : qwen3 ? 128 : _hidden / _heads;
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
        _invFreq = new double[_rotaryDim / 2];
        for (var i = 0; i < _invFreq.Length; i++) _invFreq[i] = 1.0 / Math.Pow(theta, (2.0 * i) / _rotaryDim);
        if (c.TryGetProperty("rope_scaling", out var rs) && rs.ValueKind == JsonValueKind.Object)
        {
            if (!_phi3)
                _invFreq = Llama3(_invFreq, rs.GetProperty("factor").GetDouble(), rs.GetProperty("low_freq_factor").GetDouble(),
                    rs.GetProperty("high_freq_factor").GetDouble(), rs.GetProperty("original_max_position_embeddings").GetDouble());
            else if (longRope)
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
    }

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
            for (var i = 0; i < t; i++) { Rope(q[i], _heads, i); Rope(k[i], _kvHeads, i); }

            var attn = new double[t][];
            var group = _heads / _kvHeads;
            for (var i = 0; i < t; i++)
            {
                attn[i] = new double[_heads * _headDim];
                for (var h = 0; h < _heads; h++)
                {
                    var kvh = h / group;
                    var scores = new double[i + 1];
                    for (var j = 0; j <= i; j++)
                    {
                        double s = 0;
                        for (var d = 0; d < _headDim; d++) s += q[i][h * _headDim + d] * k[j][kvh * _headDim + d];
                        scores[j] = s / Math.Sqrt(_headDim);
                    }
                    var max = scores.Max();
                    var exp = scores.Select(s => Math.Exp(s - max)).ToArray();
                    var sum = exp.Sum();
                    for (var j = 0; j <= i; j++)
                        for (var d = 0; d < _headDim; d++) attn[i][h * _headDim + d] += exp[j] / sum * v[j][kvh * _headDim + d];
                }
            }
            for (var i = 0; i < t; i++)
            {
                var o = Linear(attn[i], p + "self_attn.o_proj");
                for (var j = 0; j < _hidden; j++) x[i][j] += o[j];
                var n = Norm(x[i], _w.Vector(p + "post_attention_layernorm.weight"));
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
                var act = gate.Select((g, j) => g / (1 + Math.Exp(-g)) * up[j]).ToArray();
                var down = Linear(act, p + "mlp.down_proj");
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
        return x.Select((e, j) => e * r * weight[j]).ToArray();
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
    private void Rope(double[] vec, int heads, int position)
    {
        var half = _rotaryDim / 2;
        for (var h = 0; h < heads; h++)
        {
            var o = h * _headDim;
            for (var i = 0; i < half; i++)
            {
                var angle = position * _invFreq[i];
                double c = Math.Cos(angle) * _ropeScale, s = Math.Sin(angle) * _ropeScale;
                var x1 = vec[o + i]; var x2 = vec[o + i + half];
                vec[o + i] = x1 * c - x2 * s;
                vec[o + i + half] = x2 * c + x1 * s;
            }
        }
    }
}
