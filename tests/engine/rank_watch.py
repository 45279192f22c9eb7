"""Run ``main.py`` as one torchrun rank, and say on stderr how many DistributedDataParallel
wrappers were still alive when the process group was destroyed. A wrapper that outlives its group
lets gloo's threads abort the process at exit now and then; counting it makes that cause visible
on every run rather than on the unlucky one."""

import gc
import runpy
import sys
from pathlib import Path

import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

destroy = dist.destroy_process_group


def counted_destroy(*args, **kwargs):
    alive = sum(isinstance(o, DistributedDataParallel) for o in gc.get_objects())
    print(f"wrappers alive when the group was destroyed: {alive}", file=sys.stderr, flush=True)
    return destroy(*args, **kwargs)


dist.destroy_process_group = counted_destroy
main = Path(__file__).resolve().parents[2] / "main.py"
sys.argv = [str(main), *sys.argv[1:]]
sys.path.insert(0, str(main.parent))
runpy.run_path(str(main), run_name="__main__")
