"""keras-guideline-cookbook: the classic CNN training guidelines as Keras 3 code.

Import the building blocks (`cookbook.data`, `cookbook.models`, ...), run a guideline
as an experiment (`cookbook run relu`), or copy a recipe (`cookbook copy relu`).
"""

import os

# TensorFlow reads this once, at its first import; C++ INFO lines drown the output otherwise.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
