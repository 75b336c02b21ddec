"""Training on several processes (torchrun): which process this is, its share of each
batch, and the few things the processes must agree on.

`Alone` is the world of one process: every method is a no-op or returns its input, so the
loop's single-process path costs nothing more. `ProcessGroup` is a rank of a torchrun
launch (torch.distributed over Gloo on the CPU, NCCL for CUDA tensors):

- the sample order is the same on every rank (core.train.loop.epoch_order is a function of
  seed and epoch) and each rank trains on its slice of every global batch, so
  `[training] batch_size` is the global batch whatever the number of processes and a run
  resumes exactly on another number of them;
- DistributedDataParallel averages the gradients; each rank's loss is weighted by its share
  of the step's samples, so a step's gradient is that of the global batch's mean loss;
- the logged losses and hits are summed across ranks at each read-back, so metrics.csv
  holds the global batch's figures; validation runs whole on every rank (the same data and
  weights give the same figures, without a collective);
- rank 0 alone writes the run folder (FollowerFolder for the others) and holds its lock;
- before every step all ranks agree, in one all_reduce of two numbers on the CPU, whether
  to stop (a signal or Stop reached any of them) and whether to read the steps back, so
  they stop at the same step and no rank waits alone in a collective.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.control import RunControl, StopRequested
from core.errors import BadInput
from core.runs.folder import RunFolder

if TYPE_CHECKING:
    import numpy as np

    from core.train.readback import ReadBack

class Alone:
    """One process: the whole batch, nothing to reduce, nobody to wait for."""

    world_size = 1
    rank = 0
    is_main = True

    def shard(self, batches: list) -> tuple[list, float]:
        """(this rank's part of each batch of a step, the weight of its loss)."""
        return batches, 1.0

    def reduce_steps(self, losses: list[float], sums: np.ndarray, counts: list[int]
                     ) -> tuple[list[float], np.ndarray, list[int]]:
        """Steps' mean losses, metric sums and sample counts over all ranks."""
        return losses, sums, counts

    def before_step(self, control: RunControl, readback: ReadBack) -> None:
        """Between optimisation steps: wait while paused, stop when asked."""
        control.checkpoint(before_pause=readback.flush)

    def agree(self, flag: bool) -> bool:
        """True on every rank when `flag` is true on any."""
        return flag

    def wrap(self, model, config):
        """DistributedDataParallel around `model` for the training steps to call (None:
        they call the model itself)."""
        return None

    def main_folder(self, make) -> RunFolder:
        """The run folder `make()` creates or opens and locks, on rank 0; the same folder
        for writing nothing on the others. BadInput on every rank when rank 0's fails."""
        return make()

    def broadcast_model(self, model) -> None:
        """Give every rank rank 0's weights."""

    def share(self, value: Any) -> Any:
        """Rank 0's `value` on every rank."""
        return value

    def finish(self) -> None:
        """Wait until every rank has finished its run, before the group is left."""

    def close(self) -> None:
        """Leave the process group."""


class ProcessGroup(Alone):
    """This process as one rank of a torchrun launch (see the module's docstring)."""

    def __init__(self, rank: int, world_size: int, local_rank: int) -> None:
        self.rank, self.world_size, self.local_rank = rank, world_size, local_rank
        self.is_main = rank == 0

    def shard(self, batches: list) -> tuple[list, float]:
        # Contiguous slices: rank r takes the r-th of world_size near-equal parts; the
        # weight world_size * local / global makes DDP's mean of the ranks' gradients the
        # gradient of the global batch's mean loss, also when the parts are unequal.
        parts = [batch.tensor_split(self.world_size)[self.rank] for batch in batches]
        local, total = sum(len(p) for p in parts), sum(len(b) for b in batches)
        if not local:
            raise BadInput(f"a batch of {total} samples cannot be split across "
                           f"{self.world_size} processes; make [training] batch_size (and "
                           "the training samples left over for the last batch) at least "
                           "the number of processes")
        return parts, self.world_size * local / total

    def reduce_steps(self, losses, sums, counts):
        import numpy as np
        import torch
        import torch.distributed as dist

        steps = len(losses)
        counts_array = np.asarray(counts, dtype=np.float64)
        packed = np.concatenate([np.asarray(losses) * counts_array, counts_array,
                                 sums.reshape(-1)])
        tensor = torch.from_numpy(packed)
        dist.all_reduce(tensor)
        total = tensor.numpy()
        all_counts = total[steps:2 * steps]
        all_losses = total[:steps] / np.maximum(all_counts, 1)
        return (all_losses.tolist(), total[2 * steps:].reshape(sums.shape),
                [int(round(c)) for c in all_counts])

    def before_step(self, control, readback):
        import torch
        import torch.distributed as dist
        from core.train.readback import LOG_INTERVAL_S

        stop = float(control.stop_requested)  # no pause here: a launch pauses by SIGSTOP
        # Rank 0's clock alone decides when steps are read back (the read-back is collective)
        due = self.is_main and time.perf_counter() - readback.last_flush >= LOG_INTERVAL_S
        flags = torch.tensor([stop, float(due)])
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        stop_all, flush = flags.tolist()
        if flush:
            readback.flush()
        if stop_all:
            if not stop:
                control.interrupt()  # another rank was signalled: this run is interrupted
            raise StopRequested

    def agree(self, flag):
        import torch
        import torch.distributed as dist

        value = torch.tensor([float(flag)])
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def wrap(self, model, config):
        from torch.nn.parallel import DistributedDataParallel

        if not any(p.requires_grad for p in model.parameters()):
            return None  # nothing to train together; gradual unfreezing wraps it later
        first = next(model.parameters())
        device_ids = [first.device.index] if first.is_cuda else None
        return DistributedDataParallel(
            model, device_ids=device_ids,
            find_unused_parameters=needs_unused_parameter_search(config))

    def main_folder(self, make):
        outcome = None
        if self.is_main:
            try:
                folder = make()
                outcome = ("ok", str(folder.path))
            except BadInput as exc:
                outcome = ("bad", str(exc))
        state, value = self.share(outcome)
        if state == "bad":
            raise BadInput(value)
        return folder if self.is_main else FollowerFolder(Path(value))

    def broadcast_model(self, model):
        import torch.distributed as dist

        for tensor in model.state_dict().values():
            dist.broadcast(tensor, src=0)

    def share(self, value):
        import torch.distributed as dist

        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def finish(self):
        import torch.distributed as dist

        # A rank that tore its connections down while another was still writing its last
        # files and agreeing saw gloo abort (SIGABRT) once in CI; the group goes only
        # once all are done. Only after a run that ended normally on this rank: after a
        # failure the others may never come, and torchrun stops them.
        dist.barrier()

    def close(self):
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()


def from_environment() -> Alone:
    """ProcessGroup when this process is one of several started by torchrun (its
    environment says so), with the process group joined; Alone otherwise. On a CUDA
    machine the rank's GPU (LOCAL_RANK) becomes the current device, so device "auto" or
    "cuda" means it."""
    if int(os.environ.get("WORLD_SIZE", "1") or 1) <= 1 or "RANK" not in os.environ:
        return Alone()  # one process, under torchrun or not: nothing to share
    import torch
    import torch.distributed as dist

    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    backend = "gloo"
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank % torch.cuda.device_count())
        backend = "cpu:gloo,cuda:nccl"  # small agreements on the CPU, gradients by NCCL
    dist.init_process_group(backend=backend)
    return ProcessGroup(rank, world_size, local_rank)


def needs_unused_parameter_search(config) -> bool:
    """Whether DDP must look for trainable parameters a step leaves without a gradient:
    pretrained Hugging Face models, whose pooler or other heads a task may leave unused.
    Frozen layers need no search (DDP leaves out parameters that do not require a gradient,
    and gradual unfreezing wraps the model again), nor do LoRA adapters (all of them take
    part in every step); measured on simple_cnn with frozen layers and gradual unfreezing,
    and on an mlp with LoRA. The search costs a pass over the autograd graph every step."""
    return config.model.name.startswith("hf")


class FollowerFolder(RunFolder):
    """The run folder as ranks other than 0 hold it: they read it (a resumed run's config
    and checkpoint, on storage every machine sees) and write nothing; rank 0 writes."""

    def lock(self) -> None:
        pass

    def continue_metrics(self, step: int) -> None:
        pass

    def record(self, event) -> None:
        pass

    def flush_metrics(self) -> None:
        pass

    def write_summary(self, summary: dict) -> None:
        pass

    def write_preprocessing(self, description: dict) -> None:
        pass

    def write_error(self, error: str, details: str) -> None:
        pass

    def save_checkpoint(self, path: Path, state: dict) -> None:
        pass

    def discard(self) -> None:
        pass


def skip_final_flush(world: Alone) -> bool:
    """Whether the loop's last read-back must be skipped: on several processes while an
    error (not a stop) is being raised, since the read-back is a collective the other ranks
    are not in, and this rank would wait for them until the timeout."""
    if world.world_size == 1:
        return False
    error = sys.exc_info()[1]
    from core.train.failures import NonFiniteLoss

    return error is not None and not isinstance(error, (StopRequested, NonFiniteLoss))

