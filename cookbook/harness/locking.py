"""One writer per recipe folder: a second run into the same `OUT/RECIPE` is refused, not mixed in."""

import contextlib
import os
import socket

from cookbook.errors import CookbookError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; runs are not guarded there
    fcntl = None


@contextlib.contextmanager
def exclusive(folder):
    """Holds `folder/.lock` while the block runs; raises `CookbookError` naming the holder if
    another process holds it. The operating system drops the lock of a process that dies,
    so a lock left by a killed run is simply taken over."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ".lock"
    with open(path, "a+") as file:
        if fcntl is not None:
            try:
                fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                file.seek(0)
                holder = file.read().strip() or "another process"
                raise CookbookError(
                    f"{folder} is being written by {holder}; wait for it to finish, or choose another --out."
                ) from None
        file.seek(0)
        file.truncate()
        file.write(f"process {os.getpid()} on {socket.gethostname()}")
        file.flush()
        try:
            yield
        finally:
            file.seek(0)
            file.truncate()
