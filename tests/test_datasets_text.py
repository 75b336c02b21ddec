"""Texts from a CSV file: the tokenizer, a vocabulary from the training texts only, token
ids padded and cut to a length, and a recurrent model that learns them."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from core.catalog import CATALOGUES
from core.config import RunConfig
from core.data.text import PAD, UNKNOWN, build_vocabulary, encode, tokenize
from core.errors import BadInput
from core.train.loop import train

DATASETS = CATALOGUES["data"]
GOOD = ["great", "lovely", "wonderful", "superb", "enjoyable"]
BAD = ["awful", "boring", "dreadful", "terrible", "dull"]
FILLER = ["the", "film", "was", "a", "plot", "and", "acting", "really", "quite"]


def build(**params):
    entry = DATASETS.get("text_csv")
    return entry.build(entry.check_params(params, "data"), 0)


def reviews(path: Path, n: int = 200) -> str:
    """Short reviews: a sentiment word among filler, positive or negative."""
    import random

    rng = random.Random(0)
    lines = ["review,sentiment"]
    for i in range(n):
        positive = i % 2 == 0
        words = rng.sample(FILLER, 4) + [rng.choice(GOOD if positive else BAD)]
        rng.shuffle(words)
        text = " ".join(words).capitalize() + rng.choice([".", "!", ", I'd say."])
        lines.append(f'"{text}",{"pos" if positive else "neg"}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_tokenize_keeps_words_apostrophes_and_punctuation():
    assert tokenize("Don't PANIC, it's fine!") == ["don't", "panic", ",", "it's", "fine", "!"]
    assert tokenize("Hello World", lowercase=False) == ["Hello", "World"]


def test_vocabulary_keeps_the_most_frequent_words_from_id_two():
    texts = [["a", "b", "a"], ["c", "a", "b"], ["d"]]
    assert build_vocabulary(texts, max_size=4, min_count=1) == {"a": 2, "b": 3}
    assert build_vocabulary(texts, max_size=100, min_count=2) == {"a": 2, "b": 3}
    vocab = {"a": 2, "b": 3}
    assert encode(["a", "x", "b"], vocab, 5) == [2, UNKNOWN, 3, PAD, PAD]
    assert encode(["a", "b", "a", "b"], vocab, 2) == [2, 3]


def test_text_csv_gives_token_ids_and_a_vocabulary(tmp_path):
    data = build(path=reviews(tmp_path / "r.csv"), text_column="review",
                 label_column="sentiment", max_length=8)
    assert data.kind == "tokens" and data.task == "classification"
    assert data.class_names == ["neg", "pos"]
    assert data.train_x.dtype == torch.int64 and data.input_shape == (8,)
    words = set(GOOD + BAD + FILLER) | {".", "!", ",", "i'd", "say"}
    assert data.vocab_size == len(words) + 2  # every word appears in training, plus pad, unknown
    assert int(data.train_x.max()) < data.vocab_size
    assert any(n.startswith(f"vocabulary of {len(words)} tokens") for n in data.notes)
    assert any("longer than 8 tokens were cut" in n for n in data.notes)
    assert data.preview_columns == ["review", "sentiment"] and len(data.preview_rows) == 50


def test_a_token_table_too_big_to_hold_is_refused_naming_max_length(tmp_path, monkeypatch):
    # Refused before the table is made (20,000 texts at max_length 100,000 would be 16 GB).
    monkeypatch.setattr("core.data.text.MAX_TOKEN_BYTES", 200 * 8 * 8)
    with pytest.raises(BadInput, match=r"\[data\] max_length = 100,000 on 200 texts .*lower "
                                       r"max_length \(at most 8 fits\)"):
        build(path=reviews(tmp_path / "r.csv"), text_column="review",
              label_column="sentiment", max_length=100_000)
    data = build(path=reviews(tmp_path / "r.csv"), text_column="review",
                 label_column="sentiment", max_length=8)
    assert data.input_shape == (8,)


def test_words_seen_only_in_validation_are_unknown(tmp_path):
    path = tmp_path / "t.csv"
    rows = ["text,label"] + [f"shared only{i},{i % 2}" for i in range(20)]  # one new word a row
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    data = build(path=str(path), val_split=0.5, max_length=2)
    assert data.vocab_size == 2 + 1 + 10  # pad, unknown, "shared", the 10 training rows' words
    assert (data.train_x[:, 1] >= 2).all()
    assert (data.val_x[:, 1] == UNKNOWN).all()


def test_text_csv_problems(tmp_path):
    path = reviews(tmp_path / "r.csv", 20)
    with pytest.raises(BadInput, match="has no column 'text'; its columns are review, sentiment"):
        build(path=path)
    one_class = tmp_path / "one.csv"
    one_class.write_text("text,label\nfine,a\ngood,a\n", encoding="utf-8")
    with pytest.raises(BadInput, match="holds one class"):
        build(path=str(one_class))
    unlabeled = tmp_path / "gaps.csv"
    unlabeled.write_text("text,label\n" + "".join(f"w{i},{i % 2}\n" for i in range(10))
                         + "orphan,\n", encoding="utf-8")
    assert "1 row(s) with no label left out (first: line 12)" in build(path=str(unlabeled)).notes


@pytest.mark.parametrize("model", ["lstm", "transformer"])
def test_a_sequence_model_learns_the_sentiment(tmp_path, model):
    path = reviews(tmp_path / "r.csv", 300)
    config = RunConfig().with_overrides([
        f"model.name={model}", "data.name=text_csv", f"data.path={path}",
        "data.text_column=review", "data.label_column=sentiment", "data.max_length=12",
        "training.epochs=6", "training.batch_size=16", "training.device=cpu",
        "training.threads=1", "optimizer.lr=0.003"])
    summary = train(config, runs_dir=tmp_path / "runs")
    assert summary["final_val_accuracy"] >= 0.9


# --- Chinese: character tokens, files in every encoding ---------------------------------

FIXTURES = Path(__file__).parent / "fixtures"


def test_the_character_tokenizer_splits_cjk_and_keeps_latin_words():
    from core.data.text import choose_tokenizer

    text = "这部电影非常好看! I didn't like it"
    assert tokenize(text, tokenizer="characters") == [
        "这", "部", "电", "影", "非", "常", "好", "看", "!", "i", "didn't", "like", "it"]
    assert tokenize("这部电影非常好看", tokenizer="words") == ["这部电影非常好看"]
    assert tokenize("ひらがなとカタカナ", tokenizer="characters") == list("ひらがなとカタカナ")
    assert choose_tokenizer(["送餐很快，味道不错", "good"]) == "characters"
    assert choose_tokenizer(["a fine film", "很好"]) == "words"


def test_chinese_texts_get_character_tokens_stored_with_the_run(tmp_path):
    data = build(path=str(FIXTURES / "reviews_zh.csv"), text_column="review", max_length=16)
    assert data.class_names == ["好评", "差评"]
    assert data.preprocessing["tokenizer"] == "characters"
    assert "texts tokenized by character (auto; set tokenizer to choose)" in data.notes
    vocabulary = data.preprocessing["vocabulary"]
    assert "好" in vocabulary and "，" in vocabulary and all(len(t) == 1 for t in vocabulary)
    # a prediction reads the stored tokenizer: an unseen sentence of known characters
    from core.inference.predict import prepare_text

    ids, notes = prepare_text("味道很好，送餐很快", data.preprocessing)
    assert (ids[0, :9] > UNKNOWN).all() and notes == []
    words = dict(data.preprocessing, tokenizer="words")  # what the old tokenizer did
    unknown = prepare_text("味道很好，送餐很快", words)[1]
    assert unknown == ["2 of 3 tokens are not in the vocabulary"]


def test_the_tokenizer_setting_overrides_auto():
    data = build(path=str(FIXTURES / "reviews_zh.csv"), text_column="review",
                 tokenizer="words")
    assert data.preprocessing["tokenizer"] == "words"
    assert not any("auto" in n for n in data.notes)


def test_the_same_data_in_every_encoding_trains_to_identical_metrics(tmp_path):
    text = (FIXTURES / "reviews_zh.csv").read_text(encoding="utf-8")
    summaries = {}
    for encoding in ("utf-8", "utf-8-sig", "utf-16", "gbk"):
        path = tmp_path / f"评论-{encoding}.csv"
        path.write_bytes(text.encode(encoding))
        config = RunConfig().with_overrides([
            "model.name=lstm", "data.name=text_csv", f"data.path={path}",
            "data.text_column=review", "data.max_length=24", "training.epochs=2",
            "training.batch_size=8", "training.device=cpu", "training.threads=1",
            "training.seed=3"])
        summary = train(config, runs_dir=tmp_path / "runs")
        summaries[encoding] = (summary["final_val_accuracy"], summary["final_val_loss"],
                               summary["best_val_loss"])
    assert len(set(summaries.values())) == 1, summaries
