import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import torch

# Small models on a shared 2-core machine run faster, and more predictably, on one thread.
torch.set_num_threads(1)
