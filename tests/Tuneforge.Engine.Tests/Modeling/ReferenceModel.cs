using System.Text.Json;

namespace Tuneforge.Engine.Tests.Modeling;

/// <summary>
/// A deliberately naive double-precision Llama/Qwen2/Qwen3/Mistral forward pass written straight from Hugging Face's
/// modeling_llama.py and modeling_qwen3.py definitions, for one sequence at positions 0..T−1: embedding, RMSNorm,
/// q/k/v (+bias), Qwen3's q_norm/k_norm (RMSNorm over each head's head_dim values, before RoPE), RoPE (rotate_half
/// layout, with _compute_llama3_parameters scaling), causal GQA softmax attention, o_proj (+bias), SwiGLU MLP
/// (+bias), final norm, LM head (tied or not). It reads config.json itself and shares no code with the engine.
/// </summary>
internal sealed class ReferenceModel
{
    private readonly ReferenceWeights _w;
    private readonly int _hidden, _layers, _heads, _kvHeads, _headDim, _vocab;
    private readonly double _eps;
    private readonly double[] _invFreq;
    private readonly bool _tied, _qkNorm;

    /// <param name="qkNorm">false leaves out Qwen3's q_norm/k_norm (for tests proving they matter)</param>
    public ReferenceModel(string directory, bool qkNorm = true)
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
        var theta = c.GetProperty("rope_theta").GetDouble();
        _invFreq = new double[_headDim / 2];
        for (var i = 0; i < _invFreq.Length; i++) _invFreq[i] = 1.0 / Math.Pow(theta, (2.0 * i) / _headDim);
        if (c.TryGetProperty("rope_scaling", out var rs) && rs.ValueKind == JsonValueKind.Object)
            _invFreq = Llama3(_invFreq, rs.GetProperty("factor").GetDouble(), rs.GetProperty("low_freq_factor").GetDouble(),
                rs.GetProperty("high_freq_factor").GetDouble(), rs.GetProperty("original_max_position_embeddings").GetDouble());
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
            var q = normed.Select(r => Linear(r, p + "self_attn.q_proj")).ToArray();
            var k = normed.Select(r => Linear(r, p + "self_attn.k_proj")).ToArray();
            var v = normed.Select(r => Linear(r, p + "self_attn.v_proj")).ToArray();
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
                var gate = Linear(n, p + "mlp.gate_proj");
                var up = Linear(n, p + "mlp.up_proj");
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

    // q_embed = q·cos + rotate_half(q)·sin, rotate_half(x) = cat(−x[d/2:], x[:d/2]), cos/sin = cat(freqs, freqs).
    private void Rope(double[] vec, int heads, int position)
    {
        var half = _headDim / 2;
        for (var h = 0; h < heads; h++)
        {
            var o = h * _headDim;
            for (var i = 0; i < half; i++)
            {
                var angle = position * _invFreq[i];
                double c = Math.Cos(angle), s = Math.Sin(angle);
                var x1 = vec[o + i]; var x2 = vec[o + i + half];
                vec[o + i] = x1 * c - x2 * s;
                vec[o + i + half] = x2 * c + x1 * s;
            }
        }
    }
}
