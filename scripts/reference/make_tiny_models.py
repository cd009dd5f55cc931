"""Makes .reference/models/tiny-<family>/: small random checkpoints of each decoder family psy
runs, made by transformers itself (the family's config class with small sizes, a seeded
AutoModelForCausalLM.from_config, save_pretrained with safetensors), with the family's tokenizer
files copied in when scripts/reference/family_tokenizers.py has made them.

    python make_tiny_models.py OUT_DIR [TOKENIZERS_DIR]

OUT_DIR (e.g. .reference/models/tiny-families) receives index.json listing the folders; each
checkpoint goes beside it as tiny-<family>. Offline, seeded and idempotent: a folder whose
.psy-tiny-spec equals the spec below is kept as it is; others are written to tiny-<family>.partial
and renamed when complete.

The checkpoints are small (a few MB): the vocabulary is the family's real size only where that is
small (Mistral v0.3's 32768); elsewhere it is 8192, below the tokenizer's, so feed them ids below
vocab_size (the logits tests fold token ids into range). What each family checks:
  llama3   Llama-3.x: rope_parameters llama3 (factor 8, low/high 1/4, original 8192 -- short
           prompts still see all three frequency bands with head_dim 16 and theta 500000),
           tied embeddings (no lm_head.weight in the file), GQA
  qwen2    Qwen2/2.5: q/k/v biases, v4-style rope_theta, sliding window off as Qwen2.5 ships
  qwen3    Qwen3: q_norm/k_norm, head_dim 32 decoupled from hidden 64 / 4 heads, attention_bias
           false
  mistral  Mistral v0.3: vocab 32768, rope_theta 1e6, sliding_window null, head_dim as v0.3
  glm      GLM-4-9B-chat-hf (GlmForCausalLM): partial_rotary_factor 0.5 with interleaved pairs,
           fused gate_up_proj, q/k/v biases
  glm4     GLM-4-0414 (Glm4ForCausalLM): as glm plus post_self_attn/post_mlp layernorms
  qwen2-window, mistral-window   sliding window 16 (Qwen2: layers 1-2 only, use_sliding_window +
           max_window_layers 1; Mistral: every layer), shorter than the test prompts
"""
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402

SEED = 1234
SMALL = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=3, num_attention_heads=4,
             num_key_value_heads=2, max_position_embeddings=4096)

# family -> (config class name, config kwargs, tokenizer folder under TOKENIZERS_DIR)
FAMILIES = {
    "llama3": ("LlamaConfig", dict(
        {**SMALL, "max_position_embeddings": 131072}, vocab_size=8192, rms_norm_eps=1e-5, tie_word_embeddings=True,
        bos_token_id=1,
        eos_token_id=[2, 3], attention_bias=False, mlp_bias=False,
        rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}), "llama3"),
    "qwen2": ("Qwen2Config", dict(
        SMALL, vocab_size=8192, rms_norm_eps=1e-6, tie_word_embeddings=False, rope_theta=1000000.0,
        use_sliding_window=False, sliding_window=131072, max_window_layers=2, bos_token_id=None,
        eos_token_id=7), "qwen2.5"),
    "qwen3": ("Qwen3Config", dict(
        SMALL, vocab_size=8192, head_dim=32, rms_norm_eps=1e-6, tie_word_embeddings=False,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}, attention_bias=False,
        use_sliding_window=False, eos_token_id=7), "qwen3"),
    "mistral": ("MistralConfig", dict(
        SMALL, vocab_size=32768, head_dim=16, rms_norm_eps=1e-5, rope_theta=1000000.0, sliding_window=None,
        tie_word_embeddings=False, bos_token_id=1, eos_token_id=2), "mistral-v0.3"),
    # Sliding windows that bite on the test prompts (transformers' masks: key > query - window).
    "qwen2-window": ("Qwen2Config", dict(
        SMALL, vocab_size=8192, rms_norm_eps=1e-6, tie_word_embeddings=False, rope_theta=1000000.0,
        use_sliding_window=True, sliding_window=16, max_window_layers=1, eos_token_id=7), "qwen2.5"),
    "mistral-window": ("MistralConfig", dict(
        SMALL, vocab_size=32768, head_dim=16, rms_norm_eps=1e-5, rope_theta=1000000.0, sliding_window=16,
        tie_word_embeddings=False, bos_token_id=1, eos_token_id=2), "mistral-v0.3"),
    "glm": ("GlmConfig", dict(
        SMALL, vocab_size=8192, head_dim=16, rms_norm_eps=1.5625e-07, partial_rotary_factor=0.5,
        attention_bias=True, tie_word_embeddings=False, pad_token_id=0, eos_token_id=[4, 5, 6],
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.5}), "glm4"),
    "glm4": ("Glm4Config", dict(
        SMALL, vocab_size=8192, head_dim=16, rms_norm_eps=1e-05, partial_rotary_factor=0.5,
        attention_bias=True, tie_word_embeddings=False, pad_token_id=0, eos_token_id=[4, 5, 6],
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.5}), "glm4"),
}

TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
                   "tokenizer.model", "generation_config.json"]


def spec_of(name, class_name, kwargs, tok_dir):
    """What determines the folder: the config, seed, transformers' version and the tokenizer files."""
    h = hashlib.sha256()
    h.update(json.dumps([name, class_name, kwargs, SEED, transformers.__version__, torch.__version__],
                        sort_keys=True, default=str).encode())
    if tok_dir is not None:
        for f in TOKENIZER_FILES:
            p = tok_dir / f
            if p.is_file():
                h.update(f.encode())
                h.update(p.read_bytes())
    return h.hexdigest()[:16]


def make(name, class_name, kwargs, tok_dir, dest):
    spec = spec_of(name, class_name, kwargs, tok_dir)
    stamp = dest / ".psy-tiny-spec"
    if stamp.is_file() and stamp.read_text().strip() == spec:
        print(f"make_tiny_models: {dest.name} up to date")
        return
    config = getattr(transformers, class_name)(**kwargs)
    torch.manual_seed(SEED)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    # from_config's init leaves norms at 1 and biases at 0; random norms and biases make the
    # logits test see a wrong norm or bias placement.
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if pname.endswith("norm.weight") or pname.endswith("layernorm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif pname.endswith(".bias"):
                p.copy_(0.1 * torch.randn_like(p))
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    copied = []
    if tok_dir is not None:
        for f in TOKENIZER_FILES:
            if (tok_dir / f).is_file():
                shutil.copyfile(tok_dir / f, tmp / f)
                copied.append(f)
    (tmp / ".psy-tiny-spec").write_text(spec + "\n")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    size = sum(p.stat().st_size for p in dest.iterdir() if p.is_file())
    print(f"make_tiny_models: {dest.name}: {class_name}, vocab {config.vocab_size}, {size / 1e6:.1f} MB"
          + (f", tokenizer from {tok_dir}" if copied else ", no tokenizer (none found)"))


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: make_tiny_models.py OUT_DIR [TOKENIZERS_DIR]")
    out = Path(sys.argv[1]).resolve()
    tokenizers = Path(sys.argv[2]).resolve() if len(sys.argv) > 2 else out.parent / "tokenizers"
    out.mkdir(parents=True, exist_ok=True)
    index = {}
    for name, (class_name, kwargs, tok_name) in FAMILIES.items():
        tok_dir = tokenizers / tok_name
        tok_dir = tok_dir if (tok_dir / "tokenizer.json").is_file() or (tok_dir / "tokenizer.model").is_file() else None
        dest = out.parent / f"tiny-{name}"
        make(name, class_name, kwargs, tok_dir, dest)
        index[name] = {"path": str(dest.name), "config_class": class_name,
                       "tokenizer": str(tok_dir) if tok_dir else None}
    (out / "index.json").write_text(json.dumps(index, indent=1) + "\n")


if __name__ == "__main__":
    main()
