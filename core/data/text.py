"""Text classification from a CSV file: a tokenizer and a vocabulary built from the
training texts, each text becoming a row of token ids (0 pads, 1 stands for a token not in
the vocabulary). Models embed the ids (rnn, lstm, gru, transformer).

Chinese and Japanese are written without spaces, so a word tokenizer (`\\w+`) makes a whole
clause one "word" that an unseen sentence never repeats. The character tokenizer makes each
CJK character a token and keeps Latin words whole; "auto" picks it when most of the
training texts' letters are CJK. The tokenizer's settings and the vocabulary are part of
the data's preprocessing, which a prediction or an export reads instead of the texts.
"""

from __future__ import annotations

import re
from collections import Counter

from core.entries import Catalogue, Param
from core.data.tables import ENCODING, PREVIEW_ROWS, _is_missing, read_csv
from core.data.memory import VAL_SPLIT, InMemoryData, RawTexts, stratified_split
from core.errors import BadInput
from core.i18n import translatable

DATASETS = Catalogue("dataset")

PAD, UNKNOWN = 0, 1
# A pretrained model's token ids (use_model_tokenizer) are padded with an id no vocabulary
# has, so padding is told from real tokens whatever the model's own pad id is.
NO_TOKEN = -1
TOKENIZERS = ("auto", "words", "characters")
# CJK ideographs (with extension A, compatibility ideographs and the supplementary planes),
# and Japanese kana.
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
WORD = re.compile(r"\w+(?:'\w+)?|[^\w\s]")
CHARACTER = re.compile(rf"[{CJK}]|[^\W{CJK}]+(?:'[^\W{CJK}]+)?|[^\w\s]")
CJK_CHARACTER = re.compile(rf"[{CJK}]")
LETTER = re.compile(r"\w")
# "auto" tokenizes by character when at least this share of the letters are CJK.
MIN_CJK_SHARE = 0.5

AUTO_CHOICE = {"characters": translatable("Messages", "texts tokenized by character (auto; set "
                                                      "tokenizer to choose)"),
               "words": translatable("Messages", "texts tokenized by word (auto; set tokenizer "
                                                 "to choose)")}
VOCABULARY = translatable("Messages", "vocabulary of {count} tokens from the training texts")
VOCABULARY_CUT = translatable("Messages", "vocabulary of {count} tokens from the training texts; "
                                          "{cut} text(s) longer than {length} tokens were cut")


def tokenize(text: str, lowercase: bool = True, tokenizer: str = "words") -> list[str]:
    """Tokens in order: words (with inner apostrophes) and single punctuation marks; with
    the character tokenizer each CJK character is a token of its own."""
    pattern = CHARACTER if tokenizer == "characters" else WORD
    return pattern.findall(text.lower() if lowercase else text)


def choose_tokenizer(texts: list[str]) -> str:
    """ "characters" when most letters in `texts` are CJK, else "words"."""
    letters = sum(len(LETTER.findall(t)) for t in texts)
    cjk = sum(len(CJK_CHARACTER.findall(t)) for t in texts)
    return "characters" if letters and cjk >= MIN_CJK_SHARE * letters else "words"


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
        Param("text_column", "str", "text", "The column holding the texts.", column_of="path"),
        Param("label_column", "str", "label", "The column holding each text's class.",
              column_of="path"),
        Param("max_length", "int", 64, "Tokens kept per text (longer texts are cut).",
              minimum=1, maximum=100_000, unit="tokens"),
        Param("vocab_size", "int", 20000, "At most this many distinct words (the most frequent "
              "in the training texts); others count as unknown.", minimum=3, maximum=10_000_000),
        Param("min_count", "int", 1, "Words seen fewer times in training are unknown.",
              minimum=1, maximum=1_000_000),
        Param("lowercase", "bool", True, "Ignore upper and lower case."),
        Param("tokenizer", "choice", "auto", "How texts are cut into tokens. words: words and "
              "punctuation marks; characters: each Chinese or Japanese character a token, "
              "other words whole; auto: characters when most of the letters are Chinese or "
              "Japanese.", choices=TOKENIZERS),
        ENCODING,
        VAL_SPLIT,
    ),
    task="classification", gives="tokens",
)
def text_csv(params: dict, seed: int) -> InMemoryData:
    import numpy as np
    import torch

    table = read_csv(params["path"], "[data] path", params["encoding"])
    for setting in ("text_column", "label_column"):
        if params[setting] not in table.header:
            raise BadInput(f"{table.source} has no column {params[setting]!r}; its columns are "
                           f"{', '.join(table.header)}; set [data] {setting}")
    text_col = table.header.index(params["text_column"])
    label_col = table.header.index(params["label_column"])
    notes = list(table.notes)
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
    texts = RawTexts([rows[i][0][text_col] for i in train_idx],
                     [rows[i][0][text_col] for i in val_idx], list(notes))
    tokenizer = params["tokenizer"]
    if tokenizer == "auto":
        tokenizer = choose_tokenizer([rows[i][0][text_col] for i in train_idx])
        notes.append(AUTO_CHOICE[tokenizer])
    tokens = [tokenize(row[text_col], params["lowercase"], tokenizer) for row, _ in rows]
    vocabulary = build_vocabulary([tokens[i] for i in train_idx], params["vocab_size"],
                                  params["min_count"])
    length = params["max_length"]
    check_token_memory(len(tokens), length)
    ids = torch.tensor([encode(t, vocabulary, length) for t in tokens], dtype=torch.int64)
    cut = sum(len(t) > length for t in tokens)
    notes.append((VOCABULARY_CUT if cut else VOCABULARY).format(
        count=f"{len(vocabulary):,}", cut=cut, length=length))
    y = torch.from_numpy(labels)
    return InMemoryData(ids[train_idx].contiguous(), y[train_idx], ids[val_idx].contiguous(),
                        y[val_idx], class_names, kind="tokens",
                        vocab_size=len(vocabulary) + 2, notes=notes,
                        preprocessing={"vocabulary": vocabulary, "max_length": length,
                                       "lowercase": params["lowercase"],
                                       "tokenizer": tokenizer},
                        preview_columns=[params["text_column"], params["label_column"]],
                        preview_rows=[[row[text_col], row[label_col]]
                                      for row, _ in rows[:PREVIEW_ROWS]], texts=texts)


MODEL_TOKENIZER = translatable("Messages", "texts tokenized by {model}'s own tokenizer "
                                           "(longest: {longest} tokens)")
MODEL_TOKENIZER_CUT = translatable("Messages", "texts tokenized by {model}'s own tokenizer; "
                                               "{cut} text(s) longer than {length} tokens "
                                               "were cut")


def use_model_tokenizer(data: InMemoryData, tokenizer, source: str) -> None:
    """Encode `data`'s texts afresh, in place, with a pretrained model's own tokenizer (a
    transformers tokenizer), keeping [data] max_length tokens a text (special tokens
    included). The ids are stored as wide as the longest text, NO_TOKEN past each text's
    end, and each batch is cut to its own longest text (`trim_padding`): dynamic padding.
    The preprocessing then names the tokenizer's model `source` instead of a vocabulary."""
    import torch

    if data.texts is None:
        raise BadInput("this model reads texts with its own tokenizer; pick the text_csv "
                       "dataset (hf_classifier) or instructions (hf_causal_lm)")
    if data.texts.encode is not None:  # not texts to classify: the dataset's own encoding
        data.texts.encode(data, tokenizer, source)
        return
    length = data.preprocessing["max_length"]
    splits, cut = [], 0
    for texts in (data.texts.train, data.texts.val):
        full = tokenizer(texts, truncation=False)["input_ids"]
        cut += sum(len(ids) > length for ids in full)
        splits.append(tokenizer(texts, truncation=True, max_length=length)["input_ids"])
    width = max(1, max(len(ids) for split in splits for ids in split))
    train_x, val_x = (torch.tensor([ids + [NO_TOKEN] * (width - len(ids)) for ids in split],
                                   dtype=torch.int64).reshape(len(split), width)
                      for split in splits)
    note = (MODEL_TOKENIZER_CUT if cut else MODEL_TOKENIZER).format(
        model=source, longest=width, cut=cut, length=length)
    data.train_x, data.val_x = train_x, val_x
    data.kind, data.vocab_size, data.batch_transform = "hf_tokens", len(tokenizer), trim_padding
    data.notes = [*data.texts.notes, note]
    data.preprocessing = {"hf_source": source, "max_length": length}


def trim_padding(x, train: bool):
    """A batch of pretrained-model token ids cut to its longest text: dynamic padding, so a
    batch of short texts costs what short texts cost. One small read-back per batch."""
    longest = int(x.ne(NO_TOKEN).sum(1).max()) if len(x) else 1
    return x[:, :max(longest, 1)]


# Token ids are held as int64: beyond this, a table of texts would not fit a typical machine.
MAX_TOKEN_BYTES = 4 << 30


def check_token_memory(texts: int, length: int) -> None:
    """BadInput naming [data] max_length when the padded token table would exceed
    MAX_TOKEN_BYTES, before anything that size is allocated."""
    needed = texts * length * 8
    if needed > MAX_TOKEN_BYTES:
        raise BadInput(f"[data] max_length = {length:,} on {texts:,} texts needs "
                       f"{needed / 2**30:.1f} GB of token ids; lower max_length (at most "
                       f"{MAX_TOKEN_BYTES // (texts * 8):,} fits)")
