#!/usr/bin/env python3
"""Plain-PyTorch peer for bench/serve: greedy decoding with a KV cache over the same checkpoint.

Reads config.json + model.safetensors (parsed by hand, so only torch is needed), runs a 128-token prompt, batch-1
decode and a batch of N streams, and prints one JSON line of timings. Usage:
    serve_reference.py <checkpoint dir> <prompt tokens> <decode tokens> <streams> <threads>
"""
import json, math, struct, sys, time
import torch

DTYPES = {"BF16": torch.bfloat16, "F32": torch.float32, "F16": torch.float16}


def load_safetensors(path):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        t = torch.frombuffer(data, dtype=DTYPES[e["dtype"]], count=(end - b) // torch.empty(0, dtype=DTYPES[e["dtype"]]).element_size(), offset=8 + n + b)
        out[name] = t.view(e["shape"])
    return out


class Llama:
    def __init__(self, cfg, w, dtype=torch.bfloat16):
        self.c = cfg
        self.h, self.kvh = cfg["num_attention_heads"], cfg["num_key_value_heads"]
        self.d = cfg.get("head_dim") or cfg["hidden_size"] // self.h
        self.eps = cfg["rms_norm_eps"]
        self.w = {k: v.to(dtype) for k, v in w.items()}
        self.L = cfg["num_hidden_layers"]
        inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, self.d, 2).float() / self.d))
        t = torch.arange(4096).float()
        f = torch.outer(t, inv)
        emb = torch.cat([f, f], -1)
        self.cos, self.sin = emb.cos().to(dtype), emb.sin().to(dtype)
        self.lm_head = self.w.get("lm_head.weight", self.w["model.embed_tokens.weight"])

    def norm(self, x, w):
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype) * w

    @staticmethod
    def rot(x):
        x1, x2 = x.chunk(2, -1)
        return torch.cat([-x2, x1], -1)

    def forward(self, ids, cache, start):
        """ids [B, T]; cache: per layer [k, v] tensors [B, KVH, S, D] (grown by cat); returns last-position logits."""
        B, T = ids.shape
        x = self.w["model.embed_tokens.weight"][ids]
        cos, sin = self.cos[start:start + T][None, None], self.sin[start:start + T][None, None]
        g = self.h // self.kvh
        for i in range(self.L):
            p = f"model.layers.{i}."
            W = lambda n: self.w[p + n]
            hN = self.norm(x, W("input_layernorm.weight"))
            q = (hN @ W("self_attn.q_proj.weight").T).view(B, T, self.h, self.d).transpose(1, 2)
            k = (hN @ W("self_attn.k_proj.weight").T).view(B, T, self.kvh, self.d).transpose(1, 2)
            v = (hN @ W("self_attn.v_proj.weight").T).view(B, T, self.kvh, self.d).transpose(1, 2)
            q = q * cos + self.rot(q) * sin
            k = k * cos + self.rot(k) * sin
            if cache[i] is None:
                cache[i] = [k, v]
            else:
                cache[i] = [torch.cat([cache[i][0], k], 2), torch.cat([cache[i][1], v], 2)]
            K, V = cache[i]
            K = K.repeat_interleave(g, 1)
            V = V.repeat_interleave(g, 1)
            att = (q @ K.transpose(-1, -2)) / math.sqrt(self.d)
            if T > 1:
                S = K.shape[2]
                mask = torch.ones(T, S, dtype=torch.bool).tril(S - T)
                att = att.masked_fill(~mask, float("-inf"))
            att = torch.softmax(att.float(), -1).to(q.dtype)
            o = (att @ V).transpose(1, 2).reshape(B, T, self.h * self.d)
            x = x + o @ W("self_attn.o_proj.weight").T
            hN = self.norm(x, W("post_attention_layernorm.weight"))
            gate = hN @ W("mlp.gate_proj.weight").T
            up = hN @ W("mlp.up_proj.weight").T
            x = x + (torch.nn.functional.silu(gate) * up) @ W("mlp.down_proj.weight").T
        x = self.norm(x[:, -1], self.w["model.norm.weight"])
        return (x @ self.lm_head.T).float()


def generate(model, prompt, steps, batch=1):
    cache = [None] * model.L
    ids = torch.tensor([prompt] * batch)
    t0 = time.perf_counter()
    tok = model.forward(ids, cache, 0).argmax(-1)
    ttft = time.perf_counter() - t0
    out = [tok]
    t1 = time.perf_counter()
    for s in range(steps):
        tok = model.forward(tok[:, None], cache, len(prompt) + s).argmax(-1)
        out.append(tok)
    return ttft, time.perf_counter() - t1, torch.stack(out, 1)


def main():
    ckpt, prompt_len, steps, streams, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    torch.set_num_threads(threads)
    cfg = json.load(open(f"{ckpt}/config.json"))
    model = Llama(cfg, load_safetensors(f"{ckpt}/model.safetensors"))
    prompt = [1000 + i * 37 % 40000 for i in range(prompt_len)]
    with torch.inference_mode():
        generate(model, prompt, 4)  # warm-up
        ttft, _, _ = generate(model, prompt, 0)
        _, decode_s, tokens = generate(model, prompt, steps)
        _, batch_s, _ = generate(model, prompt, steps, batch=streams)
    print(json.dumps({
        "ttft_ms": ttft * 1000,
        "prompt_tps": prompt_len / ttft,
        "decode_tps": steps / decode_s,
        "streams_tps": streams * steps / batch_s,
        "greedy": tokens[0].tolist(),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
