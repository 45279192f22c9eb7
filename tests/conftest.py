import os
import sys
from pathlib import Path

# Qt tests run without a display, here and in CI.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# One compute thread per test process (and the processes the tests start): the suite runs as
# one pytest worker per core, and torch's own threads on top of that oversubscribe the cores,
# where a small model's step waits on its threads (LeNet trained 15x slower with two threads per
# worker on a busy two-core machine). Results do not depend on it.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
import torch  # noqa: E402

torch.set_num_threads(1)
