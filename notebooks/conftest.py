"""nbval runs these notebooks in a fresh kernel and compares the saved outputs.

Figures are shown by the notebook's inline backend, so a MPLBACKEND set in the caller's environment (Agg, say)
must not reach the kernel: it would stop the figures being displayed and the outputs would differ.
"""

import os

os.environ.pop("MPLBACKEND", None)
