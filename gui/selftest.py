"""`traindesk self-test`: open the main window off screen, train briefly on the bundled
digits through the GUI's own Start button and training thread, then (when transformers is
installed, as it always is in the desktop app) fine-tune two tiny language models made on
the spot, and return 0 on success. Installers run this to check that Qt, pyqtgraph, torch
and the language-model stack all work in the installed app.

The language models are built here with random weights and word-level tokenizers (no
download, no network): a Llama-style causal model trained with LoRA through the engine on
a few instructions, asked for a response (transformers' generate) and exported as a PEFT
adapter that peft loads back; and a BERT classifier trained on a few texts and exported as
a Hugging Face folder that transformers loads back. A few seconds in all."""

from __future__ import annotations

import csv
import importlib.util
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

TIMEOUT_S = 120
SELF_TEST_RUN = {
    "model": {"name": "simple_cnn"},
    "data": {"name": "digits"},
    "training": {"epochs": 1, "device": "cpu"},
}


def run_self_test() -> int:
    """Print one line of result; 0 when a short run completed and its curve was drawn."""
    # Set before Qt starts, for this process only: installers often run without a display.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QLoggingCategory
    from PySide6.QtWidgets import QApplication

    # The offscreen platform warns that it cannot pass on window size hints: noise in an
    # installer's log. A rule, not qInstallMessageHandler: PySide6 6.12's Python message
    # handler releases a reference to None per message and crashes the interpreter.
    QLoggingCategory.setFilterRules("default.warning=false")
    app = QApplication.instance() or QApplication([])  # noqa: F841  (must outlive the window)
    with tempfile.TemporaryDirectory(prefix="traindesk-self-test-") as runs_dir:
        try:
            message = _train_through_window(Path(runs_dir))
            # The small-model run must not have paid for the language-model stack.
            if "transformers" in sys.modules or "peft" in sys.modules:
                raise SelfTestFailed("the small-model run imported transformers or peft")
            message += "\n" + _language_models(Path(runs_dir))
        except SelfTestFailed as exc:
            print(f"error: self-test failed: {exc}", file=sys.stderr)
            return 1
        except Exception as exc:  # a broken install: the traceback is what its log needs
            traceback.print_exc()
            print(f"error: self-test failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    print(message)
    return 0


class SelfTestFailed(Exception):
    pass


def _train_through_window(runs_dir: Path) -> str:
    from PySide6.QtCore import QEventLoop, QTimer

    from gui.app import delete_window

    from core.config import RunConfig
    from core.metrics import format_metric, metric_label
    from gui.main_window import MainWindow

    window = MainWindow(runs_dir=runs_dir)
    try:
        window.setup_panel.set_config(RunConfig.from_dict(SELF_TEST_RUN))
        window.show()
        loop = QEventLoop()
        window.run_ended.connect(loop.quit)
        timeout = QTimer()
        timeout.setSingleShot(True)
        timeout.timeout.connect(loop.quit)
        started = time.perf_counter()
        window.start_button.click()
        if window.training_thread is None:
            raise SelfTestFailed(f"the run did not start: {window.message_bar.text()}")
        timeout.start(TIMEOUT_S * 1000)
        loop.exec()
        if window.training_thread is not None:
            raise SelfTestFailed(f"the run did not finish within {TIMEOUT_S} s")
        summary = window.last_summary
        if summary is None or summary.get("status") != "completed":
            reason = window.message_bar.text() or f"status {summary and summary.get('status')}"
            raise SelfTestFailed(f"the run did not complete: {reason}")
        points = window.plots.train_point_count
        metric = summary.get("metric", "accuracy")
        if points == 0:
            raise SelfTestFailed("the run completed but the loss plot got no points")
        return (f"self-test passed: trained {summary['model']} on {summary['data']} "
                f"({summary['device']}) through the window in "
                f"{time.perf_counter() - started:.1f} s, validation {metric_label(metric)} "
                f"{format_metric(metric, summary.get('final_val_metric'))}, {points} loss points "
                "plotted")
    finally:
        window.ask_before_closing = False  # nobody to answer
        window.close()  # stops a run still going and waits for its thread
        delete_window(window)


# ------------------------------------------------------------------ language models

# What the tiny causal model learns: an animal's sound. Few enough for seconds of training.
ANIMALS = {"cat": "meow", "dog": "woof", "cow": "moo", "duck": "quack", "owl": "hoot",
           "frog": "croak", "bee": "buzz", "pig": "oink"}
CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }}"
                 "{% if m['role'] == 'assistant' %} </s>{% endif %}\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|> {% endif %}")
# Common architectures of hf_classifier and hf_causal_lm folders, with the auto class each
# is loaded with.
ARCHITECTURES = {"bert": "AutoModelForSequenceClassification",
                 "roberta": "AutoModelForSequenceClassification",
                 "distilbert": "AutoModelForSequenceClassification",
                 "gpt2": "AutoModelForCausalLM", "llama": "AutoModelForCausalLM",
                 "qwen2": "AutoModelForCausalLM", "qwen3": "AutoModelForCausalLM",
                 "mistral": "AutoModelForCausalLM", "gemma": "AutoModelForCausalLM",
                 "phi3": "AutoModelForCausalLM"}
REVIEWS = {"positive": ["a warm funny film", "great acting and a good story", "i loved it"],
           "negative": ["a dull boring film", "bad acting and a weak story", "i hated it"]}


def _language_models(work: Path) -> str:
    """One line saying what the language-model check did; SelfTestFailed when it failed.
    Skipped (saying so) only where transformers is not installed and the app is not frozen."""
    if importlib.util.find_spec("transformers") is None:
        if getattr(sys, "frozen", False):
            raise SelfTestFailed("transformers is missing from the app: it cannot fine-tune "
                                 "language models (rebuild with pip install -e '.[packaging]')")
        return ("self-test note: language models not checked: transformers is not installed "
                "(pip install 'traindesk[llm]')")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # all here is local: never wait on a network
    started = time.perf_counter()
    import transformers

    # Saving the tiny models would draw progress bars into an installer's log.
    transformers.utils.logging.disable_progress_bar()
    families = _architectures()
    causal = _causal_lm_with_lora(work / "lm")
    classifier = _bert_classifier(work / "classifier")
    return (f"self-test passed: language models in {time.perf_counter() - started:.1f} s: "
            f"{families}; {causal}; {classifier}")


def _architectures() -> str:
    """transformers finds its model and tokenizer classes by name when a folder is loaded,
    so a frozen app lacking a family's modules fails only then: look the common ones up."""
    import transformers
    from transformers.models.auto import tokenization_auto

    for model_type, auto_class in ARCHITECTURES.items():
        config = transformers.AutoConfig.for_model(model_type)
        try:
            getattr(transformers, auto_class)._model_mapping[type(config)]
            names = tokenization_auto.TOKENIZER_MAPPING_NAMES.get(model_type) or ()
            for name in [names] if isinstance(names, str) else names:
                if name and tokenization_auto.tokenizer_class_from_name(name) is None:
                    raise LookupError(f"tokenizer class {name} not found")
        except (KeyError, LookupError, ImportError, AttributeError) as exc:
            raise SelfTestFailed(f"transformers cannot build a {model_type} model "
                                 f"({auto_class}): {type(exc).__name__}: {exc}") from None
    return f"{', '.join(ARCHITECTURES)} found"


def _causal_lm_with_lora(work: Path) -> str:
    from core.config import RunConfig
    from core.inference.evaluation import load_run
    from core.inference.export import export_model
    from core.inference.generation import GenerationSettings, generate
    from core.train.loop import train

    prompts = {f"what does the {animal} say": sound for animal, sound in ANIMALS.items()}
    folder = _tiny_llama(work / "tiny-llama", [*" ".join(prompts).split(), *prompts.values()])
    data = _write_csv(work / "animals.csv", ("prompt", "response"), prompts.items())
    targets = [f"model.layers.{i}.self_attn.{p}" for i in range(2) for p in ("q_proj", "v_proj")]
    config = RunConfig().with_overrides([
        "model.name=hf_causal_lm", f"model.source={str(folder)!r}", "data.name=instructions",
        f"data.path={str(data)!r}", "data.val_split=0.25", "data.max_length=32",
        "loss.name=token_cross_entropy", "optimizer.name=adamw", "optimizer.lr=0.02",
        "training.epochs=6", "training.batch_size=2", "training.device=cpu",
        f"finetune.lora_targets={targets!r}", "finetune.lora_rank=4",
        "finetune.freeze=['model', 'lm_head']"])
    run_dir = _completed(train(config, runs_dir=work / "runs"), "hf_causal_lm")
    first, last = _epoch_losses(run_dir)
    if not last < first:
        raise SelfTestFailed(f"hf_causal_lm's training loss did not fall ({first:.3f} -> "
                             f"{last:.3f})")
    prompt = next(iter(prompts))
    answer = generate(load_run(run_dir, "last"), prompt,
                      GenerationSettings(max_new_tokens=4, temperature=0.0, top_p=1.0))
    if answer.tokens < 1:
        raise SelfTestFailed(f"hf_causal_lm generated nothing for {prompt!r}")
    adapter = export_model(run_dir, "peft", checkpoint="last", out=work / "adapter")
    if not adapter.matches:
        raise SelfTestFailed(f"the exported PEFT adapter's outputs differ by "
                             f"{adapter.max_abs_diff:g} from the trained model's")
    return (f"hf_causal_lm (tiny Llama, LoRA) training loss {first:.2f} -> {last:.2f}, "
            f"generated {answer.tokens} token(s), PEFT adapter exported and loaded back")


def _bert_classifier(work: Path) -> str:
    from core.config import RunConfig
    from core.inference.export import export_model
    from core.train.loop import train

    rows = [(text, label) for label, texts in REVIEWS.items() for text in texts] * 3
    folder = _tiny_bert(work / "tiny-bert", [w for text, _ in rows for w in text.split()])
    data = _write_csv(work / "reviews.csv", ("text", "label"), rows)
    config = RunConfig().with_overrides([
        "model.name=hf_classifier", f"model.source={str(folder)!r}", "data.name=text_csv",
        f"data.path={str(data)!r}", "data.val_split=0.25", "data.max_length=16",
        "optimizer.name=adamw", "optimizer.lr=0.001", "training.epochs=2",
        "training.batch_size=4", "training.device=cpu"])
    run_dir = _completed(train(config, runs_dir=work / "runs"), "hf_classifier")
    exported = export_model(run_dir, "hf", checkpoint="last", out=work / "exported")
    if not exported.matches:
        raise SelfTestFailed(f"the exported hf_classifier folder's outputs differ by "
                             f"{exported.max_abs_diff:g} from the trained model's")
    return "hf_classifier (tiny BERT) trained and exported as a Hugging Face folder"


def _completed(summary: dict, model: str) -> Path:
    if summary.get("status") != "completed":
        raise SelfTestFailed(f"the {model} run did not complete: {summary.get('status')} "
                             f"{summary.get('error', '')}".strip())
    return Path(summary["run_dir"])


def _epoch_losses(run_dir: Path) -> tuple[float, float]:
    """The first and the last epoch's training loss, from the run's metrics.csv."""
    with open(run_dir / "metrics.csv", newline="", encoding="utf-8") as f:
        losses = [float(row["loss"]) for row in csv.DictReader(f)
                  if row["split"] == "train_epoch"]
    if len(losses) < 2:
        raise SelfTestFailed(f"{run_dir / 'metrics.csv'} holds {len(losses)} epoch loss(es)")
    return losses[0], losses[-1]


def _write_csv(path: Path, header: tuple[str, str], rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _tiny_llama(folder: Path, words: list[str]) -> Path:
    """A 2-layer Llama with random weights and a word-level tokenizer of `words` with a chat
    template, saved as a Hugging Face folder (safetensors), as a user's model folder is."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<pad>", "<unk>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>"]
    vocabulary = {token: i for i, token in enumerate(specials + sorted(set(words)))}
    backend = Tokenizer(models.WordLevel(vocabulary, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.decoder = decoders.WordPiece(prefix="##")  # joins the words with spaces
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
        unk_token="<unk>", additional_special_tokens=specials[4:], chat_template=CHAT_TEMPLATE)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(vocabulary), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                         max_position_embeddings=64, bos_token_id=2, eos_token_id=3,
                         pad_token_id=0, tie_word_embeddings=False)
    LlamaForCausalLM(config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def _tiny_bert(folder: Path, words: list[str]) -> Path:
    """A 2-layer BERT with random weights and a WordPiece vocabulary of `words` (BERT's own
    tokenizer class, built from vocab.txt), saved as a Hugging Face folder."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(set(words))]
    (folder / "vocab.txt").write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(vocabulary), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=64)
    BertModel(config).save_pretrained(folder, safe_serialization=True)
    return folder
