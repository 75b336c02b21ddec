"""QLoRA ([finetune] qlora): a Hugging Face model's Linear layers loaded in 4 bits (NF4)
with LoRA adapters trained over them.

QLoRA is meant for CUDA GPUs, and users without one are refused. bitsandbytes 0.50's 4-bit
layers also work on the CPU, so the real tests train here on tiny offline models with the
rule relaxed through `qlora.CPU_FOR_TESTS` (the `on_the_cpu` fixture);
they are skipped where bitsandbytes is not installed (the test extra brings it on Linux).
The CUDA path itself (bf16 kernels, device_map onto the GPU) needs a GPU to be checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core.cli import main
from core.config import RunConfig
from core.errors import BadInput
from core.finetune import qlora
from core.finetune.qlora import NF4_BYTES_PER_PARAM, qlora_problem
from core.inference.evaluation import load_run
from core.inference.export import QLORA_NOTE, export_model
from core.train.loop import train
from core.train.memory_estimate import estimate_memory
from hf_models import hf_config, lm_config, save_tiny_bert
from limits import HANG_S
from run_control import StopAfter

LLAMA_TARGETS = "finetune.lora_targets=['model.layers.0.self_attn.q_proj', " \
                "'model.layers.1.self_attn.v_proj']"
REPO = Path(__file__).resolve().parents[1]
needs_bitsandbytes = pytest.mark.skipif(not qlora.bitsandbytes_installed(),
                                        reason="bitsandbytes is not installed")


def qlora_config(tiny_llama, animals, *overrides: str) -> RunConfig:
    return lm_config(tiny_llama, animals, "training.epochs=2", "finetune.qlora=true",
                     LLAMA_TARGETS, "finetune.train_only=['lm_head']", *overrides)


@pytest.fixture
def bitsandbytes_missing(monkeypatch):
    monkeypatch.setattr(qlora, "bitsandbytes_installed", lambda: False)


@pytest.fixture
def bitsandbytes_present(monkeypatch):
    monkeypatch.setattr(qlora, "bitsandbytes_installed", lambda: True)


@pytest.fixture
def on_the_cpu(monkeypatch):
    """QLoRA let train on the CPU, as it never is for users."""
    monkeypatch.setattr(qlora, "CPU_FOR_TESTS", True)


# ---------------------------------------------------------------- settings and refusals


def test_qlora_needs_lora_targets_and_a_hugging_face_model(tiny_llama, animals):
    with pytest.raises(BadInput, match=r"lora_targets is empty: tick layers"):
        lm_config(tiny_llama, animals, "finetune.qlora=true")
    with pytest.raises(BadInput, match=r"model simple_cnn is not one: pick hf_classifier or "
                                       r"hf_causal_lm"):
        RunConfig().with_overrides(["finetune.qlora=true", "finetune.lora_targets=['fc1']"])
    assert RunConfig().finetune.qlora is False


def test_the_reason_names_what_is_missing(bitsandbytes_missing, monkeypatch):
    assert "install it with `pip install bitsandbytes`" in qlora_problem("cuda", True)
    monkeypatch.setattr(sys, "frozen", True, raising=False)  # the installed app
    assert "this installed TrainDesk does not carry" in qlora_problem("cuda", True)
    # even where the CPU is allowed, the package must be there
    monkeypatch.setattr(qlora, "CPU_FOR_TESTS", True)
    assert "bitsandbytes" in qlora_problem("cpu", False)


def test_the_reason_names_the_device(bitsandbytes_present, monkeypatch):
    assert qlora_problem("cpu", False) == (
        'QLoRA needs a CUDA GPU and [training] device is cpu; choose device = "auto" or '
        '"cuda", or turn [finetune] qlora off for plain LoRA')
    assert "device is mps" in qlora_problem("mps", False)
    assert qlora_problem("auto", False).startswith("QLoRA needs a CUDA GPU and there is none here")
    assert qlora_problem("auto", True) == qlora_problem("cuda:0", True) == ""
    monkeypatch.setattr(qlora, "CPU_FOR_TESTS", True)
    assert qlora_problem("cpu", False) == ""


@pytest.mark.parametrize("missing", ["bitsandbytes", "cuda"])
def test_the_command_line_refuses_the_run_file_before_training(
        tmp_path, tiny_llama, animals, capsys, monkeypatch, missing):
    monkeypatch.setattr(qlora, "bitsandbytes_installed", lambda: missing != "bitsandbytes")
    run_file = tmp_path / "qlora.toml"
    run_file.write_text(qlora_config(tiny_llama, animals, "training.device='auto'").to_toml(),
                        encoding="utf-8")
    runs = tmp_path / "runs"
    assert main(["train", str(run_file), "--runs-dir", str(runs)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    if missing == "bitsandbytes":
        assert "pip install bitsandbytes" in err
    elif not torch.cuda.is_available():
        assert "QLoRA needs a CUDA GPU and there is none here" in err
    assert not runs.exists() or not any(runs.iterdir())  # refused before a folder was made


def test_the_quantisation_is_nf4_with_double_quantisation_and_bf16_compute():
    config = qlora.quantization_config(["score"])
    assert config.load_in_4bit and not config.load_in_8bit
    assert config.llm_int8_skip_modules == ["score"]  # the head stays at full precision
    assert config.bnb_4bit_quant_type == "nf4"
    assert config.bnb_4bit_use_double_quant
    assert config.bnb_4bit_compute_dtype == torch.bfloat16


def test_the_memory_estimate_counts_4bit_weights(tiny_llama, animals):
    from transformers import AutoModelForCausalLM

    plain = AutoModelForCausalLM.from_pretrained(str(tiny_llama))
    linear = sum(m.weight.numel() for name, m in plain.named_modules()
                 if type(m) is torch.nn.Linear and name != "lm_head")  # the head stays
    others = sum(p.numel() for p in plain.parameters()) - linear
    buffers = sum(b.numel() * b.element_size() for b in plain.buffers())
    config = qlora_config(tiny_llama, animals, "training.device='cpu'")
    estimate = estimate_memory(config)  # built at full precision, counted as 4-bit
    rank = config.finetune.lora_rank
    adapters = 2 * rank * (32 + 32)  # two adapted 32x32 projections
    expected = linear * NF4_BYTES_PER_PARAM + (others + adapters) * 4 + buffers
    assert estimate.weights == pytest.approx(expected, abs=2)
    lora = estimate_memory(qlora_config(tiny_llama, animals, "training.device='cpu'",
                                        "finetune.qlora=false"))
    assert estimate.weights < lora.weights
    assert estimate.gradients == lora.gradients  # the same adapters and head train


# ---------------------------------------------------------------- the window


def _panel(qtbot):
    from gui.run_setup import RunSetupPanel

    panel = RunSetupPanel()
    qtbot.addWidget(panel)
    return panel, panel.finetune_form.fields["qlora"]


def test_the_window_greys_qlora_without_bitsandbytes(qtbot, bitsandbytes_missing):
    panel, box = _panel(qtbot)
    panel.set_devices(["auto", "cpu", "cuda:0"])
    assert not box.isEnabled()
    assert "pip install bitsandbytes" in box.toolTip()


def test_the_window_offers_qlora_only_with_a_cuda_device(qtbot, bitsandbytes_present):
    panel, box = _panel(qtbot)
    assert not box.isEnabled() and box.toolTip() == "Looking for a CUDA GPU…"
    panel.set_devices(["auto", "cpu"])
    assert not box.isEnabled()
    assert box.toolTip().startswith("QLoRA needs a CUDA GPU and there is none here")
    panel.set_devices(["auto", "cpu", "cuda:0"])
    assert box.isEnabled() and "4 bits" in box.toolTip()
    panel.device_field.show_value("cpu")
    assert not box.isEnabled()
    assert "device is cpu" in box.toolTip()
    label = panel.finetune_form.layout().labelForField(box)
    assert not label.isEnabled() and label.toolTip() == box.toolTip()


def test_the_window_tells_without_importing_bitsandbytes():
    # bitsandbytes loads its CUDA libraries on import: seconds the window must not wait
    code = ("import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]); "
            "from gui.run_setup import RunSetupPanel; panel = RunSetupPanel(); "
            "panel.set_devices(['auto', 'cpu', 'cuda:0']); panel.qlora_problem(); "
            "print(sorted(m for m in ('bitsandbytes', 'torch') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, timeout=HANG_S,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


def test_a_run_file_with_qlora_stays_ticked_and_can_be_unticked(
        qtbot, bitsandbytes_present, tiny_llama, animals):
    panel, box = _panel(qtbot)
    panel.set_devices(["auto", "cpu"])
    panel.set_config(qlora_config(tiny_llama, animals))
    assert box.isChecked() and box.isEnabled()  # a greyed tick could not be taken off
    assert box.toolTip().startswith("QLoRA needs a CUDA GPU")
    box.setChecked(False)
    assert not box.isEnabled()
    assert panel.config().finetune.qlora is False


# ---------------------------------------------------------------- real 4-bit training


@needs_bitsandbytes
def test_qlora_trains_adapters_over_4bit_layers_and_saves_only_them(
        on_the_cpu, tmp_path, tiny_llama, animals):
    from core.train.build import build_run

    config = qlora_config(tiny_llama, animals)
    run = build_run(config)
    q_proj = run.model.model.layers[0].self_attn.q_proj
    assert type(q_proj.base).__name__ == "Linear4bit" and q_proj.base.weight.dtype == torch.uint8
    assert type(run.model.model.layers[0].mlp.up_proj).__name__ == "Linear4bit"
    assert {n for n, p in run.model.named_parameters() if p.requires_grad} == {
        "lm_head.weight", "model.layers.0.self_attn.q_proj.lora_A",
        "model.layers.0.self_attn.q_proj.lora_B", "model.layers.1.self_attn.v_proj.lora_A",
        "model.layers.1.self_attn.v_proj.lora_B"}

    summary = train(config, tmp_path / "runs")
    assert summary["status"] == "completed"
    assert any("in 4 bits (NF4, QLoRA)" in note for note in summary["data_notes"])
    checkpoints = Path(summary["run_dir"]) / "checkpoints"
    assert sorted(p.name for p in checkpoints.iterdir()) == ["best.pt", "last.pt"]  # no merged
    last = torch.load(checkpoints / "last.pt", weights_only=True)
    assert set(last["model"]) == {n for n, p in run.model.named_parameters() if p.requires_grad}
    assert last["model"]["model.layers.0.self_attn.q_proj.lora_B"].abs().sum() > 0  # learned
    # the trainer's estimate counts the 4-bit weights as loaded, quantisation constants in
    full = estimate_memory(qlora_config(tiny_llama, animals, "finetune.qlora=false"))
    assert summary["memory_estimate"]["weights"] < full.weights


@needs_bitsandbytes
def test_a_stopped_qlora_run_resumes_exactly(on_the_cpu, monkeypatch, tmp_path, tiny_llama,
                                             animals):
    config = qlora_config(tiny_llama, animals)
    whole = train(config, tmp_path / "whole")
    stopped = train(config, tmp_path / "parts", control=StopAfter(4))
    assert stopped["status"] == "stopped"
    monkeypatch.setattr(qlora, "CPU_FOR_TESTS", False)
    with pytest.raises(BadInput, match="QLoRA needs a CUDA GPU"):  # users need a GPU
        train(None, resume_dir=Path(stopped["run_dir"]))
    monkeypatch.setattr(qlora, "CPU_FOR_TESTS", True)
    resumed = train(None, resume_dir=Path(stopped["run_dir"]))
    assert resumed["status"] == "completed"
    for key in ("steps_completed", "best_val_loss", "final_val_loss"):
        assert resumed[key] == whole[key], key
    a = torch.load(Path(whole["run_dir"]) / "checkpoints" / "last.pt", weights_only=True)
    b = torch.load(Path(resumed["run_dir"]) / "checkpoints" / "last.pt", weights_only=True)
    assert a["model"].keys() == b["model"].keys()
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name


@needs_bitsandbytes
def test_a_qlora_run_exports_merged_into_the_full_precision_base(on_the_cpu, tmp_path,
                                                                tiny_llama, animals):
    summary = train(qlora_config(tiny_llama, animals), tmp_path / "runs")
    run_dir = Path(summary["run_dir"])
    loaded = load_run(run_dir)  # on the CPU, at full precision, the adapters merged
    merged = loaded.model.model.layers[0].self_attn.q_proj
    assert type(merged) is torch.nn.Linear and merged.weight.dtype == torch.float32
    from safetensors.torch import load_file

    base = load_file(tiny_llama / "model.safetensors")["model.layers.0.self_attn.q_proj.weight"]
    assert not torch.equal(merged.weight, base)  # the adapters' update is in it
    assert torch.equal(loaded.model.model.layers[0].self_attn.k_proj.weight,
                       load_file(tiny_llama / "model.safetensors")[
                           "model.layers.0.self_attn.k_proj.weight"])  # the rest is the base
    for fmt in ("hf", "peft"):
        result = export_model(run_dir, fmt)
        assert result.matches, result.describe()
        notes = json.loads(result.preprocessing_path.read_text(encoding="utf-8"))["notes"]
        assert notes == [QLORA_NOTE]
    adapter = json.loads((result.path / "adapter_config.json").read_text(encoding="utf-8"))
    assert sorted(adapter["target_modules"]) == ["model.layers.0.self_attn.q_proj",
                                                 "model.layers.1.self_attn.v_proj"]


@needs_bitsandbytes
def test_a_qlora_classifier_trains_its_new_head(on_the_cpu, tmp_path):
    source = save_tiny_bert(tmp_path / "bert")
    config = hf_config(source, "finetune.qlora=true", "training.epochs=1",
                       "finetune.lora_targets=['bert.encoder.layer.0.attention.self.query']")
    summary = train(config, tmp_path / "runs")
    last = torch.load(Path(summary["run_dir"]) / "checkpoints" / "last.pt", weights_only=True)
    # peft's preparation freezes everything; TrainDesk keeps the new head training
    assert {"classifier.weight", "classifier.bias"} <= set(last["model"])
    assert not any("value" in key or "dense" in key for key in last["model"])
    assert export_model(Path(summary["run_dir"]), "hf").matches


@needs_bitsandbytes
def test_gradual_unfreezing_never_unfreezes_4bit_layers(on_the_cpu, tmp_path, tiny_llama,
                                                       animals):
    config = qlora_config(tiny_llama, animals, "finetune.train_only=[]",
                          "finetune.freeze=['model']", "finetune.unfreeze_every=1")
    summary = train(config, tmp_path / "runs")
    assert summary["status"] == "completed"
    last = torch.load(Path(summary["run_dir"]) / "checkpoints" / "last.pt", weights_only=True)
    # the released block's norms and embeddings train; its 4-bit projections cannot
    assert "model.norm.weight" in last["model"]
    assert not any(key.endswith(("k_proj.weight", "up_proj.weight")) for key in last["model"])
