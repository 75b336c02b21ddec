"""Instruction tuning data: `instructions`, examples of a prompt and the response a language
model should write, from a CSV or JSONL file (a prompt and a response field), or chats (a
JSONL `messages` field: a list of {"role", "content"} turns, system, user and assistant).

The examples are read here and tokenized when the model is known, by its own tokenizer
(`encode_instructions`, called through core.data.text.use_model_tokenizer as text_csv's
texts are for hf_classifier): in the tokenizer's chat template when it has one, else as
"prompt\\nresponse<eos>". The labels are the token ids where the model is scored, the
responses (assistant turns), and IGNORED on the prompt and on padding, so the loss
(token_cross_entropy) is on the responses only.
"""

from __future__ import annotations

import json
from pathlib import Path

from core.data.encodings import read_text_file
from core.data.memory import VAL_SPLIT, InMemoryData, RawTexts, random_split
from core.data.tables import ENCODING, PREVIEW_ROWS, read_csv
from core.data.text import NO_TOKEN, check_token_memory, trim_padding
from core.entries import Catalogue, Param
from core.errors import BadInput
from core.i18n import translatable

DATASETS = Catalogue("dataset")

ROLES = ("system", "user", "assistant")
IGNORED = -100  # a label not scored (core.train.loss_functions.IGNORED)
JSON_SUFFIXES = (".jsonl", ".json", ".ndjson")

IN_TEMPLATE = translatable("Messages", "{count} examples tokenized by {model}'s own "
                                       "tokenizer in its chat template (longest: {longest} "
                                       "tokens)")
PLAIN = translatable("Messages", "{count} examples tokenized by {model}'s own tokenizer as "
                                 "prompt, new line, response, end token (it has no chat "
                                 "template; longest: {longest} tokens)")
CUT = translatable("Messages", "{cut} example(s) longer than {length} tokens were cut")
NO_RESPONSE_LEFT = translatable("Messages", "{count} example(s) left out: the prompt fills "
                                            "max_length = {length}, leaving no response token")
NO_END_TOKEN = translatable("Messages", "{model}'s tokenizer has no end token: generated "
                                        "responses run to the most new tokens")
NO_TURN_END = translatable("Messages", "{model}'s chat template writes no end-of-turn token "
                                       "after a response: generated responses run until the "
                                       "model's end token or the most new tokens")
EMPTY_LEFT_OUT = translatable("Messages", "{count} example(s) with an empty prompt or response "
                                          "left out (first: line {line})")


@DATASETS.register(
    "instructions",
    "Your own instructions for a language model: a CSV or JSONL file of prompts and the "
    "responses to learn, or JSONL chats (a messages list of role and content). Pick "
    "hf_causal_lm as the model.",
    (
        Param("path", "path", "", "The CSV file (with a header row) or JSONL file (one JSON "
              "object a line)."),
        Param("prompt_field", "str", "prompt", "The column or field holding each prompt."),
        Param("response_field", "str", "response", "The column or field holding the response "
              "to learn."),
        Param("messages_field", "str", "messages", "JSONL: the field holding a chat, a list of "
              '{"role": "system" | "user" | "assistant", "content": "..."}; used instead of '
              "prompt and response when present. The assistant turns are learned."),
        Param("max_length", "int", 512, "Tokens kept per example, prompt and response together "
              "(longer examples are cut at the end).", minimum=2, maximum=100_000,
              unit="tokens"),
        ENCODING,
        VAL_SPLIT,
    ),
    task="language_modeling", gives="instructions",
)
def instructions(params: dict, seed: int) -> InMemoryData:
    import torch

    path_text = params["path"]
    if not path_text:
        raise BadInput("[data] path is empty: choose a CSV or JSONL file of prompts and "
                       "responses")
    path = Path(path_text).expanduser()
    if path.suffix.lower() in JSON_SUFFIXES:
        chats, notes = _read_jsonl(path, params)
    else:
        chats, notes = _read_csv(path_text, params)
    if len(chats) < 2:
        raise BadInput(f"{path} holds {len(chats)} usable example(s); add examples (at least "
                       "two: one to train on, one to validate)")
    train_idx, val_idx = random_split(len(chats), params["val_split"], seed)
    texts = RawTexts([chats[i] for i in train_idx], [chats[i] for i in val_idx], list(notes),
                     encode=encode_instructions)
    preview = [[_shown(chat[:-1]), chat[-1][1]] for chat in chats[:PREVIEW_ROWS]]
    # Placeholders until the model's tokenizer encodes the examples (use_model_tokenizer).
    return InMemoryData(torch.zeros(len(train_idx), 1, dtype=torch.int64),
                        torch.zeros(len(train_idx), 1, dtype=torch.int64),
                        torch.zeros(len(val_idx), 1, dtype=torch.int64),
                        torch.zeros(len(val_idx), 1, dtype=torch.int64), [],
                        task="language_modeling", kind="instructions", notes=notes,
                        preprocessing={"max_length": params["max_length"]},
                        preview_columns=["prompt", "response"], preview_rows=preview,
                        texts=texts)


def _shown(turns: list[tuple[str, str]]) -> str:
    """A chat's turns before its last response, as a preview cell."""
    if len(turns) == 1 and turns[0][0] == "user":
        return turns[0][1]
    return "\n".join(f"{role}: {content}" for role, content in turns)


def _read_csv(path_text: str, params: dict):
    """(chats, notes) from a CSV file with prompt and response columns."""
    table = read_csv(path_text, "[data] path", params["encoding"])
    for setting in ("prompt_field", "response_field"):
        if params[setting] not in table.header:
            raise BadInput(f"{table.source} has no column {params[setting]!r}; its columns are "
                           f"{', '.join(table.header)}; set [data] {setting}")
    prompt = table.header.index(params["prompt_field"])
    response = table.header.index(params["response_field"])
    notes, empty = list(table.notes), []
    chats = [_pair(row[prompt], row[response], line, empty)
             for row, line in zip(table.rows, table.lines)]
    return _without_empty(chats, empty, notes)


def _pair(prompt: str, response: str, line: int, empty: list[int]):
    """A prompt and its response as a chat of two turns; None (its line noted in `empty`)
    when either is empty."""
    if not prompt.strip() or not response.strip():
        empty.append(line)
        return None
    return [("user", prompt), ("assistant", response)]


def _without_empty(chats: list, empty: list[int], notes: list[str]):
    if empty:
        notes.append(EMPTY_LEFT_OUT.format(count=len(empty), line=empty[0]))
    return [chat for chat in chats if chat is not None], notes


def _read_jsonl(path: Path, params: dict):
    """(chats, notes) from a JSONL file (or a .json file holding a list): each record a
    chat under messages_field, or a prompt and a response field."""
    text, _ = read_text_file(path, "[data] path", params["encoding"])
    if not text.strip():
        raise BadInput(f"{path} is empty; write one JSON object a line, e.g. "
                       '{"prompt": "...", "response": "..."}')
    records = _records(text, path)
    fields = (params["prompt_field"], params["response_field"])
    chats, empty = [], []
    for line, record in records:
        if not isinstance(record, dict):
            raise BadInput(f"{path} line {line} is not a JSON object; write one object a line, "
                           'e.g. {"prompt": "...", "response": "..."}')
        if params["messages_field"] in record:
            chats.append(_chat(record[params["messages_field"]], path, line,
                               params["messages_field"]))
            continue
        missing = [f for f in fields if f not in record]
        if missing:
            setting = "prompt_field" if missing[0] == fields[0] else "response_field"
            raise BadInput(f"{path} line {line} has no {missing[0]!r} field (its fields are "
                           f"{', '.join(map(str, record)) or 'none'}); set [data] {setting}, or "
                           f"give a chat in a {params['messages_field']!r} field")
        values = [record[f] for f in fields]
        if not all(isinstance(v, str) for v in values):
            raise BadInput(f"{path} line {line}: {fields[0]!r} and {fields[1]!r} must be "
                           "texts (in quotes)")
        chats.append(_pair(*values, line, empty))
    return _without_empty(chats, empty, [])


def _records(text: str, path: Path) -> list[tuple[int, object]]:
    """(line, parsed value) of each JSON record: a list in one document, or one a line."""
    if text.lstrip().startswith("["):
        try:
            records = json.loads(text)
        except ValueError as exc:
            raise BadInput(f"{path} is not valid JSON ({exc}); fix it or write one object a "
                           "line (JSONL)") from None
        return [(number, record) for number, record in enumerate(records, start=1)]
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            found.append((number, json.loads(line)))
        except ValueError as exc:
            raise BadInput(f"{path} line {number} is not valid JSON ({exc}); fix that line") \
                from None
    return found


def _chat(messages, path: Path, line: int, field: str) -> list[tuple[str, str]]:
    """A chat's turns as (role, content), checked: known roles, texts, a response to learn."""
    example = '[{"role": "user", "content": "..."}, {"role": "assistant", "content": "..."}]'
    if not isinstance(messages, list) or not messages:
        raise BadInput(f"{path} line {line}: {field!r} must be a list of turns, e.g. {example}")
    turns = []
    for turn in messages:
        if not isinstance(turn, dict) or turn.get("role") not in ROLES \
                or not isinstance(turn.get("content"), str):
            raise BadInput(f"{path} line {line}: each turn of {field!r} needs a role (system, "
                           f"user or assistant) and a text content, e.g. {example}")
        turns.append((turn["role"], turn["content"]))
    if turns[-1][0] != "assistant":
        raise BadInput(f"{path} line {line}: the chat's last turn must be the assistant's (the "
                       "response to learn)")
    return turns


def encode_instructions(data: InMemoryData, tokenizer, source: str) -> None:
    """Tokenize the examples of `data` (from `instructions`) in place with a pretrained
    model's own tokenizer: ids (N, W) with NO_TOKEN past each example's end, labels (N, W)
    with IGNORED except on the response tokens, at most [data] max_length tokens an
    example; each batch is cut to its own longest example (trim_padding)."""
    import torch

    length = data.preprocessing["max_length"]
    template = bool(getattr(tokenizer, "chat_template", None))
    notes = list(data.texts.notes)
    if not template and tokenizer.eos_token_id is None:
        notes.append(NO_END_TOKEN.format(model=source))
    if template and turn_end_token(tokenizer) is None:
        notes.append(NO_TURN_END.format(model=source))
    splits, cut, dropped = [], 0, 0
    for chats in (data.texts.train, data.texts.val):
        rows = []
        for chat in chats:
            ids, labels = (_in_template(chat, tokenizer, source) if template
                           else _plain(chat, tokenizer))
            if len(ids) > length:
                cut += 1
                ids, labels = ids[:length], labels[:length]
            if all(label == IGNORED for label in labels[1:]):
                dropped += 1
                continue
            rows.append((ids, labels))
        splits.append(rows)
    if not splits[0] or not splits[1]:
        raise BadInput(f"no {'training' if not splits[0] else 'validation'} example keeps a "
                       f"response token within [data] max_length = {length}; raise max_length")
    width = max(len(ids) for rows in splits for ids, _ in rows)
    check_token_memory(2 * sum(len(rows) for rows in splits), width)
    (data.train_x, data.train_y), (data.val_x, data.val_y) = (
        (torch.tensor([ids + [NO_TOKEN] * (width - len(ids)) for ids, _ in rows],
                      dtype=torch.int64),
         torch.tensor([labels + [IGNORED] * (width - len(labels)) for _, labels in rows],
                      dtype=torch.int64)) for rows in splits)
    notes.append((IN_TEMPLATE if template else PLAIN).format(
        count=sum(map(len, splits)), model=source, longest=width))
    if cut:
        notes.append(CUT.format(cut=cut, length=length))
    if dropped:
        notes.append(NO_RESPONSE_LEFT.format(count=dropped, length=length))
    data.kind, data.vocab_size, data.batch_transform = "hf_tokens", len(tokenizer), trim_padding
    data.notes = notes
    data.preprocessing = {"hf_source": source, "max_length": length,
                          "prompt_format": "chat_template" if template else "plain"}


def _in_template(chat: list[tuple[str, str]], tokenizer, source: str):
    """(ids, labels) of a chat in the tokenizer's chat template: each assistant turn's
    tokens (with the template's end of turn) scored, everything else not."""
    ids = _template_ids(tokenizer, chat, False)
    labels = [IGNORED] * len(ids)
    for turn, (role, _) in enumerate(chat):
        if role != "assistant":
            continue
        prompt = _template_ids(tokenizer, chat[:turn], True)
        through = _template_ids(tokenizer, chat[:turn + 1], False)
        start = len(prompt)
        if ids[:len(through)] != through or through[:start] != prompt:
            raise BadInput(f"the chat template of {source} writes earlier turns differently "
                           "once a later turn follows, so the responses cannot be told from "
                           "the prompts; give one prompt and one response per example")
        labels[start:len(through)] = ids[start:len(through)]
    return ids, labels


def _template_ids(tokenizer, chat: list[tuple[str, str]], prompt: bool) -> list[int]:
    """The token ids of `chat` in the tokenizer's chat template; with `prompt`, followed by
    the start of the assistant's answer (add_generation_prompt)."""
    text = tokenizer.apply_chat_template([{"role": r, "content": c} for r, c in chat],
                                         tokenize=False, add_generation_prompt=prompt)
    return tokenizer(text, add_special_tokens=False)["input_ids"]


# Stands for a response when the template is rendered to find what it writes after one.
RESPONSE_MARKER = "TRAINDESKRESPONSEMARKER"


def turn_end_token(tokenizer) -> int | None:
    """The token the chat template writes right after an assistant's response (Llama-3's
    <|eot_id|>, ChatML's <|im_end|>, or the end token itself): trained on as part of every
    response (`_in_template`), so generation stops at it. Only a token of the tokenizer's
    added vocabulary counts (a marker, never split from text); an ordinary text token (a
    new line, say) is not taken, since stopping there would cut responses that contain
    it. None without a template or when the template writes no such token."""
    if not getattr(tokenizer, "chat_template", None):
        return None
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": "hello"}, {"role": "assistant", "content": RESPONSE_MARKER}],
        tokenize=False, add_generation_prompt=False)
    at = text.rfind(RESPONSE_MARKER)
    # Added tokens are split from the text before anything else, so the text after the
    # response tokenizes to the same first marker as in the whole chat; spaces before it
    # are left out, as tokenizers such as Llama-2's write them as a token of their own.
    after = text[at + len(RESPONSE_MARKER):].lstrip() if at >= 0 else ""
    if not after:
        return None
    first = tokenizer(after, add_special_tokens=False)["input_ids"][:1]
    added = getattr(tokenizer, "added_tokens_decoder", None) or {}
    markers = set(added) | set(tokenizer.all_special_ids)
    return int(first[0]) if first and first[0] in markers else None


def plain_prompt_ids(tokenizer, prompt: str) -> list[int]:
    """A prompt's ids in the plain format (no chat template): the text and a new line, with
    the tokenizer's start token when it adds one. Generation starts from these."""
    return tokenizer(prompt + "\n")["input_ids"]


def _plain(chat: list[tuple[str, str]], tokenizer):
    """(ids, labels) of a chat without a chat template: each prompt or system turn as its
    text and a new line, each response as its text and the end token (scored)."""
    ids, labels = [], []
    for role, content in chat:
        if role == "assistant":
            part = tokenizer(content, add_special_tokens=False)["input_ids"]
            if tokenizer.eos_token_id is not None:
                part = part + [tokenizer.eos_token_id]
            labels += part
        else:
            part = (plain_prompt_ids(tokenizer, content) if not ids else
                    tokenizer(content + "\n", add_special_tokens=False)["input_ids"])
            labels += [IGNORED] * len(part)
        ids += part
    return ids, labels
