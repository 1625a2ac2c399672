"""Where training runs: the device, the `tf.distribute` strategy, mixed precision and XLA.

One `Scale` is set up per process, before TensorFlow places anything, from the run's
options; recipes then run inside `scale.scope()` unchanged. Under
`MultiWorkerMirroredStrategy`, Keras 3's `model.fit` fails (keras-team/keras#20585), so
`scale.custom_loop` tells the harness to train with its own `strategy.run` loop instead.
"""

import dataclasses
import json
import os
import re

from cookbook.errors import CookbookError

DEVICES = ("auto", "cpu", "gpu")
STRATEGIES = ("none", "mirrored", "multiworker")
# Splits the CPU into N logical devices, so mirrored training can be tried (and tested)
# on a machine without accelerators. Read once, before TensorFlow places anything.
VIRTUAL_CPUS_VARIABLE = "COOKBOOK_VIRTUAL_CPUS"
MAX_VIRTUAL_CPUS = 64


@dataclasses.dataclass(frozen=True)
class ScaleOptions:
    device: str = "auto"
    strategy: str = "none"
    mixed_precision: bool = False
    jit: bool | None = None  # None: Keras's "auto" (XLA on GPUs, off on CPUs)
    workers: str | None = None  # "host:port,host:port" for --strategy multiworker
    worker_index: int | None = None

    def __post_init__(self):
        virtual_cpus()  # checked up front, whatever the strategy
        if self.device not in DEVICES:
            raise CookbookError(f"--device must be one of {', '.join(DEVICES)}, got {self.device!r}.")
        if self.strategy not in STRATEGIES:
            raise CookbookError(f"--strategy must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}.")
        if self.jit and self.strategy != "none":
            raise CookbookError(
                f"--jit cannot be combined with --strategy {self.strategy}: XLA-compiled steps "
                "cannot reach the variables a strategy mirrors across devices. Drop --jit, or "
                "run with --strategy none."
            )
        if (self.workers or self.worker_index is not None) and self.strategy != "multiworker":
            raise CookbookError("--workers and --worker-index only apply to --strategy multiworker.")
        if self.workers is not None:
            addresses = worker_addresses(self.workers)
            if self.worker_index is None or not 0 <= self.worker_index < len(addresses):
                raise CookbookError(
                    f"--worker-index must be between 0 and {len(addresses) - 1} "
                    f"(one per address in --workers), got {self.worker_index}."
                )
        elif self.worker_index is not None:
            raise CookbookError("--worker-index needs --workers (the list of host:port).")
        elif self.strategy == "multiworker":
            read_tf_config()  # a malformed TF_CONFIG fails here, in one line, before TensorFlow starts

    @property
    def is_chief(self):
        """Whether this process writes results: always, except on the workers of a cluster
        other than its chief (worker 0, or the task of type "chief" where there is one)."""
        if self.strategy != "multiworker":
            return True
        if self.workers is not None:
            return self.worker_index == 0
        cluster, task = read_tf_config()
        if task["type"] == "chief":
            return True
        return task["type"] == "worker" and task["index"] == 0 and "chief" not in cluster


def read_tf_config():
    """`(cluster, task)` of the `TF_CONFIG` environment variable, checked; `({}, worker 0)` if unset."""
    text = os.environ.get("TF_CONFIG")
    if not text:
        return {}, {"type": "worker", "index": 0}
    try:
        config = json.loads(text)
        cluster, task = config.get("cluster", {}), config.get("task", {})
        if not isinstance(cluster, dict) or not cluster or not isinstance(task, dict):
            raise ValueError("it needs a 'cluster' of tasks and this process's 'task'")
        kind, index = task.get("type"), task.get("index")
        if kind not in cluster or not isinstance(index, int) or not 0 <= index < len(cluster[kind]):
            raise ValueError(f"its task {task!r} is not one of the cluster's")
    except (ValueError, AttributeError, TypeError) as error:
        raise CookbookError(
            f"TF_CONFIG is not a usable cluster description ({error}); it should look like "
            '{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}, '
            "or pass --workers and --worker-index instead."
        ) from None
    return cluster, {"type": kind, "index": index}


def worker_addresses(workers):
    addresses = [address.strip() for address in workers.split(",") if address.strip()]
    bad = [a for a in addresses if not re.fullmatch(r"[\w.\-\[\]:]+:\d{1,5}", a)]
    if not addresses or bad:
        raise CookbookError(f"--workers must be a comma-separated list of host:port, got {workers!r}.")
    return addresses


def tf_config(workers, worker_index):
    """The `TF_CONFIG` that `--workers` and `--worker-index` stand for."""
    return {"cluster": {"worker": worker_addresses(workers)}, "task": {"type": "worker", "index": worker_index}}


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
        """Whether this process writes results: always, except on workers other than 0."""
        resolver = getattr(self.strategy, "cluster_resolver", None)
        if not self.custom_loop or resolver is None:
            return True
        return resolver.task_type in (None, "chief") or (
            resolver.task_type == "worker"
            and resolver.task_id == 0
            and "chief" not in resolver.cluster_spec().as_dict()
        )

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
    split_cpu(tf)
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


def virtual_cpus():
    """`COOKBOOK_VIRTUAL_CPUS`, checked: how many logical devices to split the CPU into (0: none)."""
    text = os.environ.get(VIRTUAL_CPUS_VARIABLE, "").strip()
    if not text:
        return 0
    if not text.isdigit() or not 0 <= int(text) <= MAX_VIRTUAL_CPUS:
        raise CookbookError(
            f"{VIRTUAL_CPUS_VARIABLE} must be a whole number from 0 to {MAX_VIRTUAL_CPUS}, got {text!r}."
        )
    return int(text)


def split_cpu(tf):
    count = virtual_cpus()
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
