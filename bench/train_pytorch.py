#!/usr/bin/python3
"""The PyTorch baseline of gander's training benchmark (bench/train.sh).

The same models as `gander bench-train --random ...` written in plain PyTorch on the CPU (Debian's
python3-torch), trained the same way: B sequences of T tokens, mean cross-entropy, backward, AdamW.
RWKV-7's recurrence runs in the fastest form written here: a chunked form of the generalised delta
rule (chunks of 16 tokens; within a chunk the per-token S.a products solve one triangular system,
the chunk's outputs and its final state are matrix products; only the chunk-to-chunk state passing
is a loop), beside the plain token loop it is checked against.

  train_pytorch.py check                      # both forms against ../shared/testdata goldens
  train_pytorch.py bench --arch rwkv7 --layers 4 --width 256 --vocab 65536 --seq 512 --batch 8
  train_pytorch.py bench --arch qwen2 --layers 6 --width 256 --heads 2 --kv-heads 1 --ffn 768 --vocab 8256 --tied

`bench` prints one JSON object per precision (f32, and bf16 autocast) with tokens_per_s.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

DECAY_SCALE = math.exp(-0.5)  # w = exp(-e^-0.5 * sigmoid(d))
CHUNK = 16


# ---------------------------------------------------------------------------------------------
# RWKV-7 recurrence. Per head the state S [value i, key j]:
#   S_t = S_{t-1} diag(w_t) + (S_{t-1} a_t) b_t^T + v_t k_t^T,  y_t = S_t r_t
# (a = -kappa_hat, b = kappa_hat * a_lr, k the modified key), as RWKV-LM's kernels run it.

def wkv_loop(r, logw, k, v, a, b, heads):
    B, T, C = r.shape
    N = C // heads
    r, w, k, v, a, b = (t.view(B, T, heads, N) for t in (r, logw.exp(), k, v, a, b))
    S = r.new_zeros(B, heads, N, N)
    out = []
    for t in range(T):
        sa = S @ a[:, t, :, :, None]
        S = S * w[:, t, :, None, :] + sa @ b[:, t, :, None, :] + v[:, t, :, :, None] @ k[:, t, :, None, :]
        out.append((S @ r[:, t, :, :, None]).squeeze(-1))
    return torch.stack(out, 1).reshape(B, T, C)


def wkv_chunked(r, logw, k, v, a, b, heads):
    """The same recurrence, 16 tokens at a time. With W_t the decay product since the chunk began
    (cw = cumulative log decay) and U the rows u_t = S_{t-1} a_t:
        U = (I - A_ab)^-1 (A~ S0^T + A_ak V),   A~_t = a_t e^{cw_{t-1}}
        Y = R~ S0^T + A_rb U + A_rk V,           R~_t = r_t e^{cw_t}
        S_end = S0 e^{cw_last} + U^T B~ + V^T K~
    where A_xy[t, s] = (x_t e^{cw_t or cw_{t-1}}) . (y_s e^{-cw_s}), masked causally. e^{-cw} stays
    below 1/0.545^16 ~ 1.6e4 in a chunk of 16, well inside f32."""
    B, T, C = r.shape
    N = C // heads
    pad = (-T) % CHUNK
    if pad:  # zero tokens with no decay leave the state and the earlier outputs as they are
        r, k, v, a, b = (F.pad(t, (0, 0, 0, pad)) for t in (r, k, v, a, b))
        logw = F.pad(logw, (0, 0, 0, pad))
    n = (T + pad) // CHUNK
    # [B, H, n, CHUNK, N]
    r, logw, k, v, a, b = (t.view(B, n, CHUNK, heads, N).permute(0, 3, 1, 2, 4) for t in (r, logw, k, v, a, b))
    cw = logw.cumsum(-2)
    cw_ex = cw - logw
    inv = (-cw).exp()
    a_dec, r_dec = a * cw_ex.exp(), r * cw.exp()
    b_inv, k_inv = b * inv, k * inv
    strict = torch.ones(CHUNK, CHUNK, dtype=torch.bool).tril(-1)
    causal = torch.ones(CHUNK, CHUNK, dtype=torch.bool).tril()
    A_ab = (a_dec @ b_inv.transpose(-1, -2)).masked_fill(~strict, 0)
    A_ak = (a_dec @ k_inv.transpose(-1, -2)).masked_fill(~strict, 0)
    A_rb = (r_dec @ b_inv.transpose(-1, -2)).masked_fill(~causal, 0)
    A_rk = (r_dec @ k_inv.transpose(-1, -2)).masked_fill(~causal, 0)
    eye = torch.eye(CHUNK, dtype=r.dtype)
    L = eye - A_ab  # unit lower triangular
    P = torch.linalg.solve_triangular(L, a_dec, upper=False, unitriangular=True)            # [.., CHUNK, N_k]
    U0 = torch.linalg.solve_triangular(L, A_ak @ v, upper=False, unitriangular=True)        # [.., CHUNK, N_v]
    last = cw[..., -1:, :]                                                                  # [.., 1, N_k]
    tail = (last - cw).exp()
    b_end, k_end = b * tail, k * tail
    decay_end = last.exp()                                                                  # [.., 1, N_k]
    S = r.new_zeros(B, heads, N, N)
    starts, us = [], []
    for c in range(n):
        starts.append(S)
        U = P[:, :, c] @ S.transpose(-1, -2) + U0[:, :, c]
        us.append(U)
        S = S * decay_end[:, :, c] + U.transpose(-1, -2) @ b_end[:, :, c] + v[:, :, c].transpose(-1, -2) @ k_end[:, :, c]
    S0 = torch.stack(starts, 2)
    U = torch.stack(us, 2)
    Y = r_dec @ S0.transpose(-1, -2) + A_rb @ U + A_rk @ v
    return Y.permute(0, 2, 3, 1, 4).reshape(B, n * CHUNK, C)[:, :T]


# ---------------------------------------------------------------------------------------------
# RWKV-7 model, official parameter names (RWKV-LM train_temp), the demo's GPT-mode forward.

def rank_rule(factor, power, D):
    return max(1, round(factor * D ** power / 32)) * 32


def rwkv7_shapes(L, D, V, head=64, ffn=None):
    ffn = ffn or 4 * D
    rw, ra, rv = rank_rule(1.8, 0.5, D), rank_rule(1.8, 0.5, D), rank_rule(1.3, 0.5, D)
    rg = 128 if D == 1024 else rank_rule(0.6, 0.8, D)
    H = D // head
    s = {"emb.weight": (V, D), "blocks.0.ln0.weight": (D,), "blocks.0.ln0.bias": (D,)}
    for l in range(L):
        p = f"blocks.{l}."
        s.update({p + "ln1.weight": (D,), p + "ln1.bias": (D,), p + "ln2.weight": (D,), p + "ln2.bias": (D,)})
        for m in "rwkvag":
            s[p + f"att.x_{m}"] = (1, 1, D)
        s.update({p + "att.w0": (1, 1, D), p + "att.w1": (D, rw), p + "att.w2": (rw, D),
                  p + "att.a0": (1, 1, D), p + "att.a1": (D, ra), p + "att.a2": (ra, D),
                  p + "att.v0": (1, 1, D), p + "att.v1": (D, rv), p + "att.v2": (rv, D),
                  p + "att.g1": (D, rg), p + "att.g2": (rg, D),
                  p + "att.k_k": (1, 1, D), p + "att.k_a": (1, 1, D), p + "att.r_k": (H, head),
                  p + "att.receptance.weight": (D, D), p + "att.key.weight": (D, D),
                  p + "att.value.weight": (D, D), p + "att.output.weight": (D, D),
                  p + "att.ln_x.weight": (D,), p + "att.ln_x.bias": (D,),
                  p + "ffn.x_k": (1, 1, D), p + "ffn.key.weight": (ffn, D), p + "ffn.value.weight": (D, ffn)})
    s.update({"ln_out.weight": (D,), "ln_out.bias": (D,), "head.weight": (V, D)})
    return s


def rwkv7_random(L, D, V, seed):
    g = torch.Generator().manual_seed(seed)
    P = {}
    for name, shape in rwkv7_shapes(L, D, V).items():
        if name.endswith(("ln0.weight", "ln1.weight", "ln2.weight", "ln_x.weight", "ln_out.weight")):
            t = torch.ones(shape)
        elif len(shape) == 1 or name.endswith(("x_r", "x_w", "x_k", "x_v", "x_a", "x_g", "k_a", "a0", "v0")):
            t = torch.full(shape, 0.5) if not name.endswith("bias") else torch.zeros(shape)
        elif name.endswith("w0"):
            t = torch.linspace(-6, 0, shape[-1]).view(shape)
        elif name.endswith("k_k"):
            t = torch.full(shape, 0.85)
        else:
            t = torch.randn(shape, generator=g) * (0.5 / math.sqrt(shape[-1]))
        P[name] = t
    return P


def layer_norm(x, P, name, eps=1e-5):
    return F.layer_norm(x, x.shape[-1:], P[name + ".weight"], P[name + ".bias"], eps)


def rwkv7_hidden(P, ids, wkv):
    D = P["emb.weight"].shape[1]
    H = P["blocks.0.att.r_k"].shape[0]
    L = 1 + max(int(k.split(".")[1]) for k in P if k.startswith("blocks."))
    x = layer_norm(P["emb.weight"][ids], P, "blocks.0.ln0")
    B, T, _ = x.shape
    v_first = None
    for l in range(L):
        p = f"blocks.{l}."
        xa_ = layer_norm(x, P, p + "ln1")
        xx = F.pad(xa_, (0, 0, 1, -1)) - xa_
        xr, xw, xk, xv, xa, xg = (xa_ + xx * P[p + f"att.x_{m}"] for m in "rwkvag")
        r = xr @ P[p + "att.receptance.weight"].t()
        logw = -DECAY_SCALE * torch.sigmoid(P[p + "att.w0"] + torch.tanh(xw @ P[p + "att.w1"]) @ P[p + "att.w2"])
        k = xk @ P[p + "att.key.weight"].t()
        v = xv @ P[p + "att.value.weight"].t()
        if l == 0:
            v_first = v
        else:
            v = v + (v_first - v) * torch.sigmoid(P[p + "att.v0"] + (xv @ P[p + "att.v1"]) @ P[p + "att.v2"])
        a = torch.sigmoid(P[p + "att.a0"] + (xa @ P[p + "att.a1"]) @ P[p + "att.a2"])
        g = torch.sigmoid(xg @ P[p + "att.g1"]) @ P[p + "att.g2"]
        kk = F.normalize((k * P[p + "att.k_k"]).view(B, T, H, -1), dim=-1, p=2.0, eps=1e-12).view(B, T, D)
        k = k * (1 + (a - 1) * P[p + "att.k_a"])
        with torch.autocast("cpu", enabled=False):  # the recurrence in f32 whatever the products run in
            y = wkv(*(t.float() if t.dtype == torch.bfloat16 else t for t in (r, logw, k, v, -kk, kk * a)), H)
        y = F.group_norm(y.view(B * T, D), H, P[p + "att.ln_x.weight"], P[p + "att.ln_x.bias"], eps=64e-5).view(B, T, D)
        bonus = (r.view(B, T, H, -1) * k.view(B, T, H, -1) * P[p + "att.r_k"]).sum(-1, keepdim=True) * v.view(B, T, H, -1)
        x = x + ((y + bonus.view(B, T, D)) * g) @ P[p + "att.output.weight"].t()
        xf = layer_norm(x, P, p + "ln2")
        xk = xf + (F.pad(xf, (0, 0, 1, -1)) - xf) * P[p + "ffn.x_k"]
        x = x + torch.relu(xk @ P[p + "ffn.key.weight"].t()).square() @ P[p + "ffn.value.weight"].t()
    return layer_norm(x, P, "ln_out"), P["head.weight"]


# ---------------------------------------------------------------------------------------------
# Qwen2 (Hugging Face names), the transformers forward: RMSNorm, RoPE (rotate-half), GQA, SwiGLU.

def qwen2_shapes(L, D, H, KV, I, V, tied):
    hd = D // H
    s = {"model.embed_tokens.weight": (V, D)}
    for l in range(L):
        p = f"model.layers.{l}."
        s.update({p + "input_layernorm.weight": (D,), p + "post_attention_layernorm.weight": (D,),
                  p + "self_attn.q_proj.weight": (H * hd, D), p + "self_attn.q_proj.bias": (H * hd,),
                  p + "self_attn.k_proj.weight": (KV * hd, D), p + "self_attn.k_proj.bias": (KV * hd,),
                  p + "self_attn.v_proj.weight": (KV * hd, D), p + "self_attn.v_proj.bias": (KV * hd,),
                  p + "self_attn.o_proj.weight": (D, H * hd),
                  p + "mlp.gate_proj.weight": (I, D), p + "mlp.up_proj.weight": (I, D), p + "mlp.down_proj.weight": (D, I)})
    s["model.norm.weight"] = (D,)
    if not tied:
        s["lm_head.weight"] = (V, D)
    return s


def qwen2_random(shapes, seed):
    g = torch.Generator().manual_seed(seed)
    return {n: torch.ones(s) if n.endswith("norm.weight") else torch.randn(s, generator=g) * 0.02 for n, s in shapes.items()}


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + eps).to(x.dtype) * w


def qwen2_hidden(P, ids, cfg):
    L, H, KV, theta, eps = cfg["layers"], cfg["heads"], cfg["kv_heads"], cfg["rope_theta"], cfg["rms_eps"]
    x = P["model.embed_tokens.weight"][ids]
    B, T, D = x.shape
    hd = D // H
    inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv_freq[None]
    cos, sin = (torch.cat([f(ang), f(ang)], -1).float() for f in (torch.cos, torch.sin))
    mask = torch.full((T, T), float("-inf")).triu(1)

    def rope(t):
        t1, t2 = t[..., : hd // 2], t[..., hd // 2:]
        return t * cos + torch.cat([-t2, t1], -1) * sin

    for l in range(L):
        p = f"model.layers.{l}."
        h = rms_norm(x, P[p + "input_layernorm.weight"], eps)
        q = F.linear(h, P[p + "self_attn.q_proj.weight"], P[p + "self_attn.q_proj.bias"]).view(B, T, H, hd).transpose(1, 2)
        k = F.linear(h, P[p + "self_attn.k_proj.weight"], P[p + "self_attn.k_proj.bias"]).view(B, T, KV, hd).transpose(1, 2)
        v = F.linear(h, P[p + "self_attn.v_proj.weight"], P[p + "self_attn.v_proj.bias"]).view(B, T, KV, hd).transpose(1, 2)
        q, k = rope(q), rope(k)
        k, v = k.repeat_interleave(H // KV, 1), v.repeat_interleave(H // KV, 1)
        att = torch.softmax((q @ k.transpose(-1, -2)) / math.sqrt(hd) + mask, -1) @ v
        x = x + F.linear(att.transpose(1, 2).reshape(B, T, H * hd), P[p + "self_attn.o_proj.weight"])
        h = rms_norm(x, P[p + "post_attention_layernorm.weight"], eps)
        x = x + F.linear(F.silu(F.linear(h, P[p + "mlp.gate_proj.weight"])) * F.linear(h, P[p + "mlp.up_proj.weight"]),
                         P[p + "mlp.down_proj.weight"])
    head = P.get("lm_head.weight", P["model.embed_tokens.weight"])
    return rms_norm(x, P["model.norm.weight"], eps), head


def cross_entropy(hidden, head, targets):
    logits = hidden @ head.t()
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1))


# ---------------------------------------------------------------------------------------------
# Checks against the goldens (the reference implementations, not this file).

def testdata():
    return os.environ.get("GANDER_TESTDATA", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "testdata"))


def load_safetensors(folder):
    P = {}
    for f in sorted(os.listdir(folder)):
        if not f.endswith(".safetensors"):
            continue
        raw = open(os.path.join(folder, f), "rb").read()
        n = int.from_bytes(raw[:8], "little")
        header = json.loads(raw[8:8 + n])
        for name, info in header.items():
            if name == "__metadata__":
                continue
            lo, hi = info["data_offsets"]
            buf = raw[8 + n + lo: 8 + n + hi]
            if info["dtype"] == "BF16":
                a = (np.frombuffer(buf, np.uint16).astype(np.uint32) << 16).view(np.float32)
            else:
                a = np.frombuffer(buf, {"F32": np.float32, "F16": np.float16}[info["dtype"]]).astype(np.float32)
            P[name] = torch.from_numpy(a.reshape(info["shape"]).copy())
    return P


def check():
    root = testdata()
    tr = os.path.join(root, "rwkv7-train")
    if not os.path.isdir(tr):
        print(f"check: {tr} not found (set GANDER_TESTDATA): skipped")
        return 0
    ok = True
    batch = json.load(open(os.path.join(tr, "batch.json")))
    golden = json.load(open(os.path.join(tr, "results.json")))["loss"]
    ids, targets = torch.tensor(batch["input_ids"]), torch.tensor(batch["targets"])
    base = torch.load(os.path.join(root, "rwkv7", "tiny", "model_f32.pth"), map_location="cpu")
    for wkv in (wkv_loop, wkv_chunked):
        for dtype in (torch.float64, torch.float32):
            P = {k: v.detach().to(dtype).clone().requires_grad_() for k, v in base.items()}
            loss = cross_entropy(*rwkv7_hidden(P, ids, wkv), targets)
            loss.backward()
            worst = 0.0
            for name, p in P.items():
                g = torch.from_numpy(np.load(os.path.join(tr, "grads", name + ".npy"))).double()
                got = p.grad.double() if p.grad is not None else torch.zeros_like(g)  # layer 0's unused v0/v1/v2
                worst = max(worst, ((got - g).abs().max() / max(g.abs().max().item(), 1e-30)).item())
            good = abs(loss.item() - golden) < 1e-5 and worst < 1e-4
            ok &= good
            print(f"rwkv7 tiny, {wkv.__name__}, {str(dtype)[6:]}: loss {loss.item():.9f} (golden {golden:.9f}), "
                  f"worst gradient {worst:.2e} of its tensor's max: {'ok' if good else 'FAILED'}")
    q = os.path.join(root, "qwen2", "qwen2-small")
    if os.path.isdir(q):
        conf = json.load(open(os.path.join(q, "config.json")))
        cfg = {"layers": conf["num_hidden_layers"], "heads": conf["num_attention_heads"],
               "kv_heads": conf["num_key_value_heads"], "rms_eps": conf["rms_norm_eps"],
               "rope_theta": conf.get("rope_parameters", {}).get("rope_theta", conf.get("rope_theta", 1e4))}
        P = load_safetensors(q)
        ids = torch.from_numpy(np.load(os.path.join(q, "reference", "input_ids.npy")).astype(np.int64))
        want = torch.from_numpy(np.load(os.path.join(q, "reference", "logits.npy")))
        with torch.no_grad():
            h, head = qwen2_hidden(P, ids, cfg)
            got = h @ head.t()
        diff = (got - want).abs().max().item()
        good = diff < 1e-3
        ok &= good
        print(f"qwen2-small logits against transformers: max |diff| {diff:.2e}: {'ok' if good else 'FAILED'}")
    return 0 if ok else 1


# ---------------------------------------------------------------------------------------------

def bench(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if args.arch == "rwkv7":
        P = rwkv7_random(args.layers, args.width, args.vocab, args.seed)
        model = lambda P, ids: rwkv7_hidden(P, ids, wkv_chunked if args.wkv == "chunked" else wkv_loop)
        shape = f"rwkv7 L{args.layers} D{args.width} V{args.vocab}"
    else:
        shapes = qwen2_shapes(args.layers, args.width, args.heads, args.kv_heads, args.ffn, args.vocab, args.tied)
        P = qwen2_random(shapes, args.seed)
        cfg = {"layers": args.layers, "heads": args.heads, "kv_heads": args.kv_heads, "rms_eps": 1e-6, "rope_theta": 1e6}
        model = lambda P, ids: qwen2_hidden(P, ids, cfg)
        shape = f"qwen2 L{args.layers} D{args.width} H{args.heads} KV{args.kv_heads} I{args.ffn} V{args.vocab}" + (
            " tied" if args.tied else "")
    g = torch.Generator().manual_seed(args.seed + 1)
    tokens = torch.randint(0, args.vocab, (args.batch, args.seq + 1), generator=g)  # the same batch at every step
    results = []
    for precision in args.precision.split(","):
        params = {k: v.clone().requires_grad_() for k, v in P.items()}
        opt = torch.optim.AdamW(params.values(), lr=1e-3, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.0, foreach=True)
        seconds, losses = [], []
        for s in range(args.warmup + args.steps):
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
                loss = cross_entropy(*model(params, tokens[:, :-1]), tokens[:, 1:])
            loss.backward()
            opt.step()
            losses.append(loss.item())
            if s >= args.warmup:
                seconds.append(time.perf_counter() - t0)
        med = statistics.median(seconds)
        r = {"framework": f"pytorch {torch.__version__}", "model": shape, "precision": precision,
             "wkv": args.wkv if args.arch == "rwkv7" else None, "batch": args.batch, "seq": args.seq,
             "threads": torch.get_num_threads(), "steps": args.steps,
             "tokens_per_s": args.batch * args.seq / med, "step_seconds_median": med,
             "step_seconds_min": min(seconds), "step_seconds_max": max(seconds),
             "loss_first": losses[0], "loss_last": losses[-1]}
        print(json.dumps(r), flush=True)
        results.append(r)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("check")
    b = sub.add_parser("bench")
    b.add_argument("--arch", choices=["rwkv7", "qwen2"], required=True)
    b.add_argument("--layers", type=int, required=True)
    b.add_argument("--width", type=int, required=True)
    b.add_argument("--vocab", type=int, required=True)
    b.add_argument("--heads", type=int, default=0)
    b.add_argument("--kv-heads", type=int, default=0)
    b.add_argument("--ffn", type=int, default=0)
    b.add_argument("--tied", action="store_true")
    b.add_argument("--seq", type=int, default=512)
    b.add_argument("--batch", type=int, default=8)
    b.add_argument("--steps", type=int, default=3)
    b.add_argument("--warmup", type=int, default=1)
    b.add_argument("--threads", type=int, default=os.cpu_count())
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--precision", default="f32,bf16", help="comma-separated: f32, bf16 (autocast)")
    b.add_argument("--wkv", choices=["chunked", "loop"], default="chunked")
    args = ap.parse_args()
    sys.exit(check() if args.cmd == "check" else bench(args))


if __name__ == "__main__":
    main()
