"""Benchmark: training on several processes (torchrun).

1. The per-step agreement (core.train.distributed.ProcessGroup.before_step): one
   all_reduce of two numbers on the CPU (Gloo) before every step, so every rank stops at
   the same step. Timed alone, over many calls, in N processes.
2. A run on 1 and on N processes with the same global batch (`traindesk train
   --nproc-per-node N`): samples per second of the training steps, from the runs'
   summaries, and the final validation accuracy. On a CUDA machine with N GPUs the same
   run file trains on them (device auto, NCCL); on the CPU it shows what the gradient
   all_reduce costs when the processes share the cores.

Usage: python -m benchmarks.distributed [--nproc N] [--model mlp] [--epochs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def agreement_us(calls: int = 2000) -> None:
    """In each torchrun worker: microseconds per agreement all_reduce (printed by rank 0)."""
    import torch
    import torch.distributed as dist

    dist.init_process_group("gloo")
    flags = torch.zeros(2)
    for _ in range(100):  # warm up the connections
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
    dist.barrier()
    start = time.perf_counter()
    for _ in range(calls):
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
    seconds = time.perf_counter() - start
    step_s = ddp_step_seconds()
    if dist.get_rank() == 0:
        print(json.dumps({"agreement_us": 1e6 * seconds / calls,
                          "ddp_step_us (mlp 784-256-128-10, 32 samples a rank)": 1e6 * step_s,
                          "agreement share of a step": seconds / calls / step_s}))
    dist.destroy_process_group()


def ddp_step_seconds(steps: int = 300) -> float:
    """Seconds per training step of digits' default mlp under DDP, each rank on its half
    of a global batch of 64: what the agreement adds to."""
    import torch
    from torch.nn.parallel import DistributedDataParallel

    torch.manual_seed(0)
    model = DistributedDataParallel(torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10)))
    optimizer = torch.optim.Adam(model.parameters())
    x, y = torch.randn(32, 784), torch.randint(0, 10, (32,))
    for warm in (True, False):
        start = time.perf_counter()
        for _ in range(30 if warm else steps):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    return (time.perf_counter() - start) / steps


def run_on(nproc: int, run_file: Path, runs: Path) -> dict:
    """summary.json of the run file trained on `nproc` processes."""
    args = [sys.executable, "-m", "core", "train", str(run_file), "--runs-dir", str(runs)]
    if nproc > 1:
        args += ["--nproc-per-node", str(nproc)]
    subprocess.run(args, cwd=REPO, check=True, capture_output=True, text=True)
    (folder,) = [p for p in runs.iterdir() if p.is_dir()]
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--data", default="digits")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--agreement", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.agreement:
        agreement_us()
        return
    agreement = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
         str(args.nproc), "-m", "benchmarks.distributed", "--agreement"], cwd=REPO,
        check=True, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    result = json.loads(agreement.stdout.strip().splitlines()[-1])
    with tempfile.TemporaryDirectory() as tmp:
        run_file = Path(tmp) / "run.toml"
        run_file.write_text(
            f'[model]\nname = "{args.model}"\n[data]\nname = "{args.data}"\n'
            f'[training]\nepochs = {args.epochs}\nbatch_size = {args.batch_size}\n'
            f'device = "{args.device}"\ntensorboard = false\n', encoding="utf-8")
        for nproc in (1, args.nproc):
            summary = run_on(nproc, run_file, Path(tmp) / f"runs{nproc}")
            result[f"{nproc} process(es)"] = {
                "samples_per_s": summary["samples_per_s"],
                "final_val_accuracy": summary.get("final_val_accuracy",
                                                  summary.get("final_val_metric")),
                "device": summary["device"]}
    result["setup"] = (f"{args.model} on {args.data}, global batch {args.batch_size}, "
                       f"{args.epochs} epochs, device {args.device}")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
