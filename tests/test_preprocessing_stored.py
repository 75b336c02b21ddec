"""A run folder keeps its preprocessing (issue 16): preprocessing.json, written when the run
starts, holds the tokenizer's settings and vocabulary (and every dataset's description), so
Predict and export of a finished run work after the training file is gone; evaluation,
which scores the validation split, says it needs the data; old folders without the file
rebuild from the data as before."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from core.cli import main
from core.config import RunConfig
from core.errors import BadInput
from core.inference.evaluation import evaluate_run, load_run
from core.inference.export import export_model
from core.inference.predict import predict_values
from core.train.loop import train

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("text")
    csv = Path(shutil.copy(FIXTURES / "reviews_en.csv", folder / "reviews.csv"))
    config = RunConfig().with_overrides([
        "model.name=lstm", "data.name=text_csv", f"data.path={csv}",
        "data.text_column=text", "data.label_column=label", "training.epochs=2",
        "training.batch_size=16", "training.device=cpu"])
    return Path(train(config, runs_dir=folder / "runs")["run_dir"]), csv


def test_the_run_folder_holds_the_tokenizer_and_vocabulary(text_run):
    run_dir, _ = text_run
    stored = json.loads((run_dir / "preprocessing.json").read_text(encoding="utf-8"))
    assert stored["kind"] == "tokens" and stored["tokenizer"] and stored["vocabulary"]
    assert stored["max_length"] > 0 and stored["data_info"]["vocab_size"] > 0
    assert stored == {**load_run(run_dir).preprocessing, "data_info": stored["data_info"]}


def test_predict_and_export_work_after_the_csv_is_gone(text_run, tmp_path, capsys):
    run_dir, csv = text_run
    copy = Path(shutil.copytree(run_dir, tmp_path / run_dir.name))
    before = predict_values(load_run(copy), "a warm and funny film").top
    gone = csv.with_suffix(".gone")
    csv.rename(gone)
    try:
        loaded = load_run(copy)
        after = predict_values(loaded, "a warm and funny film").top
        assert [name for name, _ in after] == [name for name, _ in before]
        assert [p for _, p in after] == pytest.approx([p for _, p in before])
        assert main(["predict", str(copy), "--text", "a warm and funny film", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["label"] == before[0][0]
        result = export_model(copy, "torchscript", out=tmp_path / "model.pt")
        assert result.matches and result.path.is_file()
        with pytest.raises(BadInput, match="evaluation scores the run's validation split"):
            evaluate_run(loaded)
        # a folder from before preprocessing.json needs its data, as before
        (copy / "preprocessing.json").unlink()
        with pytest.raises(BadInput):
            load_run(copy)
    finally:
        gone.rename(csv)
    assert load_run(copy).preprocessing["vocabulary"]  # rebuilt from the data again
