"""Plain-PyTorch reference for bench/train: one LoRA training step of a Llama-family decoder, written the
straightforward way (Hugging Face module layout, PEFT-style LoRA, eager attention, full-vocabulary logits).

The step is the one Tuneforge's trainer takes: frozen base weights without gradients, f32 LoRA weights
(rank r on all seven projections, B = 0 at start, dropout on the adapter input) computed in the base dtype, mean
cross-entropy over every token, AdamW on the adapters. With --data FILE (JSON {"rows": [{"ids": [...], "labels": [...]}]},
labels -100 where no loss is taken) step i trains on row i mod n instead of random tokens: the rows a fine-tuning job
trains on, in its order (bench/train --via-api), so both sides see the same shapes and data. --dtype auto first times a training-shaped matmul in f32 and
bf16 and computes in the faster one (on CPUs without native bf16 this build's bf16 is emulated; on CPUs with AMX its
f32 has no optimised BLAS). Prints one JSON line with the dtype used, both probe speeds, tokens/s and peak RSS.
"""
import argparse, json, math, resource, time
import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--hidden", type=int, default=576)
p.add_argument("--layers", type=int, default=30)
p.add_argument("--heads", type=int, default=9)
p.add_argument("--kv-heads", type=int, default=3)
p.add_argument("--intermediate", type=int, default=1536)
p.add_argument("--vocab", type=int, default=49152)
p.add_argument("--seq", type=int, default=512)
p.add_argument("--rank", type=int, default=16)
p.add_argument("--alpha", type=float, default=32)
p.add_argument("--dropout", type=float, default=0.05)
p.add_argument("--steps", type=int, default=3)
p.add_argument("--warmup", type=int, default=1)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--dtype", choices=["auto", "bf16", "f32"], default="auto")
p.add_argument("--data", default=None)
a = p.parse_args()

torch.set_num_threads(a.threads)
torch.manual_seed(0)
H, L, NQ, NKV, I, V, T, R = a.hidden, a.layers, a.heads, a.kv_heads, a.intermediate, a.vocab, a.seq, a.rank


def matmul_gflops(dtype):
    """Best of three [T, H] x [H, I] products (the gate projection's shape) in dtype."""
    x, w = torch.randn(T, H).to(dtype), torch.randn(I, H).to(dtype)
    F.linear(x, w)
    best = min(timed(lambda: F.linear(x, w)) for _ in range(3))
    return 2.0 * T * H * I / best / 1e9


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def probe_gflops(dtype):
    """matmul_gflops, or 0 where this build cannot multiply in dtype at all (oneDNN held to AVX2 refuses bf16)."""
    try:
        return matmul_gflops(dtype)
    except RuntimeError:
        return 0.0


probe = {"f32": probe_gflops(torch.float32), "bf16": probe_gflops(torch.bfloat16)}
dtype_name = a.dtype if a.dtype != "auto" else max(probe, key=probe.get)
dt = torch.bfloat16 if dtype_name == "bf16" else torch.float32
HD = H // NQ


class LoraLinear(torch.nn.Module):
    def __init__(self, inf, outf):
        super().__init__()
        self.weight = torch.nn.Parameter((torch.randn(outf, inf) * 0.02).to(dt), requires_grad=False)
        self.lora_A = torch.nn.Parameter(torch.empty(R, inf).uniform_(-1 / math.sqrt(inf), 1 / math.sqrt(inf)))
        self.lora_B = torch.nn.Parameter(torch.zeros(outf, R))
        self.scale = a.alpha / R

    def forward(self, x):
        y = F.linear(x, self.weight)
        d = F.dropout(x, a.dropout, self.training)
        return y + F.linear(F.linear(d, self.lora_A.to(dt)), self.lora_B.to(dt)) * self.scale


class RMSNorm(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(H, dtype=dt), requires_grad=False)

    def forward(self, x):
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-5)
        return xf.to(dt) * self.weight


def rotate_half(x):
    return torch.cat((-x[..., HD // 2:], x[..., : HD // 2]), dim=-1)


class Layer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.input_layernorm, self.post_attention_layernorm = RMSNorm(), RMSNorm()
        self.q_proj, self.k_proj = LoraLinear(H, NQ * HD), LoraLinear(H, NKV * HD)
        self.v_proj, self.o_proj = LoraLinear(H, NKV * HD), LoraLinear(NQ * HD, H)
        self.gate_proj, self.up_proj, self.down_proj = LoraLinear(H, I), LoraLinear(H, I), LoraLinear(I, H)

    def forward(self, x, cos, sin, mask):
        T = x.shape[0]
        h = self.input_layernorm(x)
        q = self.q_proj(h).view(T, NQ, HD).transpose(0, 1)
        k = self.k_proj(h).view(T, NKV, HD).transpose(0, 1)
        v = self.v_proj(h).view(T, NKV, HD).transpose(0, 1)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k, v = k.repeat_interleave(NQ // NKV, 0), v.repeat_interleave(NQ // NKV, 0)
        s = torch.matmul(q, k.transpose(1, 2)) / math.sqrt(HD) + mask
        o = torch.matmul(torch.softmax(s, -1, dtype=torch.float32).to(dt), v)
        x = x + self.o_proj(o.transpose(0, 1).reshape(T, H))
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed_tokens = torch.nn.Parameter((torch.randn(V, H) * 0.02).to(dt), requires_grad=False)
        self.layers = torch.nn.ModuleList(Layer() for _ in range(L))
        self.norm = RMSNorm()
        self.tables = {}

    def rope_and_mask(self, n):
        """cos, sin [n, HD] and the causal mask [n, n] of a row of n tokens, built once per length."""
        if n not in self.tables:
            inv = 100000.0 ** (-torch.arange(0, HD, 2, dtype=torch.float64) / HD)
            f = torch.arange(n, dtype=torch.float64)[:, None] * inv[None, :]
            emb = torch.cat((f, f), -1)
            self.tables[n] = (emb.cos().to(dt), emb.sin().to(dt), torch.full((n, n), float("-inf")).triu(1).to(dt))
        return self.tables[n]

    def forward(self, ids, labels):
        cos, sin, mask = self.rope_and_mask(ids.shape[0])
        x = F.embedding(ids, self.embed_tokens)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        logits = F.linear(self.norm(x), self.embed_tokens)  # tied head
        return F.cross_entropy(logits.float(), labels, ignore_index=-100)


model = Model()
model.train()
params = [p for p in model.parameters() if p.requires_grad]
opt = torch.optim.AdamW(params, lr=2e-4, weight_decay=0.0)
if a.data:
    with open(a.data) as f:
        rows = [(torch.tensor(r["ids"]), torch.tensor(r["labels"])) for r in json.load(f)["rows"]]
else:
    ids = torch.randint(0, V, (T + 1,))
    rows = [(ids[:-1], ids[1:])]

times, cpu_times, tokens = [], [], []
for step in range(a.warmup + a.steps):
    inputs, labels = rows[step % len(rows)]
    t0, c0 = time.perf_counter(), time.process_time()
    loss = model(inputs, labels)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    times.append(time.perf_counter() - t0)
    cpu_times.append(time.process_time() - c0)  # all threads: on a shared machine the wall time is mostly waiting
    tokens.append(inputs.shape[0])

measured = times[a.warmup:]
step_s = sorted(measured)[len(measured) // 2]
print(json.dumps({
    "torch": torch.__version__,
    "dtype": dtype_name,
    "matmul_gflops": probe,
    "step_seconds": step_s,
    "tokens_per_second": sum(tokens[a.warmup:]) / sum(measured) if a.data else T / step_s,
    "step_times": measured,
    "step_cpu_times": cpu_times[a.warmup:],
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "loss": float(loss),
    "trainable_parameters": sum(p.numel() for p in params),
}))
