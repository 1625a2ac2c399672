"""What a run shows: no TensorFlow start-up lines, a progress display on a terminal, one line
per finished run elsewhere, and Keras's epoch lines only when asked for."""

import os
import pty
import subprocess
import sys
import time

from tests.processes import ROOT
from tests.processes import environment

NOISE = ("cudart_stub", "absl::InitializeLog", "oneDNN custom operations", "cpu_feature_guard")
RELU = ["-m", "cookbook", "run", "relu", "--quick", "--epochs", "1"]


def piped(args, env):
    done = subprocess.run([sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout + done.stderr


def test_piped_output_is_one_line_per_run_and_no_start_up_noise(tmp_path, data_dir):
    env = environment()
    env.pop("TF_CPP_MIN_LOG_LEVEL")  # as a user's shell has it: unset
    output = piped([*RELU, "--data-dir", data_dir, "--out", tmp_path], env)
    assert not [line for line in output.splitlines() if any(noise in line for noise in NOISE)], output[:2000]
    runs = [line for line in output.splitlines() if line.startswith("[relu] run ")]
    # --quick: 3 activations on 2 networks, and a one-point search trains no trial
    assert [line.split(":")[0] for line in runs] == [f"[relu] run {index} of 6" for index in range(1, 7)]
    assert "val_accuracy" not in output  # the metrics live in the history files and TensorBoard


def test_verbose_brings_back_keras_epoch_lines(tmp_path, data_dir):
    output = piped([*RELU, "--verbose", "--data-dir", data_dir, "--out", tmp_path], environment())
    assert len([line for line in output.splitlines() if "- val_accuracy:" in line]) == 6  # one epoch, 6 runs


def test_a_terminal_gets_the_progress_display(tmp_path, data_dir):
    env = environment()
    env.pop("TF_CPP_MIN_LOG_LEVEL")
    pid, terminal = pty.fork()
    if pid == 0:  # the child: the command, on a pseudo-terminal
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, *RELU, "--data-dir", data_dir, "--out", str(tmp_path)], env)
    screen, deadline = b"", time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            chunk = os.read(terminal, 65536)
        except OSError:  # the child has exited
            break
        if not chunk:
            break
        screen += chunk
    _, status = os.waitpid(pid, 0)
    text = screen.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text[-2000:]
    assert "recipe 1 of 1: relu" in text and "tanh, 4-small, seed 0, epochs" in text and "6/6" in text
    assert not any(noise in text for noise in NOISE)
