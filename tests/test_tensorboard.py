"""TensorBoard-readable runs: every run writes event files in <run>/tensorboard/ that
TensorBoard's own reader (EventAccumulator) reads back, scalars and hyper-parameters; a
resumed run shows each step once; a failing writer never fails the run; a setting turns it
off."""

from __future__ import annotations

from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

from core.events import ListenerFailed
from core.runs import tensorboard
from core.runs.tensorboard import (EVENT_FILE_GLOB, frame, masked_crc32c, read_records,
                                   scalar_event)
from core.train.loop import train
from run_control import StopAfter, mlp_config


def read(folder: Path) -> EventAccumulator:
    accumulator = EventAccumulator(str(folder))
    accumulator.Reload()
    return accumulator


def steps(accumulator: EventAccumulator, tag: str) -> list[int]:
    return [event.step for event in accumulator.Scalars(tag)]


def hparams_records(folder: Path) -> dict[str, HParamsPluginData]:
    contents = read(folder).PluginTagToContent("hparams")
    return {tag: HParamsPluginData.FromString(content) for tag, content in contents.items()}


def test_a_run_writes_scalars_and_hparams_that_tensorboard_reads(tmp_path):
    summary = train(mlp_config("optimizer.lr=0.003"), runs_dir=tmp_path)
    logdir = Path(summary["run_dir"]) / "tensorboard"
    steps_done = summary["steps_completed"]  # 2 epochs of 12 steps

    trained = read(logdir / "train")
    assert steps(trained, "step_loss") == list(range(1, steps_done + 1))
    assert set(trained.Tags()["scalars"]) == {"step_loss", "step_accuracy", "step_lr",
                                              "epoch_loss", "epoch_accuracy", "epoch_lr"}
    assert trained.Scalars("step_lr")[0].value == pytest.approx(0.003)
    validated = read(logdir / "validation")
    assert steps(validated, "epoch_loss") == [12, 24]
    assert validated.Scalars("epoch_loss")[-1].value == pytest.approx(
        summary["final_val_loss"], rel=1e-6)
    assert {"epoch_macro_f1", "epoch_balanced_accuracy", "epoch_top_k_accuracy"} <= set(
        validated.Tags()["scalars"])  # the class scores of each validated epoch
    assert validated.Scalars("epoch_balanced_accuracy")[-1].value == pytest.approx(
        summary["final_val_balanced_accuracy"], rel=1e-5)
    assert read(logdir).Scalars("best_val_accuracy")[0].value == pytest.approx(
        summary["best_val_accuracy"], rel=1e-6)

    records = hparams_records(logdir)
    start = records["_hparams_/session_start_info"].session_start_info.hparams
    assert start["optimizer.lr"].number_value == pytest.approx(0.003)
    assert start["model.name"].string_value == "mlp"
    assert start["model.hidden_sizes"].string_value == "[32]"
    assert start["training.tensorboard"].bool_value is True
    assert records["_hparams_/session_end_info"].session_end_info.status == 1  # success


def test_the_setting_turns_it_off(tmp_path):
    summary = train(mlp_config("training.tensorboard=false"), runs_dir=tmp_path)
    assert not (Path(summary["run_dir"]) / "tensorboard").exists()


def test_a_resumed_run_writes_each_step_once(tmp_path):
    stopped = train(mlp_config("training.epochs=3"), runs_dir=tmp_path, control=StopAfter(15))
    assert stopped["status"] == "stopped" and stopped["steps_completed"] == 15
    logdir = Path(stopped["run_dir"]) / "tensorboard"
    # A killed process may have written steps after its last checkpoint, the last cut short
    events_file = next((logdir / "train").glob(EVENT_FILE_GLOB))
    with open(events_file, "ab") as f:
        for step in (16, 17):
            f.write(frame(scalar_event(step, 0.0, [("step_loss", 99.0)])))
        f.write(frame(scalar_event(18, 0.0, [("step_loss", 99.0)]))[:-5])
    resumed = train(mlp_config(), resume_dir=Path(stopped["run_dir"]))
    assert resumed["status"] == "completed" and resumed["steps_completed"] == 36

    trained = read(logdir / "train")
    assert steps(trained, "step_loss") == list(range(1, 37))
    assert 99.0 not in [event.value for event in trained.Scalars("step_loss")]
    assert steps(read(logdir / "validation"), "epoch_loss") == [12, 24, 36]
    assert len(list(logdir.rglob(EVENT_FILE_GLOB))) == 3  # written on in the same files
    records = hparams_records(logdir)
    assert records["_hparams_/session_start_info"].session_start_info.hparams[
        "model.name"].string_value == "mlp"
    assert records["_hparams_/session_end_info"].session_end_info.status == 1


def test_a_failing_writer_never_fails_the_run(tmp_path, monkeypatch):
    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tensorboard._EventFile, "scalars", full_disk)
    events: list = []
    summary = train(mlp_config(), runs_dir=tmp_path, listeners=[events.append])
    assert summary["status"] == "completed"
    failed = [e for e in events if isinstance(e, ListenerFailed)]
    assert len(failed) == 1 and "TensorBoardWriter" in failed[0].listener
    assert "No space left" in failed[0].error


def test_records_are_framed_with_the_masked_crc32c(tmp_path):
    # CRC-32C's check value (RFC 3720): 0xE3069283 for b"123456789", masked as TFRecord does
    crc = 0xE3069283
    assert masked_crc32c(b"123456789") == (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
    assert masked_crc32c(b"") == 0xA282EAD8  # the CRC of nothing is 0
    path = tmp_path / "events.out.tfevents.1"
    records = [b"", b"x" * 7, b"y" * 300]
    path.write_bytes(b"".join(frame(r) for r in records) + frame(b"cut short")[:-1])
    assert read_records(path) == records
