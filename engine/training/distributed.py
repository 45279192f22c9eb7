"""Running the same training under ``torchrun``: one process per device, gradients averaged by
DistributedDataParallel, each rank on its shard of every epoch, metrics summed across ranks."""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class Distributed:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_environment(cls) -> Distributed:
        """Join the process group that torchrun describes in the environment, if any."""
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world <= 1:
            return cls()
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if not dist.is_initialized():
            backend = "nccl" if torch.cuda.is_available() else "gloo"
            if backend == "nccl":      # each process on its own GPU from its first collective on
                torch.cuda.set_device(local_rank)
            dist.init_process_group(backend=backend)
        return cls(dist.get_rank(), dist.get_world_size(), local_rank)

    def device_for(self, device: torch.device) -> torch.device:
        if self.active and device.type == "cuda":
            torch.cuda.set_device(self.local_rank)
            return torch.device("cuda", self.local_rank)
        return device

    def shard(self, indices: torch.Tensor, equal: bool) -> torch.Tensor:
        """This rank's part; with ``equal`` every rank gets the same count (DDP needs equal steps)."""
        if not self.active:
            return indices
        if equal:
            indices = indices[: len(indices) - len(indices) % self.world_size]
        return indices[self.rank::self.world_size]

    def first_failure(self, reason: str | None) -> tuple[int, str] | None:
        """Whether any process could not start, as (its rank, its reason), the lowest rank first;
        ``reason`` is this process's own, None if it is ready. Every process calls this once set
        up, so that none is left waiting in a collective for a process that has given up."""
        if not self.active:
            return None if reason is None else (self.rank, reason)
        reasons: list[str | None] = [None] * self.world_size
        dist.all_gather_object(reasons, reason)
        return next(((rank, r) for rank, r in enumerate(reasons) if r is not None), None)

    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.active:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def finish(self) -> None:
        """Leave the process group. The caller drops its DistributedDataParallel wrapper first:
        a wrapper still alive when the group is destroyed lets gloo's threads outlive it, and the
        process then aborts at exit ("terminate called without an active exception") about one
        run in six on a loaded machine. The wrapper sits in reference cycles, hence the collect."""
        if self.active and dist.is_initialized():
            gc.collect()
            dist.barrier()
            dist.destroy_process_group()
