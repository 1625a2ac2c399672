"""What the user asked for, as one validated, frozen object: `RunOptions`.

The command line builds it once, on its first line (`RunOptions.from_command_line`), from
click's arguments and the environment; every function after that takes it, as `options`.
Nothing here reads the environment or a file at import time: a bad value is a
`CookbookError`, which the command prints as one `Error:` line.
"""

import dataclasses
import json
import os
import re

from cookbook.errors import CookbookError
from cookbook.harness.environment import check_library_variables

DEFAULT_DATASET = "digits"  # cookbook.data.DEFAULT_DATASET, which would import TensorFlow
DEFAULT_OUT = "results"
DEVICES = ("auto", "cpu", "gpu")
STRATEGIES = ("none", "mirrored", "multiworker")
# The settings every recipe has and the command line can override.
SETTINGS = ("epochs", "batch_size", "seeds")
SEED_LIMIT = 2**32  # NumPy's seeds are 32-bit
MAX_COUNT = 1_000_000  # epochs, seeds or jobs beyond this are a typo, not a plan
MAX_BATCH_SIZE = 2**31 - 1  # a batch's size is a 32-bit integer in TensorFlow
# Splits the CPU into N logical devices, so mirrored training can be tried (and tested) on a
# machine without accelerators.
VIRTUAL_CPUS_VARIABLE = "COOKBOOK_VIRTUAL_CPUS"
MAX_VIRTUAL_CPUS = 64
VERBOSE_VARIABLE = "COOKBOOK_VERBOSE"
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


@dataclasses.dataclass(frozen=True)
class ScaleOptions:
    """Where training runs: the device, the `tf.distribute` strategy, mixed precision, XLA."""

    device: str = "auto"
    strategy: str = "none"
    mixed_precision: bool = False
    jit: bool | None = None  # None: Keras's "auto" (XLA on GPUs, off on CPUs)
    workers: str | None = None  # "host:port,host:port" for --strategy multiworker
    worker_index: int | None = None
    virtual_cpus: int = 0  # COOKBOOK_VIRTUAL_CPUS: logical devices to split the CPU into (0: none)

    def __post_init__(self):
        if self.device not in DEVICES:
            raise CookbookError(f"--device must be one of {', '.join(DEVICES)}, got {self.device!r}.")
        if self.strategy not in STRATEGIES:
            raise CookbookError(f"--strategy must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}.")
        if not isinstance(self.virtual_cpus, int) or not 0 <= self.virtual_cpus <= MAX_VIRTUAL_CPUS:
            raise CookbookError(
                f"{VIRTUAL_CPUS_VARIABLE} must be a whole number from 0 to {MAX_VIRTUAL_CPUS}, "
                f"got {self.virtual_cpus!r}."
            )
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
        other than its chief (the task of type "chief" where there is one, else worker 0)."""
        if self.strategy != "multiworker":
            return True
        if self.workers is not None:
            return self.worker_index == 0
        cluster, task = read_tf_config()
        return task["type"] == "chief" or (task["type"] == "worker" and task["index"] == 0 and "chief" not in cluster)


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """Everything one `cookbook run` was asked for. `None` settings take the recipe's defaults."""

    dataset: str = DEFAULT_DATASET
    data_dir: str | None = None
    epochs: int | None = None
    batch_size: int | None = None
    seeds: int | None = None
    seed: int = 0
    quick: bool = False
    out: str = DEFAULT_OUT
    verbose: bool = False  # Keras's line per epoch and TensorFlow's logs on the terminal
    fused_seeds: bool = False  # a variant's seeds trained as one model (`cookbook.harness.fused`)
    scale: ScaleOptions = ScaleOptions()
    jobs: int | str = 1  # recipes at once (`cookbook.cli.workers`): a count, or "auto"

    def __post_init__(self):
        for name, value in (("--out", self.out), ("--data-dir", self.data_dir)):
            if value is not None and not str(value).strip():  # "" would mean the current folder
                raise CookbookError(f"{name} must name a folder, got an empty path.")
        if not isinstance(self.seed, int) or not 0 <= self.seed < SEED_LIMIT:
            raise CookbookError(f"seed must be an integer from 0 to 2**32 - 1, got {self.seed!r}.")
        for name in SETTINGS:
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise CookbookError(f"{name} must be a positive integer, got {value!r}.")
        if self.jobs != "auto" and (not isinstance(self.jobs, int) or not 1 <= self.jobs <= MAX_COUNT):
            raise CookbookError(f"--jobs must be 'auto' or a whole number from 1 to {MAX_COUNT}, got {self.jobs!r}.")
        if self.scale.strategy != "none" and self.jobs not in ("auto", 1):
            raise CookbookError(
                f"--jobs {self.jobs} runs recipes side by side in separate processes; under --strategy "
                f"{self.scale.strategy} each recipe already spans the devices. Use --jobs 1 (or leave it out)."
            )

    @classmethod
    def from_command_line(cls, arguments, environ=None):
        """The options of click's `arguments` (one per option of `cookbook run`) and the
        environment (`COOKBOOK_VERBOSE`, `COOKBOOK_VIRTUAL_CPUS`, `TF_CONFIG`), checked."""
        environ = os.environ if environ is None else environ
        arguments = dict(arguments)
        scale_fields = [field.name for field in dataclasses.fields(ScaleOptions) if field.name != "virtual_cpus"]
        scale = ScaleOptions(
            **{name: arguments.pop(name) for name in scale_fields if name in arguments},
            virtual_cpus=virtual_cpus(environ),
        )
        arguments["verbose"] = bool(arguments.get("verbose")) or verbose_from(environ)
        return cls(**arguments, scale=scale)

    def fingerprint(self):
        """What must match for an interrupted run to resume: the options that change numbers
        (not how many recipes run at once, nor what the terminal shows)."""
        values = dataclasses.asdict(self)
        return {name: value for name, value in values.items() if name not in ("jobs", "verbose")}


def check_environment(environ=None):
    """Checks the environment variables the cookbook and its libraries read, for every command
    (`TF_CONFIG` where a strategy uses it, the XLA flags where TensorFlow loads)."""
    environ = os.environ if environ is None else environ
    virtual_cpus(environ)
    verbose_from(environ)
    check_library_variables(environ)


def virtual_cpus(environ=None):
    """`COOKBOOK_VIRTUAL_CPUS`, checked: how many logical devices to split the CPU into (0: none)."""
    text = (os.environ if environ is None else environ).get(VIRTUAL_CPUS_VARIABLE, "").strip()
    if not text:
        return 0
    if not text.isdigit() or not 0 <= int(text) <= MAX_VIRTUAL_CPUS:
        raise CookbookError(
            f"{VIRTUAL_CPUS_VARIABLE} must be a whole number from 0 to {MAX_VIRTUAL_CPUS}, got {text!r}."
        )
    return int(text)


def verbose_from(environ=None):
    """`COOKBOOK_VERBOSE`, checked: 1/true/yes/on or 0/false/no/off (or unset)."""
    text = (os.environ if environ is None else environ).get(VERBOSE_VARIABLE, "").strip().lower()
    if text not in TRUE_WORDS + FALSE_WORDS:
        raise CookbookError(f"{VERBOSE_VARIABLE} must be 1 or 0 (true/false, yes/no, on/off), got {text!r}.")
    return text in TRUE_WORDS


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
        others = sorted(set(cluster) - set(CLUSTER_TASK_TYPES))
        if others:  # parameter servers, evaluators: not what MultiWorkerMirroredStrategy runs
            raise ValueError(f"a multiworker cluster has {' and '.join(CLUSTER_TASK_TYPES)} tasks, not {others}")
        addresses = [address for kind in cluster.values() for address in _listed(kind)]
        _check_addresses(addresses)
    except (ValueError, AttributeError, TypeError) as error:
        raise CookbookError(
            f"TF_CONFIG is not a usable cluster description ({error}); it should look like "
            '{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}, '
            "or pass --workers and --worker-index instead."
        ) from None
    return cluster, {"type": kind, "index": index}


CLUSTER_TASK_TYPES = ("chief", "worker")
ADDRESS = re.compile(r"[\w.\-\[\]:]+:(\d{1,5})")


def worker_addresses(workers):
    addresses = [address.strip() for address in workers.split(",") if address.strip()]
    if not addresses:
        raise CookbookError(f"--workers must be a comma-separated list of host:port, got {workers!r}.")
    try:
        _check_addresses(addresses)
    except ValueError as error:
        raise CookbookError(f"--workers must be a comma-separated list of host:port ({error}).") from None
    return addresses


def _listed(addresses):
    if not isinstance(addresses, list) or not addresses:
        raise ValueError(f"each task type lists its tasks' addresses, got {addresses!r}")
    return addresses


def _check_addresses(addresses):
    """Each `host:port` with a port TensorFlow can listen on, and no task twice: a cluster
    that parses but names one process twice or a port past 65535 would fail (or wait for a
    peer forever) inside TensorFlow instead."""
    for address in addresses:
        match = ADDRESS.fullmatch(address) if isinstance(address, str) else None
        if match is None or not 1 <= int(match.group(1)) <= 65535:
            raise ValueError(f"{address!r} is not host:port with a port from 1 to 65535")
    repeated = sorted({address for address in addresses if addresses.count(address) > 1})
    if repeated:
        raise ValueError(f"{', '.join(repeated)} is listed twice: every task needs an address of its own")


def tf_config(workers, worker_index):
    """The `TF_CONFIG` that `--workers` and `--worker-index` stand for."""
    return {"cluster": {"worker": worker_addresses(workers)}, "task": {"type": "worker", "index": worker_index}}
