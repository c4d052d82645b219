"""A worker that fails on purpose, for the tests of crashed and hung workers.

It is the real worker (``check_file``) except on files whose name says ``abort`` (the process
dies, as a parser crash would kill it) or ``hang`` (it never returns; ``spool-hang`` first
leaves a temporary folder with a file in it, as a worker killed while reading a sheet does). Importable by the
spawned processes of a pool and by Dask workers, which unpickle it by name.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from xlcrm.batch.worker import Outcome, Task, check_file


def faulty_check(task: Task) -> Outcome:
    name = Path(task.file).name
    if "abort" in name:
        os.abort()
    if "spool-hang" in name:
        (Path(tempfile.mkdtemp(prefix="xlcrm-read-")) / "book.xlsx").write_bytes(b"PK")
    if "hang" in name:
        time.sleep(3600)
    return check_file(task)
