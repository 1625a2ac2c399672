"""Where training runs: the device, the `tf.distribute` strategy, mixed precision and XLA.

One `Scale` is set up per process, before TensorFlow places anything, from the run's
options; recipes then run inside `scale.scope()` unchanged. Under
`MultiWorkerMirroredStrategy`, Keras 3's `model.fit` fails (keras-team/keras#20585), so
`scale.custom_loop` tells the harness to train with its own `strategy.run` loop instead.
"""

import json
import os
import signal
import sys
import threading

from cookbook.errors import CookbookError
from cookbook.harness.environment import ONEDNN_VARIABLE
from cookbook.harness.options import tf_config


class Scale:
    """The configured strategy and precision, with what the harness needs to know of them."""

    def __init__(self, options, strategy, policy, keras_config=None):
        self.options = options
        self.strategy = strategy
        self.policy = policy
        self.keras_config = keras_config or {}  # the user's Keras settings this process overrode

    @property
    def custom_loop(self):
        return self.options.strategy == "multiworker"

    @property
    def is_chief(self):
        """Whether this process writes results (`ScaleOptions.is_chief`)."""
        return self.options.is_chief

    @property
    def deterministic_ops(self):
        """TensorFlow's deterministic ops, on but under --jit: Keras does not compile with XLA
        while they are on, so --jit trades them for the compiled step."""
        return self.options.jit is not True

    @property
    def replicas(self):
        """How many copies of the model train in sync (1 without a strategy)."""
        return self.strategy.num_replicas_in_sync if self.strategy is not None else 1

    def scope(self):
        import tensorflow as tf

        return self.strategy.scope() if self.strategy is not None else tf.distribute.get_strategy().scope()

    def describe(self):
        return {
            "device": self.options.device,
            "strategy": self.options.strategy,
            "replicas": self.replicas,
            "mixed_precision": self.policy,
            "jit": "auto" if self.options.jit is None else self.options.jit,
            "deterministic_ops": self.deterministic_ops,
            **({"keras_config_overridden": self.keras_config} if self.keras_config else {}),
        }


_configured = {}
ONEDNN_OFF_WHY = (
    "--strategy mirrored over {count} CPU devices (COOKBOOK_VIRTUAL_CPUS): TensorFlow's oneDNN CPU "
    "kernels are turned off for this run (TF_ENABLE_ONEDNN_OPTS=0); with them, TensorFlow 2.21 hands "
    "one replica's convolution another's input (\"input depth must be evenly divisible by filter depth\")."
)


def needs_onednn_off(options):
    """Whether `options` (`ScaleOptions`) run replicas on logical devices of one CPU: there oneDNN's
    kernels mix the replicas' tensors (seen on Intel and AMD CPUs, TensorFlow 2.21)."""
    return options.strategy == "mirrored" and options.virtual_cpus > 1


def before_tensorflow(options):
    """What must be set before TensorFlow is imported for `options`: returns the line to tell
    the user, or None. A `TF_ENABLE_ONEDNN_OPTS` the user set is left as it is, and so is the
    environment once TensorFlow is loaded (too late to matter: `setup` warns then)."""
    if needs_onednn_off(options) and ONEDNN_VARIABLE not in os.environ and "tensorflow" not in sys.modules:
        os.environ[ONEDNN_VARIABLE] = "0"
        return ONEDNN_OFF_WHY.format(count=options.virtual_cpus)
    return None


def setup(options):
    """Configures this process once for `options` and returns its `Scale`.

    TensorFlow fixes its devices at the first operation, so a process can be set up
    for one set of options only; asking again with the same options returns the
    same `Scale`, asking with other ones is an error.
    """
    import keras
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if options.device == "gpu" and not gpus:
        raise CookbookError(
            "--device gpu: TensorFlow sees no GPU on this machine. Install the GPU build with "
            '`pip install ".[gpu]"` on a machine with an NVIDIA driver, or use --device cpu/auto.'
        )
    if _configured:
        ((done, scale),) = _configured.items()
        if done != options:
            raise CookbookError(
                "This process is already set up for other --device/--strategy/--mixed-precision/"
                "--jit options; run them in a new process."
            )
        return scale
    if needs_onednn_off(options) and os.environ.get(ONEDNN_VARIABLE) != "0":
        print(
            f"Warning: {ONEDNN_OFF_WHY.format(count=options.virtual_cpus)} Set {ONEDNN_VARIABLE}=0 "
            "before TensorFlow is imported (the cookbook command does).",
            file=sys.stderr,
        )
    split_cpu(tf, options.virtual_cpus)
    if options.device == "cpu" and gpus:
        tf.config.set_visible_devices([], "GPU")
    on_gpu = bool(gpus) and options.device != "cpu"
    strategy = make_strategy(tf, options, on_gpu)
    if options.strategy == "multiworker":
        take_back_sigterm()
    policy = None
    if options.mixed_precision:
        policy = "mixed_float16" if on_gpu else "mixed_bfloat16"
        keras.mixed_precision.set_global_policy(policy)
    scale = Scale(options, strategy, policy, standard_keras_config(keras))
    _configured[options] = scale
    return scale


# What the recipes' data pipelines and models are written for; a keras.json may say otherwise.
KERAS_CONFIG = {"image_data_format": "channels_last", "floatx": "float32"}


def standard_keras_config(keras):
    """Sets `KERAS_CONFIG` for this process's runs; returns the user's values it replaced (with
    one line saying so), which the result records: `channels_first` from a keras.json changed
    every convolution's numbers with nothing in the result saying why."""
    replaced = {}
    for name, wanted in KERAS_CONFIG.items():
        current = getattr(keras.config, name)()
        if current != wanted:
            getattr(keras.config, f"set_{name}")(wanted)
            replaced[name] = current
    if replaced:
        print(
            "Your Keras config sets "
            + ", ".join(f"{name} {value}" for name, value in replaced.items())
            + "; these runs use "
            + ", ".join(f"{name} {KERAS_CONFIG[name]}" for name in replaced)
            + ", as the recipes' data and models assume (result.json records it).",
            flush=True,
        )
    return replaced


def take_back_sigterm():
    """Puts Python's SIGTERM handler (the cookbook's stop, or Python's default) back in place.

    Creating a multiworker strategy starts TensorFlow's coordination service, whose preemption
    notifier (for `tf.distribute.experimental.PreemptionCheckpointHandler`, which the cookbook
    does not use) installs a SIGTERM handler of its own in C++: a scheduler's SIGTERM was then
    recorded there and the run trained on to the end. Setting the handler Python still reports
    installs Python's own C handler again. Only the main thread can."""
    if threading.current_thread() is threading.main_thread():
        handler = signal.getsignal(signal.SIGTERM)
        if handler is not None:
            signal.signal(signal.SIGTERM, handler)


def split_cpu(tf, count):
    if count > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)


def make_strategy(tf, options, on_gpu):
    if options.strategy == "none":
        return None
    if options.strategy == "mirrored":
        kind = "GPU" if on_gpu else "CPU"
        return tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices(kind)])
    if options.workers is not None:
        os.environ["TF_CONFIG"] = json.dumps(tf_config(options.workers, options.worker_index))
    if "TF_CONFIG" not in os.environ:
        raise CookbookError(
            "--strategy multiworker needs the cluster: set TF_CONFIG, or pass --workers "
            "host:port,host:port and --worker-index."
        )
    return tf.distribute.MultiWorkerMirroredStrategy()


def available():
    """What `cookbook info` reports: devices, what `auto` picks, XLA and mixed precision."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return {
        "--device auto": f"{len(gpus)} GPU(s)" if gpus else "cpu (no GPU seen)",
        "--strategy": (
            f"mirrored would use {len(gpus)} GPUs"
            if len(gpus) > 1
            else "none (mirrored needs several devices; multiworker, several machines)"
        ),
        "--jit (XLA)": "available" if tf.test.is_built_with_xla() else "not in this TensorFlow build",
        "--mixed-precision": "mixed_float16 on the GPU" if gpus else "mixed_bfloat16 on the CPU",
    }
