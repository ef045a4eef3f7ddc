"""A Dask cluster as the README starts one: `dask scheduler` and `dask worker ADDRESS --nthreads
1` as processes of their own on 127.0.0.1, each on a free port, their output in a folder. The
bench's cluster rows and the cluster's tests run on it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from distributed import Client

from storemon.bench.children import free_port

DASK = Path(sys.executable).with_name("dask")


class DaskProcesses:
    def __init__(self, folder: Path, workers: int = 2) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.workers = workers
        self.scheduler: subprocess.Popen | None = None
        self.worker_processes: list[subprocess.Popen] = []

    def __enter__(self) -> DaskProcesses:
        try:
            self.start_scheduler()
            self.start_workers()
        except BaseException:
            self.close()
            raise
        return self

    def start_workers(self) -> None:
        """The workers, started anew (as a supervisor restarts them: a worker ends when its
        scheduler goes), once the last ones have ended; back when all are connected."""
        for process in self.worker_processes:
            process.wait(timeout=60)
        self.worker_processes = []
        for n in range(self.workers):
            worker = ["worker", self.address, "--nthreads", "1", "--host", "127.0.0.1"]
            local = ["--no-dashboard", "--local-directory", str(self.folder / f"worker-{n}")]
            self.worker_processes.append(self._start(f"worker-{n}", *worker, *local))
        self.wait_for_workers(self.workers)

    def __exit__(self, *_) -> None:
        self.close()

    def start_scheduler(self) -> None:
        self.scheduler = self._start(
            "scheduler",
            "scheduler", "--host", "127.0.0.1", "--port", str(self.port), "--no-dashboard",
        )  # fmt: skip

    def stop_scheduler(self) -> None:
        if self.scheduler is not None:
            self.scheduler.kill()
            self.scheduler.wait(timeout=30)
            self.scheduler = None

    def wait_for_workers(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with Client(self.address, timeout=5) as client:
                    client.wait_for_workers(count, timeout=max(1, deadline - time.monotonic()))
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _start(self, name: str, *args: str) -> subprocess.Popen:
        log = (self.folder / f"{name}.log").open("ab")
        return subprocess.Popen([str(DASK), *args], stdout=log, stderr=subprocess.STDOUT)

    def close(self) -> None:
        """The workers first, then the scheduler: a worker told to stop while its scheduler is
        going too waits for it to answer (seconds), one whose scheduler is there leaves at once."""
        for group in (self.worker_processes, [self.scheduler]):
            for process in group:
                if process is not None and process.poll() is None:
                    process.terminate()
            for process in group:
                if process is not None:
                    try:
                        process.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait()
