#!/usr/bin/env python3
"""Writes a Hugging Face Llama (or Qwen2) checkpoint directory of a real LLM's shape with seeded random BF16 weights.

For time and memory measurements only (scripts/bench.sh llm-scale): the weights are uniform in +-1/sqrt(fan-in), so no
accuracy figure means anything on them. Streams tensor by tensor, so a 7B shape (13.5 GB) needs well under 1 GB of RAM.

  scripts/make_llama_checkpoint.py DIR --shape tinyllama-1.1b|llama-7b|qwen2-0.5b [--layers N] [--tokenizer tokenizer.json]

--tokenizer copies a tokenizer.json beside the weights so that tamp calibrates on text (a decoder without one is
calibrated on sequences it samples itself, which at 1B+ parameters on a CPU takes hours).
"""
import argparse
import json
import os
import shutil
import struct

import numpy as np

SHAPES = {
    # hidden, intermediate, layers, heads, kv heads, vocab, qkv bias, tied embeddings
    "tinyllama-1.1b": (2048, 5632, 22, 32, 4, 32000, False, False),
    "llama-7b": (4096, 11008, 32, 32, 32, 32000, False, False),
    "qwen2-0.5b": (896, 4864, 24, 14, 2, 151936, True, True),
}


def tensors(hidden, inter, layers, heads, kv_heads, vocab, bias, tied):
    kv = hidden // heads * kv_heads
    out = [("model.embed_tokens.weight", (vocab, hidden))]
    for l in range(layers):
        p = f"model.layers.{l}."
        out.append((p + "input_layernorm.weight", (hidden,)))
        out.append((p + "self_attn.q_proj.weight", (hidden, hidden)))
        out.append((p + "self_attn.k_proj.weight", (kv, hidden)))
        out.append((p + "self_attn.v_proj.weight", (kv, hidden)))
        if bias:
            out.append((p + "self_attn.q_proj.bias", (hidden,)))
            out.append((p + "self_attn.k_proj.bias", (kv,)))
            out.append((p + "self_attn.v_proj.bias", (kv,)))
        out.append((p + "self_attn.o_proj.weight", (hidden, hidden)))
        out.append((p + "post_attention_layernorm.weight", (hidden,)))
        out.append((p + "mlp.gate_proj.weight", (inter, hidden)))
        out.append((p + "mlp.up_proj.weight", (inter, hidden)))
        out.append((p + "mlp.down_proj.weight", (hidden, inter)))
    out.append(("model.norm.weight", (hidden,)))
    if not tied:
        out.append(("lm_head.weight", (vocab, hidden)))
    return out


def bf16(x):
    """float32 -> bfloat16 bits, round to nearest even (as torch does)."""
    u = x.astype(np.float32).view(np.uint32)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def values(name, shape, rng):
    if name.endswith("norm.weight"):
        return 1.0 + 0.1 * (rng.random(shape, dtype=np.float32) - 0.5)
    if name.endswith(".bias"):
        return 0.02 * (rng.random(shape, dtype=np.float32) - 0.5)
    bound = 1.0 / np.sqrt(shape[1])
    return bound * (2 * rng.random(shape, dtype=np.float32) - 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--shape", choices=sorted(SHAPES), default="tinyllama-1.1b")
    ap.add_argument("--layers", type=int, help="override the layer count (smaller runs of the same block shape)")
    ap.add_argument("--tokenizer", help="a tokenizer.json to copy beside the weights")
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    hidden, inter, layers, heads, kv_heads, vocab, bias, tied = SHAPES[a.shape]
    if a.layers:
        layers = a.layers
    os.makedirs(a.dir, exist_ok=True)
    specs = tensors(hidden, inter, layers, heads, kv_heads, vocab, bias, tied)
    header, off = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in specs:
        n = int(np.prod(shape)) * 2
        header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [off, off + n]}
        off += n
    hjson = json.dumps(header, separators=(",", ":")).encode()
    hjson += b" " * (-len(hjson) % 8)
    path = os.path.join(a.dir, "model.safetensors")
    tmp = path + ".partial"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for i, (name, shape) in enumerate(specs):
            rng = np.random.default_rng([a.seed, i])
            f.write(bf16(values(name, shape, rng)).tobytes())
    os.replace(tmp, path)
    family = "qwen2" if bias else "llama"
    config = {
        "architectures": ["Qwen2ForCausalLM" if bias else "LlamaForCausalLM"], "model_type": family,
        "hidden_size": hidden, "intermediate_size": inter, "num_hidden_layers": layers,
        "num_attention_heads": heads, "num_key_value_heads": kv_heads, "vocab_size": vocab,
        "rms_norm_eps": 1e-6 if bias else 1e-5, "max_position_embeddings": 4096 if not bias else 32768,
        "rope_theta": 1000000.0 if bias else 10000.0, "hidden_act": "silu", "tie_word_embeddings": tied,
        "torch_dtype": "bfloat16",
    }
    with open(os.path.join(a.dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    if a.tokenizer:
        shutil.copyfile(a.tokenizer, os.path.join(a.dir, "tokenizer.json"))
    params = sum(int(np.prod(s)) for _, s in specs)
    print(json.dumps({"checkpoint": a.dir, "shape": a.shape, "layers": layers, "parameters": params,
                      "bytes": os.path.getsize(path)}))


if __name__ == "__main__":
    main()
