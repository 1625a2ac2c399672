"""Where training runs: the device, the `tf.distribute` strategy, mixed precision and XLA.

One `Scale` is set up per process, before TensorFlow places anything, from the run's
options; recipes then run inside `scale.scope()` unchanged. Under
`MultiWorkerMirroredStrategy`, Keras 3's `model.fit` fails (keras-team/keras#20585), so
`scale.custom_loop` tells the harness to train with its own `strategy.run` loop instead.
"""

import json
import os

from cookbook.errors import CookbookError
from cookbook.harness.options import tf_config


class Scale:
    """The configured strategy and precision, with what the harness needs to know of them."""

    def __init__(self, options, strategy, policy):
        self.options = options
        self.strategy = strategy
        self.policy = policy

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
        }


_configured = {}


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
    split_cpu(tf, options.virtual_cpus)
    if options.device == "cpu" and gpus:
        tf.config.set_visible_devices([], "GPU")
    on_gpu = bool(gpus) and options.device != "cpu"
    strategy = make_strategy(tf, options, on_gpu)
    policy = None
    if options.mixed_precision:
        policy = "mixed_float16" if on_gpu else "mixed_bfloat16"
        keras.mixed_precision.set_global_policy(policy)
    scale = Scale(options, strategy, policy)
    _configured[options] = scale
    return scale


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
