"""Running the cookbook in child processes: a process's devices are fixed once TensorFlow starts."""

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 240


def environment(**extra):
    """The child's environment: this one, without the shell's cluster, device, backend or
    XLA settings."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    shell_settings = ("TF_CONFIG", "COOKBOOK_VIRTUAL_CPUS", "COOKBOOK_VERBOSE", "KERAS_BACKEND", "MPLBACKEND")
    for name in (*shell_settings, "TF_XLA_FLAGS", "XLA_FLAGS"):
        env.pop(name, None)
    return {**env, **extra}


def start(args, env):
    return subprocess.Popen(
        [sys.executable, *map(str, args)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(processes, timeout=TIMEOUT):
    """Waits for every process within the timeout; kills them all if one fails or hangs."""
    try:
        outputs = [process.communicate(timeout=timeout)[0] for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    for process, output in zip(processes, outputs):
        assert process.returncode == 0, output[-3000:]
    return outputs


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def start_workers(count, args_of, env):
    """Starts the `count` workers of one cluster on 127.0.0.1; `args_of(index)` gives each
    worker's own arguments, before the cluster's."""
    workers = ",".join(f"127.0.0.1:{port}" for port in free_ports(count))
    cluster = ["--strategy", "multiworker", "--workers", workers, "--worker-index"]
    return [start([*args_of(index), *cluster, index], env) for index in range(count)]
