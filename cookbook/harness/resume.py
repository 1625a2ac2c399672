"""Keeping what an interrupted run had finished, so the same command picks up from there."""

import hashlib
import json
import shutil

from cookbook.results import read_json
from cookbook.results import write_json_atomic


class ResumeStore:
    """Finished runs' records and half-trained runs' backups, under `OUT/RECIPE/.progress/`.

    Everything is filed under a digest of the run's settings, so a rerun with other
    settings never reuses it; `clear()` removes it all once the result is written.
    """

    def __init__(self, recipe_dir, fingerprint):
        digest = hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()[:12]
        self.root = recipe_dir / ".progress"
        self.folder = self.root / digest

    def record_path(self, run_name):
        return self.folder / "runs" / f"{run_name}.json"

    def finished(self, run_name):
        """The record of a run that finished earlier, or None."""
        path = self.record_path(run_name)
        return read_json(path) if path.exists() else None

    def keep(self, run_name, record):
        write_json_atomic(self.record_path(run_name), record)

    def backup_dir(self, run_name):
        """Where the training of `run_name` saves its state after each epoch."""
        return self.folder / "backup" / run_name

    def clear(self):
        shutil.rmtree(self.root, ignore_errors=True)
