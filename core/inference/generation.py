"""Generating a response to a typed prompt with a loaded language-model run (hf_causal_lm):
the prompt is put in the form the run's examples had (the tokenizer's chat template, or
"prompt\\n"), and transformers' `generate` writes the response with its key-value cache,
greedily at temperature 0, else sampling with temperature and top-p. Each piece of text is
handed to `on_text` as soon as it is decoded (transformers' TextStreamer), so the window
and the command line show the response growing; `should_stop` ends it early.

The one way both `traindesk predict` and the Predict tab generate. No Qt; torch and
transformers are imported inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from core.rng import holding_global_rng
from core.errors import BadInput
from core.inference.evaluation import LoadedRun

MAX_NEW_TOKENS_LIMIT = 32768


@dataclass(frozen=True)
class GenerationSettings:
    """How a response is generated: at most `max_new_tokens` tokens; `temperature` 0
    takes the likeliest token each time (greedy), above 0 samples from the softmax of the
    scores divided by it, among the likeliest tokens whose probabilities add up to
    `top_p`."""

    max_new_tokens: int = 128
    temperature: float = 0.7
    top_p: float = 0.9

    def checked(self) -> GenerationSettings:
        """These settings; BadInput naming the one out of range."""
        if not 1 <= self.max_new_tokens <= MAX_NEW_TOKENS_LIMIT:
            raise BadInput(f"max new tokens = {self.max_new_tokens}: choose between 1 and "
                           f"{MAX_NEW_TOKENS_LIMIT}")
        if not 0.0 <= self.temperature <= 100.0:
            raise BadInput(f"temperature = {self.temperature}: choose between 0 (the likeliest "
                           "token each time) and 100")
        if not 0.0 < self.top_p <= 1.0:
            raise BadInput(f"top-p = {self.top_p}: choose above 0 and at most 1")
        return self


@dataclass
class Generated:
    """A generated response: its text, how many tokens it took, and why it ended ("end"
    token, "length" reached max_new_tokens, "stopped" by the caller)."""

    prompt: str
    response: str
    tokens: int
    finish: str
    notes: list[str]


def is_language_model(loaded: LoadedRun) -> bool:
    """Whether the run generates text (hf_causal_lm) rather than predicting classes."""
    return loaded.task == "language_modeling"


@holding_global_rng
def generate(loaded: LoadedRun, prompt: str, settings: GenerationSettings = GenerationSettings(),
             on_text: Callable[[str], None] | None = None,
             should_stop: Callable[[], bool] | None = None) -> Generated:
    """The run's response to `prompt`, each decoded piece passed to `on_text` as it comes.
    BadInput for an empty prompt, bad settings, or a run that is not a language model."""
    import torch
    import transformers

    from core.models.hf import load_tokenizer, model_folder, pad_id_of, transformers_calls

    if not is_language_model(loaded):
        raise BadInput("this run classifies; generating a response needs a language model "
                       "run (hf_causal_lm on the instructions dataset)")
    if not prompt.strip():
        raise BadInput("the prompt is empty; type a prompt")
    settings.checked()
    pre = loaded.preprocessing
    tokenizer = load_tokenizer(model_folder(pre["hf_source"]))
    prompt_format = pre.get("prompt_format", "plain")
    ids = prompt_ids(tokenizer, prompt, prompt_format)
    model = loaded.model
    ends = end_tokens(model, tokenizer, prompt_format)
    notes = []
    if len(ids) > pre["max_length"]:
        notes.append(f"the prompt has {len(ids)} tokens, more than the {pre['max_length']} "
                     "of the training examples")
    device = next(model.parameters()).device
    streamer = _streamer(tokenizer, on_text, ends) if on_text is not None else None
    stops = transformers.StoppingCriteriaList([_stopper(should_stop)] if should_stop else [])
    sampling = settings.temperature > 0
    options = dict(do_sample=True, temperature=settings.temperature, top_p=settings.top_p,
                   top_k=None) if sampling else dict(do_sample=False, temperature=None,
                                                     top_p=None, top_k=None)
    input_ids = torch.tensor([ids], device=device)
    with transformers_calls(model), torch.no_grad():
        output = model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                                max_new_tokens=settings.max_new_tokens,
                                eos_token_id=ends,
                                pad_token_id=pad_id_of(tokenizer), streamer=streamer,
                                stopping_criteria=stops, use_cache=True, **options)
    new = output[0, len(ids):].tolist()
    finish = ("end" if new and new[-1] in ends else
              "stopped" if should_stop is not None and should_stop() else "length")
    # The end token is not part of the response (an end of turn that is an added but not
    # a special token would otherwise show as text).
    shown = new[:-1] if finish == "end" else new
    return Generated(prompt, tokenizer.decode(shown, skip_special_tokens=True), len(new),
                     finish, notes)


def prompt_ids(tokenizer, prompt: str, prompt_format: str) -> list[int]:
    """The prompt's token ids as the run's examples began: a user turn in the chat
    template followed by the start of the assistant's answer, or the plain "prompt\\n"."""
    from core.data.instructions import plain_prompt_ids

    if prompt_format == "chat_template":
        text = tokenizer.apply_chat_template([{"role": "user", "content": prompt}],
                                             tokenize=False, add_generation_prompt=True)
        return tokenizer(text, add_special_tokens=False)["input_ids"]
    return plain_prompt_ids(tokenizer, prompt)


def end_tokens(model, tokenizer, prompt_format: str) -> list[int]:
    """The tokens that end a response: the model's generation settings' and the
    tokenizer's end token, and in the chat template format the template's end of turn
    (core.data.instructions.turn_end_token), which the run learned to write after each
    response; the plain format's examples ended with the end token."""
    from core.data.instructions import turn_end_token

    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ends = configured if isinstance(configured, list) else [configured]
    turn_end = turn_end_token(tokenizer) if prompt_format == "chat_template" else None
    ends = [int(t) for t in [*ends, tokenizer.eos_token_id, turn_end] if t is not None]
    return list(dict.fromkeys(ends))


def _streamer(tokenizer, on_text: Callable[[str], None], ends: list[int]):
    """transformers' TextStreamer (it decodes whole words only, so no piece is cut inside a
    character), handing each piece to `on_text` instead of printing it; the end tokens are
    not shown."""
    import torch
    import transformers

    class Streamer(transformers.TextStreamer):
        def put(self, value):
            if self.next_tokens_are_prompt:  # the prompt, skipped whole
                return super().put(value)
            kept = value[~torch.isin(value, torch.tensor(ends, device=value.device))]
            if kept.numel():
                super().put(kept)

        def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
            if text:
                on_text(text)

    return Streamer(tokenizer, skip_prompt=True, skip_special_tokens=True)


def _stopper(should_stop: Callable[[], bool]):
    """A stopping criterion that ends generation once `should_stop()` says so."""
    import torch
    import transformers

    class Stop(transformers.StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            return torch.full((input_ids.shape[0],), bool(should_stop()), dtype=torch.bool,
                              device=input_ids.device)

    return Stop()
