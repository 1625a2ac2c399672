"""The explicit blocks against Keras's built-ins on every backend: step-time ratios and parity.

    python -m benchmarks.backends [--backend jax --backend torch] [--blocks 20] [--json F]

Keras fixes its backend at import, so each backend runs in child processes of its own
(`KERAS_BACKEND=...`): `benchmarks.layers` and `benchmarks.optimizers`, which time each
explicit block and its built-in on that backend, interleaved epoch by epoch, and
`benchmarks.parity`, the largest difference between the two. This prints the three
backends' ratios (with their 90% intervals) and differences in one table. The CPU's
slow-mode caveat of `timing.py` holds within each backend; ratios from different
backends are not timed side by side, only each against its own built-in.
"""

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import click

BACKENDS = ("tensorflow", "jax", "torch")
BENCHMARKS = ("layers", "optimizers", "parity")


def run_on(backend, blocks, folder):
    """Runs the three benchmarks under `backend`; returns their JSON payloads by name."""
    env = {**os.environ, "KERAS_BACKEND": backend, "JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "3"}
    payloads = {}
    for name in BENCHMARKS:
        path = Path(folder) / f"{name}_{backend}.json"
        options = [] if name == "parity" else ["--blocks", str(blocks)]
        command = [sys.executable, "-m", f"benchmarks.{name}", *options, "--json", str(path)]
        click.echo(f"[{backend}] python -m benchmarks.{name} {' '.join(options)}", err=True)
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise click.ClickException(f"benchmarks.{name} failed on {backend}:\n{done.stderr[-3000:]}")
        payloads[name] = json.loads(path.read_text())
    return payloads


def ratio_cell(result):
    low, high = result["interval"]
    return f"{result['ratio']:.2f} ({low:.2f}-{high:.2f})"


def table(measured):
    """Rows: each block's ratio per backend, then its largest difference per backend."""
    backends = list(measured)
    first = measured[backends[0]]
    rows = [("step time, explicit / built-in (90% interval)", None)]
    for section in ("layers", "optimizers"):
        for name in first[section][section]:
            rows.append((name, [ratio_cell(measured[b][section][section][name]) for b in backends]))
    rows.append(("largest absolute difference to the built-in", None))
    notes = []
    for name in first["parity"]["parity"]["layers"]:
        cells = []
        for backend in backends:
            r = measured[backend]["parity"]["parity"]["layers"][name]
            cell = f"{r['output']:.1e}" + ("" if r["gradient"] is None else f" / {r['gradient']:.1e}")
            if r.get("documented"):
                known = r["documented"]
                notes.append(
                    f"* {name} on {backend}: {known['configurations']} more configurations differ by "
                    f"{known['output']:.2f}, Keras's own behaviour (keras-team/keras#18452)"
                )
                cell += " *"
            cells.append(cell)
        rows.append((f"{name} (output / gradient)", cells))
    rows.append(
        (
            "optimizers (relative weights)",
            [f"{measured[b]['parity']['parity']['optimizers']['largest']:.1e}" for b in backends],
        )
    )
    width = max(len(name) for name, _ in rows)
    column = max(len(cell) for _, cells in rows for cell in cells or backends)
    lines = [f"{'':<{width}}  " + "  ".join(f"{b:<{column}}" for b in backends)]
    for name, cells in rows:
        lines.append(name if cells is None else f"{name:<{width}}  " + "  ".join(f"{c:<{column}}" for c in cells))
    return "\n".join(lines + notes)


@click.command()
@click.option(
    "--backend",
    "backends",
    multiple=True,
    type=click.Choice(BACKENDS),
    help="Backends to measure (repeat the option); default: every one installed.",
)
@click.option("--blocks", type=click.IntRange(min=10), default=20, show_default=True, help="Epochs per model.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write every backend's numbers here.")
def main(backends, blocks, json_path):
    """Step-time ratios and parity of the explicit blocks, per Keras backend."""
    backends = backends or [b for b in BACKENDS if importlib.util.find_spec(b) is not None]
    with tempfile.TemporaryDirectory() as folder:
        measured = {backend: run_on(backend, blocks, folder) for backend in backends}
    if json_path:
        from cookbook.results import write_json_atomic

        write_json_atomic(json_path, measured)
    click.echo(table(measured))


if __name__ == "__main__":
    main()
