"""The environment variables the cookbook's libraries read, checked before any work starts.

The cookbook's own (`COOKBOOK_VERBOSE`, `COOKBOOK_VIRTUAL_CPUS`, `TF_CONFIG`) are read by
`cookbook.harness.options`. These are the libraries': a value TensorFlow, Keras or
matplotlib would reject (with a traceback, a fatal C++ line, or silently a default) is one
`CookbookError` here instead, before TensorFlow loads. Nothing is read at import time.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from cookbook.errors import CookbookError

ONEDNN_VARIABLE = "TF_ENABLE_ONEDNN_OPTS"
BOOLEAN_VALUES = ("0", "1", "true", "false")  # what TensorFlow's boolean variables accept, any case
GPU_GROWTH_VARIABLE = "TF_FORCE_GPU_ALLOW_GROWTH"  # exactly "true" or "false" for TensorFlow
KERAS_BACKENDS = ("tensorflow", "jax", "torch", "numpy", "openvino")
# Parsed when TensorFlow loads (TF_XLA_FLAGS) or compiles its first XLA step (XLA_FLAGS): an
# unknown flag ends the process from C++, with a line the quiet start-up would hide.
XLA_FLAG_VARIABLES = ("TF_XLA_FLAGS", "XLA_FLAGS")
XLA_PROBE = "import tensorflow as tf; tf.function(lambda x: x + 1, jit_compile=True)(tf.constant(1.0))"


def check_library_variables(environ=None):
    """Checks what needs no library loaded: oneDNN, GPU memory growth, the Keras backend
    (from `KERAS_BACKEND` or keras.json) and matplotlib's backend."""
    environ = os.environ if environ is None else environ
    onednn = environ.get(ONEDNN_VARIABLE)
    if onednn is not None and onednn.lower() not in BOOLEAN_VALUES:
        raise CookbookError(f"{ONEDNN_VARIABLE} must be 0 or 1 (false or true), got {onednn!r}.")
    growth = environ.get(GPU_GROWTH_VARIABLE)
    if growth is not None and growth not in ("true", "false"):
        raise CookbookError(f"{GPU_GROWTH_VARIABLE} must be true or false, got {growth!r}.")
    keras_backend(environ)
    if environ.get("MPLBACKEND"):
        _check_matplotlib_backend(environ["MPLBACKEND"])


def keras_config_path(environ=None):
    """Where Keras reads keras.json: `KERAS_HOME`, else `~/.keras` (`/tmp/.keras` where home
    is not writable), as `keras.src.backend.config` finds it."""
    environ = os.environ if environ is None else environ
    if environ.get("KERAS_HOME"):
        return Path(environ["KERAS_HOME"]) / "keras.json"
    home = Path(os.path.expanduser("~"))
    return (home if os.access(home, os.W_OK) else Path("/tmp")) / ".keras" / "keras.json"


def keras_backend(environ=None):
    """`(backend, where it was set)` that Keras would load, checked against Keras's backends:
    `KERAS_BACKEND`, else keras.json's `"backend"` (a keras.json Keras cannot parse it
    ignores, and so does this), else `("tensorflow", None)`."""
    environ = os.environ if environ is None else environ
    name, where = environ.get("KERAS_BACKEND"), "KERAS_BACKEND"
    if name is None:
        path = keras_config_path(environ)
        try:
            config = json.loads(path.read_text())
        except (OSError, ValueError):
            config = {}
        name, where = (config.get("backend"), str(path)) if isinstance(config, dict) else (None, None)
    if name is None:
        return "tensorflow", None
    if name not in KERAS_BACKENDS:
        raise CookbookError(f"{where} names the Keras backend {name!r}; Keras has {', '.join(KERAS_BACKENDS)}.")
    return name, where


def use_tensorflow_backend(environ=None):
    """Makes Keras load its tensorflow backend in this process and the ones it starts (the
    harness needs `tf.data` and `tf.distribute`); returns the line telling the user that it
    did, or None where Keras would load it anyway."""
    environ = os.environ if environ is None else environ
    name, where = keras_backend(environ)
    if name == "tensorflow":
        return None
    if "keras" in sys.modules:
        raise CookbookError(
            f"Keras is loaded already, with its {name} backend ({where}); the cookbook runs need "
            "its tensorflow backend: set KERAS_BACKEND=tensorflow before Keras is imported."
        )
    environ["KERAS_BACKEND"] = "tensorflow"
    return f"Keras is set to {name} ({where}); these runs need TensorFlow, so they use Keras's tensorflow backend."


def check_xla_flags(environ=None):
    """`TF_XLA_FLAGS` and `XLA_FLAGS`, when set, tried in a child process that loads
    TensorFlow and compiles one XLA step: seconds, and only when one of them is set."""
    environ = os.environ if environ is None else environ
    set_here = tuple((name, environ[name]) for name in XLA_FLAG_VARIABLES if environ.get(name))
    if set_here and set_here not in _xla_flags_checked:
        _probe_xla_flags(environ, [name for name, _ in set_here])
        _xla_flags_checked.add(set_here)


_xla_flags_checked = set()  # the values this process has tried already


def _probe_xla_flags(environ, set_here):
    probe = subprocess.run(
        [sys.executable, "-c", XLA_PROBE],
        env={**environ, "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow"},
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        fatal = [line.split("] ", 1)[-1] for line in probe.stderr.splitlines() if line[:1] in "FE" and "] " in line]
        why = fatal[-1] if fatal else f"exit status {probe.returncode}"
        raise CookbookError(f"TensorFlow does not start with {' and '.join(set_here)} as set here: {why}.")


def _check_matplotlib_backend(name):
    try:
        import matplotlib  # noqa: F401  (it validates MPLBACKEND as it loads)
    except ValueError:
        raise CookbookError(
            f"MPLBACKEND names no matplotlib backend ({name!r}); the cookbook draws PNG files "
            "without it: unset it, or set it to agg."
        ) from None
