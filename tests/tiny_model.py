"""A tiny random Llama with an offline BPE tokenizer and a chat template: a real HF model for tests."""

from __future__ import annotations

from pathlib import Path

CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
SPECIAL = ["<unk>", "<s>", "</s>", "<pad>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]


def build_tiny_model(out_dir: str | Path, corpus: list[str], *, seed: int = 0, hidden: int = 32,
                     layers: int = 2, vocab: int = 600) -> Path:
    """Train a byte-level BPE on ``corpus`` and save a randomly initialised Llama next to it."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=vocab, special_tokens=SPECIAL,
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   pad_token="<pad>", chat_template=CHAT_TEMPLATE)
    fast.save_pretrained(out)
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(fast), hidden_size=hidden, intermediate_size=2 * hidden,
                         num_hidden_layers=layers, num_attention_heads=2, num_key_value_heads=2,
                         max_position_embeddings=8192, bos_token_id=fast.bos_token_id,
                         eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id, tie_word_embeddings=True)
    model = LlamaForCausalLM(config)
    model.generation_config.eos_token_id = fast.eos_token_id
    model.save_pretrained(out)
    return out


def tiny_model_on_datasets(out_dir: str | Path, text_of, per_dataset: int = 40) -> Path:
    """A tiny model whose tokenizer learnt ``text_of(problem, spec)`` for the first problems of the three
    datasets' offline copies (what the lm-eval task tests then evaluate)."""
    from data_paths import DATA

    from tracekd_ext.adapters import get_spec

    corpus = [text_of(problem, spec) for spec in map(get_spec, ("cotemp", "babi", "marco"))
              for problem in spec.load(DATA, "all")[:per_dataset]]
    return build_tiny_model(out_dir, corpus)
