"""Exporting a trained model for use outside TrainDesk: a state_dict (.pt, or safetensors),
TorchScript, ONNX, or for a Hugging Face language model a Hugging Face folder, with a JSON file beside it that says how to prepare inputs (size,
channels, normalisation, class names, task) and what the outputs mean.

Every export is checked at once: the exported file is loaded back the way a user would load
it (a fresh model and the state_dict, torch.jit.load, onnxruntime) and its outputs on
validation samples are compared with the trained model's. A LoRA run exports the merged
model, under the layer names the model has without adapters.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from core.errors import BadInput, ExportFailed
from core.files import write_atomic, write_json_atomic
from core.runs.folder import RunFolder

FORMATS = {  # name: (what it is, file ending)
    "pt": ("PyTorch state_dict", ".pt"),
    "safetensors": ("safetensors state_dict", ".safetensors"),
    "torchscript": ("TorchScript", ".torchscript.pt"),
    "onnx": ("ONNX", ".onnx"),
    "hf": ("Hugging Face folder", "-hf"),  # a folder: config, safetensors weights, tokenizer
    "peft": ("PEFT LoRA adapter folder", "-lora"),  # adapter_config.json, adapter weights
}
REQUIRES = {"safetensors": ("safetensors",), "onnx": ("onnx", "onnxscript"),
            "hf": ("transformers", "safetensors"), "peft": ("transformers", "peft")}
EXTRA = {"hf": "llm", "peft": "llm"}  # the pip extra bringing a format's packages, when not "export"
CHECK_SAMPLES = 64
# A language model's outputs are scores for every token of its vocabulary at every
# position (64 examples of 512 tokens of a 150,000-token vocabulary would be 20 GB).
LANGUAGE_MODEL_CHECK_SAMPLES = 8
ABS_TOLERANCE = 1e-4
REL_TOLERANCE = 1e-4


# A QLoRA run trained its adapters over a 4-bit base; load_run rebuilds the base at full
# precision from [model] source and merges the adapters into it, which is what every format
# exports (peft: the adapters alone, for that full-precision base).
QLORA_NOTE = ("QLoRA run: the base model was loaded at full precision from its source and "
              "the trained LoRA adapters merged into it (or, for peft, saved for it); "
              "training saw the base in 4 bits (NF4), so outputs differ slightly from "
              "training's validation")


class ExportCheckFailed(ExportFailed):
    """The exported model does not reproduce the trained model's outputs (exit code 1)."""


@dataclass
class ExportResult:
    path: Path
    preprocessing_path: Path
    format: str
    checkpoint: str
    epoch: int | None
    samples: int  # validation samples the check ran on
    max_abs_diff: float  # largest difference between the exported and the trained outputs
    tolerance: float  # allowed: ABS_TOLERANCE + REL_TOLERANCE * the largest output
    runtime: str  # what ran the exported file for the check

    @property
    def matches(self) -> bool:
        return self.max_abs_diff <= self.tolerance

    def describe(self) -> str:
        verdict = "match" if self.matches else "DO NOT match"
        return (f"checked with {self.runtime} on {self.samples} validation samples: outputs "
                f"{verdict} the trained model (max abs difference {self.max_abs_diff:.3g}, "
                f"tolerance {self.tolerance:.3g})")


def missing_packages(fmt: str) -> list[str]:
    """The optional packages format `fmt` needs that are not installed."""
    return [name for name in REQUIRES.get(fmt, ()) if importlib.util.find_spec(name) is None]


def available_formats() -> dict[str, str]:
    """Each format's name with "" when it can be used, else why not (for the dialog)."""
    return {fmt: (f"needs {' and '.join(missing)}: pip install "
                  f"'traindesk[{EXTRA.get(fmt, 'export')}]'"
                  if (missing := missing_packages(fmt)) else "") for fmt in FORMATS}


def default_export_path(run_dir: Path, fmt: str, checkpoint: str = "best") -> Path:
    """`<run>/exports/<run folder>-<checkpoint><ending>`."""
    run_dir = Path(run_dir)
    return run_dir / "exports" / f"{run_dir.name}-{checkpoint}{FORMATS[fmt][1]}"


def preprocessing_path_for(path: Path, fmt: str) -> Path:
    """model.onnx -> model.preprocessing.json (beside the exported file)."""
    ending = FORMATS[fmt][1]
    name = path.name[:-len(ending)] if path.name.endswith(ending) else path.stem
    return path.with_name(f"{name}.preprocessing.json")


def export_model(run_dir: Path, fmt: str, checkpoint: str = "best",
                 out: Path | None = None) -> ExportResult:
    """Export the run's `checkpoint` in format `fmt` to `out` (default: the run's exports
    folder), write the preprocessing JSON beside it, and check the export's outputs against
    the trained model on validation samples. BadInput for a bad run, checkpoint, format or
    missing package; ExportFailed when the exporter cannot handle the model, and its kind
    ExportCheckFailed when the outputs differ (the files are kept, and the JSON says so)."""
    import torch

    from core.inference.evaluation import load_run

    if fmt not in FORMATS:
        raise BadInput(f"format {fmt!r}: choose one of {', '.join(FORMATS)}")
    missing = missing_packages(fmt)
    if missing:
        raise BadInput(f"{FORMATS[fmt][0]} export needs the {' and '.join(missing)} "
                       f"package{'s' if len(missing) > 1 else ''}; install them with "
                       f"pip install 'traindesk[{EXTRA.get(fmt, 'export')}]'")
    for written in ((Path(out), preprocessing_path_for(Path(out), fmt)) if out else ()):
        if RunFolder(Path(run_dir)).holds(written):  # checked before anything is loaded
            raise BadInput(f"--out {out} would overwrite the run's own file {written.name}, "
                           "and the run could no longer be resumed or evaluated; choose "
                           f"another --out, e.g. {default_export_path(run_dir, fmt, checkpoint)}")
    loaded = load_run(run_dir, checkpoint)
    path = Path(out) if out is not None else default_export_path(loaded.run_dir, fmt, checkpoint)
    if path.is_dir() and not (fmt in FOLDER_FORMATS and _replaceable_folder(path)):
        raise BadInput(f"--out {path} is a folder; give a file name, e.g. "
                       f"{path / ('model' + FORMATS[fmt][1])}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"cannot create {path.parent} ({exc.strerror}); choose another --out") \
            from None
    model = loaded.model.cpu().eval()
    data = loaded.data
    samples = LANGUAGE_MODEL_CHECK_SAMPLES if loaded.task == "language_modeling" \
        else CHECK_SAMPLES
    x = data.prepare(data.val_x[:samples], False).cpu()
    with torch.no_grad():
        reference = model(x).float()
    graph_model, graph_x = _with_audio_features(data, model, x, fmt)
    try:
        runtime, exported = EXPORTERS[fmt](loaded, graph_model, graph_x, path)
    except (BadInput, ExportFailed):
        raise
    except OSError as exc:
        raise BadInput(f"cannot write {path} ({exc.strerror or exc}); choose another --out") \
            from None
    except Exception as exc:  # the exporter could not handle this model
        line = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise ExportFailed(f"{FORMATS[fmt][0]} export of {loaded.config.model.name} failed "
                             f"({type(exc).__name__}: {line}); try another format") from None
    exported = torch.as_tensor(exported).float()
    difference = (exported - reference).abs().max().item() if reference.numel() else 0.0
    if exported.shape != reference.shape:
        difference = float("inf")
    tolerance = ABS_TOLERANCE + REL_TOLERANCE * (reference.abs().max().item()
                                                 if reference.numel() else 0.0)
    result = ExportResult(path, preprocessing_path_for(path, fmt), fmt,
                          str(loaded.checkpoint.name), loaded.epoch, len(x), difference,
                          tolerance, runtime)
    write_json_atomic(result.preprocessing_path,
                      _description(loaded, result, reference.shape[1],
                                   raw_samples=graph_x is not x))
    if not result.matches:
        raise ExportCheckFailed(f"the exported model at {path} does not reproduce the trained "
                                f"model: {result.describe()}; do not use it, try another "
                                "format")
    return result


def _with_audio_features(data, model, x, fmt: str):
    """(model, check inputs) to export: for an audio run in a graph format (TorchScript,
    ONNX) the feature computation goes inside, so the exported file takes raw samples."""
    if data.kind != "audio" or fmt not in GRAPH_FORMATS:
        return model, x
    import torch

    from core.data.audio_features import INT16_SCALE

    features = data.batch_transform.module_on("cpu")
    samples = data.val_x[:len(x)].float().cpu() / INT16_SCALE
    return torch.nn.Sequential(features, model).eval(), samples


def _description(loaded, result: ExportResult, width: int, raw_samples: bool = False) -> dict:
    """The JSON beside an export; `width` is the number of model outputs; `raw_samples`
    when an audio model's features are inside the exported graph."""
    pre = dict(loaded.preprocessing)
    task = pre["task"]
    if task == "language_modeling":
        outputs = ("next-token scores (logits) [N, tokens, vocabulary]; generate responses "
                   "with transformers' generate from a prompt in the tokenizer's chat template"
                   if pre.get("prompt_format") == "chat_template" else
                   "next-token scores (logits) [N, tokens, vocabulary]; generate responses with "
                   "transformers' generate from the prompt followed by a new line")
    elif task == "regression":
        outputs = "one value per sample: prediction = output * target_std + target_mean"
    elif width == 1:
        outputs = "one logit per sample: sigmoid(output) is the probability of class_names[1]"
    else:
        outputs = "one score (logit) per class in class_names order; softmax gives probabilities"
    return {
        "file": result.path.name,
        "format": result.format,
        "checkpoint": result.checkpoint,
        "epoch": result.epoch,
        "input": (f"texts, through the folder's own tokenizer (truncation at "
                  f"{pre['max_length']} tokens) into input_ids and attention_mask"
                  if pre["kind"] == "hf_tokens" else
                  f"a float32 batch of raw samples [N, {pre['audio']['samples']}] in -1..1: "
                  f"mono at {pre['audio']['sample_rate']} Hz, cut or zero-padded to "
                  f"{pre['audio']['duration']:g} s (peak-normalised when "
                  "audio.normalize_level); the features are computed inside the model"
                  if raw_samples else
                  "a float32 batch of shape [N, " + ", ".join(map(str, pre["input_shape"]))
                  + "]" + (" (int64 token ids)" if pre["kind"] == "tokens" else "")),
        "outputs": outputs,
        **pre,
        "check": {"samples": result.samples, "max_abs_diff": result.max_abs_diff,
                  "tolerance": result.tolerance, "matches": result.matches,
                  "runtime": result.runtime},
        "run": str(loaded.run_dir),
        **({"notes": [QLORA_NOTE]} if loaded.config.finetune.qlora else {}),
    }


# ---------------------------------------------------------------- one function a format


def _plain_model(loaded):
    """A fresh model of the run's architecture without adapters (as a user builds it)."""
    from core.models.build import build_model
    from core.models.builders import without_start_weights

    config = loaded.config
    params = without_start_weights(config.model.name, config.model.params)
    model, _ = build_model(config.model.name, params, loaded.data, config.loss.name)
    return model.eval()


def _state_dict(model) -> dict:
    return {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}


def _export_pt(loaded, model, x, path: Path):
    import torch

    state = _state_dict(model)
    write_atomic(path, lambda f: torch.save(state, f), binary=True)
    fresh = _plain_model(loaded)
    fresh.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    with torch.no_grad():
        return "torch.load(weights_only=True) into a fresh model", fresh(x)


def _export_safetensors(loaded, model, x, path: Path):
    import torch
    from safetensors.torch import load_file, save_file

    # safetensors refuses tensors that share memory (tied weights): save copies
    state = {k: v.clone() for k, v in _state_dict(model).items()}
    with _replaced_atomically(path) as temporary:
        save_file(state, str(temporary), metadata={"format": "pt"})
    fresh = _plain_model(loaded)
    fresh.load_state_dict(load_file(str(path)))
    with torch.no_grad():
        return "safetensors.torch.load_file into a fresh model", fresh(x)


def _export_torchscript(loaded, model, x, path: Path):
    import torch

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer and deprecation notes; the check decides
        # Traced on two samples, checked on all: a batch size baked in would show.
        traced = torch.jit.trace(model, x[:2], check_trace=False)
        with _replaced_atomically(path) as temporary:
            torch.jit.save(traced, str(temporary))
        reloaded = torch.jit.load(str(path), map_location="cpu")
        return "torch.jit.load", reloaded(x)


def _export_onnx(loaded, model, x, path: Path):
    import torch

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        with _replaced_atomically(path) as temporary:
            torch.onnx.export(model, (x[:2],), str(temporary), input_names=["input"],
                              output_names=["output"], dynamo=True, external_data=False,
                              dynamic_shapes=({0: torch.export.Dim.AUTO},), verbose=False)
    return _run_onnx(path, x.numpy())


def _run_onnx(path: Path, x):
    """Run an ONNX file with onnxruntime, or without it with onnx's reference evaluator."""
    if importlib.util.find_spec("onnxruntime") is not None:
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return "onnxruntime", session.run(None, {name: x})[0]
    import onnx
    from onnx.reference import ReferenceEvaluator

    evaluator = ReferenceEvaluator(onnx.load(str(path)))
    name = evaluator.input_names[0]
    return "onnx.reference", evaluator.run(None, {name: x})[0]


def _export_hf(loaded, model, x, path: Path):
    """The model as a Hugging Face folder (save_pretrained: config.json with the class
    names, model.safetensors, the tokenizer), loaded back with transformers' Auto class."""
    import torch

    from core.catalog import MODELS
    from core.data.text import NO_TOKEN
    from core.models.hf import load_tokenizer, model_folder, pad_id_of

    auto_class = MODELS.get(loaded.config.model.name, "model").extra.get("auto_class")
    if auto_class is None:
        raise BadInput(f"the hf format is for Hugging Face language models (hf_classifier, "
                       f"hf_causal_lm); "
                       f"export {loaded.config.model.name} as torchscript, onnx, safetensors "
                       "or pt")
    import transformers

    tokenizer = load_tokenizer(model_folder(loaded.preprocessing["hf_source"]))
    # For a QLoRA run `model` is its base loaded at full precision (the folder's dtype, bf16
    # or float32) with the adapters merged in by load_run: a 4-bit weight cannot take the
    # update, and a merged folder is what users load without bitsandbytes (QLORA_NOTE).
    with _folder_replaced_atomically(path) as temporary:
        model.save_pretrained(str(temporary), safe_serialization=True)
        tokenizer.save_pretrained(str(temporary))
    fresh = getattr(transformers, auto_class).from_pretrained(str(path)).eval()
    mask = x.ne(NO_TOKEN)
    with torch.no_grad():
        outputs = fresh(input_ids=x.masked_fill(~mask, pad_id_of(tokenizer)),
                        attention_mask=mask.long())
    return f"transformers.{auto_class}.from_pretrained", outputs.logits


def _export_peft(loaded, model, x, path: Path):
    """A LoRA run's adapters, and the layers it trained beside them (train_only, as PEFT's
    modules_to_save), in PEFT's format, written by peft itself; loaded back over the
    pretrained model with PeftModel.from_pretrained, as a user without TrainDesk would."""
    import torch
    import transformers
    from peft import LoraConfig, PeftModel, get_peft_model

    from core.catalog import MODELS
    from core.data.text import NO_TOKEN
    from core.models.hf import load_tokenizer, model_folder, pad_id_of

    finetune = loaded.config.finetune
    auto_class = MODELS.get(loaded.config.model.name, "model").extra.get("auto_class")
    if auto_class is None or not finetune.lora_targets:
        raise BadInput("the peft format is for LoRA runs of a Hugging Face language model "
                       "(hf_classifier or hf_causal_lm with [finetune] lora_targets); export "
                       "this run as hf")
    if not finetune.train_only and not _only_adapters_trained(loaded):
        raise BadInput("a PEFT adapter holds the LoRA adapters and the layers named in "
                       "[finetune] train_only; this run trained every layer beside its "
                       "adapters, so export it as hf (the merged model)")
    source = loaded.preprocessing["hf_source"]
    folder = model_folder(source)
    pad_id = pad_id_of(load_tokenizer(folder))
    names = loaded.class_names
    labels = {} if loaded.task == "language_modeling" else dict(
        num_labels=len(names), pad_token_id=pad_id, id2label=dict(enumerate(names)),
        label2id={n: i for i, n in enumerate(names)})

    def pretrained():  # the model as a user loads it before adding the adapter
        return getattr(transformers, auto_class).from_pretrained(
            str(folder), use_safetensors=True, **labels)

    trained = torch.load(loaded.checkpoint, map_location="cpu", weights_only=True)["model"]
    settings = LoraConfig(r=finetune.lora_rank, lora_alpha=finetune.lora_alpha,
                          lora_dropout=finetune.lora_dropout, use_rslora=finetune.lora_rslora,
                          target_modules=list(finetune.lora_targets),
                          modules_to_save=list(finetune.train_only), bias="none")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # peft on transformers 5 renames
        adapted = get_peft_model(pretrained(), settings)
    with torch.no_grad():
        for name, parameter in adapted.named_parameters():
            key = (name.removeprefix("base_model.model.").replace(".modules_to_save.default.", ".")
                   .replace(".lora_A.default.weight", ".lora_A")
                   .replace(".lora_B.default.weight", ".lora_B"))
            if key in trained and not name.endswith(("base_layer.weight", "base_layer.bias")) \
                    and (".lora_" in name or ".modules_to_save." in name):
                parameter.copy_(trained[key])
    adapted.peft_config["default"].base_model_name_or_path = source
    with _folder_replaced_atomically(path) as temporary, warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        adapted.save_pretrained(str(temporary))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        reloaded = PeftModel.from_pretrained(pretrained(), str(path)).eval()
    mask = x.ne(NO_TOKEN)
    with torch.no_grad():
        outputs = reloaded(input_ids=x.masked_fill(~mask, pad_id), attention_mask=mask.long())
    return f"peft.PeftModel.from_pretrained over transformers.{auto_class}", outputs.logits


def _only_adapters_trained(loaded) -> bool:
    """Whether [finetune] freeze left nothing but the LoRA adapters to train (every
    parameter of the model without adapters frozen, or inside an adapted layer)."""
    from core.finetune.names import under_prefix

    finetune = loaded.config.finetune
    # the loaded model is merged: it has the parameter names of the model without adapters
    return all(any(under_prefix(name, prefix) for prefix in
                   [*finetune.freeze, *finetune.lora_targets])
               for name, _ in loaded.model.named_parameters())


# One function a format: (loaded run, model, check inputs, path) -> (what ran the exported
# file, its outputs on the check inputs). A new format is a function here and a FORMATS row.
GRAPH_FORMATS = ("torchscript", "onnx")  # formats that carry computation, not only weights
EXPORTERS = {"pt": _export_pt, "safetensors": _export_safetensors,
             "torchscript": _export_torchscript, "onnx": _export_onnx, "hf": _export_hf,
             "peft": _export_peft}
FOLDER_FORMATS = ("hf", "peft")  # formats written as a folder, not a file


@contextlib.contextmanager
def _replaced_atomically(path: Path):
    """A temporary path beside `path` for a library that writes files by name; renamed over
    `path` when the block succeeds, removed when it fails."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise



def _replaceable_folder(path: Path) -> bool:
    """Whether folder `path` may be replaced by a Hugging Face export: it is empty or an
    earlier one (it holds config.json or adapter_config.json); any other folder is the
    user's and is kept."""
    return not any(path.iterdir()) or any((path / name).is_file() for name in
                                          ("config.json", "adapter_config.json"))


@contextlib.contextmanager
def _folder_replaced_atomically(path: Path):
    """A temporary folder beside `path` to write into; when the block succeeds it takes
    `path`'s place (an earlier export there is removed after the swap), when it fails it is
    removed and `path` is left as it was."""
    temporary = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield temporary
        os.chmod(temporary, 0o755)
        old = None
        if path.exists():
            old = path.with_name(f"{temporary.name}.old")
            os.replace(path, old)
        os.replace(temporary, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
