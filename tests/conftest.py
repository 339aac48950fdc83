import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import torch

# Small models on a shared 2-core machine run faster, and more predictably, on one thread.
torch.set_num_threads(1)

# pytest-xdist's workers export the terminal's COLUMNS: the CLI would then wrap its tables at
# that width instead of the fixed width it uses for pipes, and tests reading its output would
# depend on how the suite was started.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)
