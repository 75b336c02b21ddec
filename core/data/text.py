"""Text classification from a CSV file: a simple tokenizer and a vocabulary built from the
training texts, each text becoming a row of token ids (0 pads, 1 stands for a word not in
the vocabulary). Models embed the ids (rnn, lstm, gru, transformer)."""

from __future__ import annotations

import re
from collections import Counter

from core.entries import Catalogue, Param
from core.data.tables import PREVIEW_ROWS, _is_missing, read_csv
from core.data.memory import VAL_SPLIT, InMemoryData, stratified_split
from core.errors import BadInput

DATASETS = Catalogue("dataset")

PAD, UNKNOWN = 0, 1
TOKEN = re.compile(r"\w+(?:'\w+)?|[^\w\s]")


def tokenize(text: str, lowercase: bool = True) -> list[str]:
    """Words (with inner apostrophes) and single punctuation marks, in order."""
    return TOKEN.findall(text.lower() if lowercase else text)


def build_vocabulary(texts: list[list[str]], max_size: int, min_count: int) -> dict[str, int]:
    """Token -> id for the most frequent tokens (ties by first appearance), ids from 2."""
    counts = Counter(token for tokens in texts for token in tokens)
    common = [t for t, n in counts.most_common(max(0, max_size - 2)) if n >= min_count]
    return {token: i + 2 for i, token in enumerate(common)}


def encode(tokens: list[str], vocabulary: dict[str, int], length: int) -> list[int]:
    ids = [vocabulary.get(t, UNKNOWN) for t in tokens[:length]]
    return ids + [PAD] * (length - len(ids))


@DATASETS.register(
    "text_csv",
    "Your own texts: a CSV file with a text column and a label column (e.g. reviews and "
    "their sentiment). Pick rnn, lstm, gru or transformer as the model.",
    (
        Param("path", "path", "", "The CSV file, with a header row."),
        Param("text_column", "str", "text", "The column holding the texts."),
        Param("label_column", "str", "label", "The column holding each text's class."),
        Param("max_length", "int", 64, "Tokens kept per text (longer texts are cut).",
              minimum=1, maximum=100_000),
        Param("vocab_size", "int", 20000, "At most this many distinct words (the most frequent "
              "in the training texts); others count as unknown.", minimum=3, maximum=10_000_000),
        Param("min_count", "int", 1, "Words seen fewer times in training are unknown.",
              minimum=1, maximum=1_000_000),
        Param("lowercase", "bool", True, "Ignore upper and lower case."),
        VAL_SPLIT,
    ),
    task="classification",
)
def text_csv(params: dict, seed: int) -> InMemoryData:
    import numpy as np
    import torch

    table = read_csv(params["path"], "[data] path")
    for setting in ("text_column", "label_column"):
        if params[setting] not in table.header:
            raise BadInput(f"{table.source} has no column {params[setting]!r}; its columns are "
                           f"{', '.join(table.header)}; set [data] {setting}")
    text_col = table.header.index(params["text_column"])
    label_col = table.header.index(params["label_column"])
    notes = []
    rows = [(row, line) for row, line in zip(table.rows, table.lines)
            if not _is_missing(row[label_col])]
    if len(rows) < len(table.rows):
        first = next(line for row, line in zip(table.rows, table.lines)
                     if _is_missing(row[label_col]))
        notes.append(f"{len(table.rows) - len(rows)} row(s) with no label left out (first: "
                     f"line {first})")
    labels_text = [row[label_col] for row, _ in rows]
    class_names = sorted(set(labels_text))
    if len(class_names) < 2:
        raise BadInput(f"{table.source}: column {params['label_column']!r} holds one class; a "
                       "classifier needs at least two")
    labels = np.asarray([class_names.index(v) for v in labels_text], dtype=np.int64)
    train_idx, val_idx = stratified_split(labels, params["val_split"], seed, class_names)
    tokens = [tokenize(row[text_col], params["lowercase"]) for row, _ in rows]
    vocabulary = build_vocabulary([tokens[i] for i in train_idx], params["vocab_size"],
                                  params["min_count"])
    length = params["max_length"]
    ids = torch.tensor([encode(t, vocabulary, length) for t in tokens], dtype=torch.int64)
    cut = sum(len(t) > length for t in tokens)
    notes.append(f"vocabulary of {len(vocabulary):,} words from the training texts"
                 + (f"; {cut} text(s) longer than {length} tokens were cut" if cut else ""))
    y = torch.from_numpy(labels)
    return InMemoryData(ids[train_idx].contiguous(), y[train_idx], ids[val_idx].contiguous(),
                        y[val_idx], class_names, kind="tokens",
                        vocab_size=len(vocabulary) + 2, notes=notes,
                        preprocessing={"vocabulary": vocabulary, "max_length": length,
                                       "lowercase": params["lowercase"]},
                        preview_columns=[params["text_column"], params["label_column"]],
                        preview_rows=[[row[text_col], row[label_col]]
                                      for row, _ in rows[:PREVIEW_ROWS]])
