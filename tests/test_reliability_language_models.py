"""Hostile input against the language-model path (issue 20's second round): a damaged
Hugging Face model folder of every kind exits 2 with one line saying what is wrong and what
to do, and leaves no run folder; never a traceback or "training failed"."""

from __future__ import annotations

import pytest
from hf_models import hf_config, save_tiny_bert

from core.cli import main as cli_main


def _damage(folder, case: str) -> None:
    if case == "config_not_json":
        (folder / "config.json").write_text("{not json", encoding="utf-8")
    elif case == "config_is_a_folder":
        (folder / "config.json").unlink()
        (folder / "config.json").mkdir()
    elif case == "weights_not_safetensors":
        (folder / "model.safetensors").write_bytes(b"\0" * 100)
    elif case == "weights_cut_short":
        weights = folder / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    elif case == "tokenizer_not_json":
        (folder / "tokenizer.json").write_text("{garbage", encoding="utf-8")
        (folder / "vocab.txt").write_text("", encoding="utf-8")
    elif case == "no_tokenizer":
        (folder / "tokenizer.json").unlink()
        (folder / "vocab.txt").unlink()


CASES = {
    "config_not_json": "cannot read",
    "config_is_a_folder": "has no config.json",
    "weights_not_safetensors": "cannot load the model",
    "weights_cut_short": "cannot load the model",
    "tokenizer_not_json": "cannot read the tokenizer",
    "no_tokenizer": "has no tokenizer files",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_damaged_model_folder_is_one_error_line_and_no_run(tmp_path, capsys, case):
    folder = save_tiny_bert(tmp_path / "model")
    _damage(folder, case)
    runs = tmp_path / "runs"
    run_file = tmp_path / "run.toml"
    run_file.write_text(hf_config(folder).to_toml(), encoding="utf-8")
    capsys.readouterr()
    code = cli_main(["train", str(run_file), "--runs-dir", str(runs)])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert CASES[case] in lines[0] and str(folder) in lines[0], lines[0]
    assert "Traceback" not in err and "training failed" not in err
    assert not runs.exists() or not any(runs.iterdir())
