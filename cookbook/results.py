"""Writing results so that nothing is half-written, and recording where they came from."""

import json
import math
import os
import platform
import tempfile
from pathlib import Path

import numpy as np


def to_json_value(value):
    """Plain JSON types; NaN and infinity become None (JSON has neither)."""
    if hasattr(value, "to_json") and not isinstance(value, str):
        return to_json_value(value.to_json())
    if isinstance(value, dict):
        return {str(key): to_json_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_value(item) for item in value]
    if isinstance(value, np.ndarray):
        return to_json_value(value.tolist())
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (Path, str)):
        return str(value)  # a str subclass (a `Verdict`) too: plain, as JSON has it
    return value


def write_json_atomic(path, data):
    """Writes `data` as JSON so that `path` is either the old file or the whole new one."""
    write_text_atomic(path, json.dumps(to_json_value(data), indent=2, allow_nan=False) + "\n")


def write_text_atomic(path, text):
    """Writes `text` so that `path` is either the old file or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; results are to share
        with os.fdopen(descriptor, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def check_writable(folder):
    """Makes `folder` if needed and writes (and removes) a file in it; raises `OSError` if it cannot."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=folder):
        pass


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_json(path):
    with open(path) as file:
        return json.load(file)


def cpu_model():
    """The processor's name (Linux's /proc/cpuinfo), else what `platform` says."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            return next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def environment():
    """Versions and devices, so a result says what produced it."""
    import keras
    import tensorflow as tf
    import tensorflow_datasets as tfds

    import cookbook

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cookbook": cookbook.__version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "tensorflow_datasets": tfds.__version__,
        "numpy": np.__version__,
        "keras_backend": keras.backend.backend(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        # TensorFlow's oneDNN CPU kernels: on by default on x86, and their results can differ
        "tf_enable_onednn_opts": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset"),
        "devices": [{"name": device.name, "type": device.device_type} for device in tf.config.list_physical_devices()],
    }
