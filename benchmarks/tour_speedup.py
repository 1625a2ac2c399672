"""The tour's speed-up over an earlier revision, measured side by side.

    python -m benchmarks.tour_speedup [--against REV] [--pairs N] [--quick | --default]

On a shared 2-core machine the same quick tour took 61 s and 90 s within one hour, so a
time alone says little about a change. This checks REV out into a temporary git worktree
and runs `cookbook run all` of REV and of this working tree alternately, N pairs (the order
reversed every other pair), each into a fresh folder, then prints every wall time, each
pair's ratio (this tree / REV) and their median: a ratio measured in one sitting survives
the machine's drift.

The default REV, f21e976, is the code whose quick tour took 2 min 16 s when the issue for a
tour twice as fast was filed; its `--quick` did less (no regime axes), so the ratio is
conservative.
"""

import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "f21e976"


def run_tour(tree, out, quick):
    """Seconds `cookbook run all` of the code in `tree` takes, writing into `out`."""
    command = [sys.executable, "-m", "cookbook", "run", "all", "--out", str(out), *(["--quick"] if quick else [])]
    log = out.parent / f"{out.name}.log"  # not with_suffix: a revision such as v1.2 has a dot
    started = time.perf_counter()
    with open(log, "w") as output:
        # `python -m` puts the working folder first on sys.path: the tree's own cookbook runs.
        finished = subprocess.run(command, cwd=tree, stdout=output, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    if finished.returncode != 0:
        raise click.ClickException(f"The tour in {tree} failed (exit {finished.returncode}); see {log}.")
    return seconds


def alternate(trees, pairs, quick, folder, run=run_tour):
    """`{label: [seconds, ...]}`, running each tree's tour in turn, `pairs` times, the order
    reversed every other pair (ABBA): a tour that always ran right after the other would
    always meet the machine as the other left it (a sustained load, a warm cache)."""
    times = {label: [] for label in trees}
    for pair in range(1, pairs + 1):
        order = list(trees.items()) if pair % 2 else list(trees.items())[::-1]
        for label, tree in order:
            seconds = run(tree, folder / f"{_file_name(label)}-{pair}", quick)
            times[label].append(seconds)
            click.echo(f"pair {pair}: {label} {seconds:.1f} s")
    return times


def _file_name(label):
    """`label` (a revision such as origin/main) as one folder name."""
    return re.sub(r"[^\w.-]", "_", label)


def ratios(baseline, current):
    """Each pair's current / baseline, and their median."""
    each = [now / then for then, now in zip(baseline, current)]
    return each, statistics.median(each)


def checkout(revision, folder):
    """A detached worktree of `revision` under `folder`."""
    tree = folder / "baseline"
    command = ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), revision]
    try:
        found = subprocess.run(command, capture_output=True, text=True)
    except FileNotFoundError:
        raise click.ClickException("This benchmark checks REV out with git, which is not installed.") from None
    if found.returncode != 0:
        raise click.ClickException(f"Cannot check out {revision!r}: {found.stderr.strip() or found.stdout.strip()}")
    return tree


@click.command()
@click.option("--against", "revision", default=BASELINE, show_default=True, help="The git revision to compare with.")
@click.option("--pairs", type=click.IntRange(1, 20), default=3, show_default=True, help="Tours of each, alternated.")
@click.option("--quick/--default", default=True, show_default=True, help="The quick tour, or the default one.")
def main(revision, pairs, quick):
    """Runs the tour of REV and of this tree alternately and prints the ratio of their times."""
    folder = Path(tempfile.mkdtemp(prefix="tour-speedup-"))
    try:
        tree = checkout(revision, folder)
    except click.ClickException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    try:
        times = alternate({revision: tree, "this tree": ROOT}, pairs, quick, folder)
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], capture_output=True)
    shutil.rmtree(folder, ignore_errors=True)  # kept when a tour failed: its log is there
    each, median = ratios(times[revision], times["this tree"])
    tour = "cookbook run all" + (" --quick" if quick else "")
    click.echo(f"\n{tour}, {pairs} pairs, seconds:")
    click.echo(f"{revision:>12}: " + ", ".join(f"{s:.1f}" for s in times[revision]))
    click.echo(f"{'this tree':>12}: " + ", ".join(f"{s:.1f}" for s in times["this tree"]))
    click.echo(f"ratio this tree / {revision}: median {median:.2f} (pairs: {', '.join(f'{r:.2f}' for r in each)})")


if __name__ == "__main__":
    main()
