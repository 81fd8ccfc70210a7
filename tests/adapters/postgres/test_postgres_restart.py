"""A server restart: on a private throwaway cluster (never the machine's shared
server) the store raises StorageError while the server is down, never hangs,
keeps every acknowledged write, and works again once the server is back."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import etomkit as ek
from etomkit.adapters.postgres import PostgresStore

INITDB, PG_CTL = shutil.which("initdb"), shutil.which("pg_ctl")


def _as_postgres(*command: str) -> list[str]:
    """PostgreSQL refuses to run as root: run the command as the postgres user."""
    if os.geteuid() != 0:
        return list(command)
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("running as root without runuser: cannot start a private cluster")
    return [runuser, "-u", "postgres", "--", *command]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def private_cluster() -> Iterator[Callable[[str], None]]:
    """A throwaway cluster on a free port; yields ``ctl("start"|"stop")``."""
    if INITDB is None or PG_CTL is None:
        message = "initdb/pg_ctl not on PATH (install postgresql) for the restart test"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    home = Path(tempfile.mkdtemp(prefix="etomkit-pg-"))
    data, port = home / "data", _free_port()
    if os.geteuid() == 0:
        shutil.chown(home, "postgres", "postgres")
    subprocess.run(
        _as_postgres(INITDB, "-D", str(data), "-A", "trust", "-U", "postgres"),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=on"

    def ctl(action: str) -> None:
        command = [PG_CTL, "-D", str(data), "-l", str(home / "log"), "-w", "-t", "60"]
        if action == "start":
            command += ["-o", options, "start"]
        else:
            command += ["-m", "immediate", "stop"]  # a crash, not a clean shutdown
        subprocess.run(_as_postgres(*command), check=True, capture_output=True)

    ctl("start")
    ctl.port = port  # type: ignore[attr-defined]
    try:
        yield ctl
    finally:
        subprocess.run(
            _as_postgres(PG_CTL, "-D", str(data), "-m", "immediate", "stop"),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(home, ignore_errors=True)


def _within(seconds: float, call: Callable[[], Any]) -> Any:
    """``call()``'s result or exception; fails if it has not returned in ``seconds``
    (a liveness check: the store must not hang, however long it may take)."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as e:  # handed back
            outcome.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"the store hung for {seconds} s"
    return outcome[0]


def test_a_server_restart_raises_storage_error_meanwhile_and_loses_no_acknowledged_write(
    private_cluster: Callable[[str], None],
) -> None:
    port = private_cluster.port  # type: ignore[attr-defined]
    conninfo = f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
    store = PostgresStore(conninfo, schema="restart", connect_timeout=3, pool_size=2)
    try:
        for n in range(20):
            store.offerings.add(ek.ProductOffering(id=f"po-{n}", name="acknowledged"))
        private_cluster("stop")
        down = _within(120, lambda: store.offerings.get("po-0"))
        assert isinstance(down, ek.StorageError), down
        refused = _within(120, lambda: store.offerings.add(ek.ProductOffering(id="x", name="x")))
        assert isinstance(refused, ek.StorageError), refused
        private_cluster("start")
        back: Any = None
        for _ in range(40):  # the pool reconnects with a backoff: StorageError meanwhile
            back = _within(120, lambda: [o.id for o in store.offerings.iterate()])
            if not isinstance(back, ek.StorageError):
                break
            time.sleep(0.5)
        assert back == [f"po-{n}" for n in range(20)]
        assert store.offerings.add(ek.ProductOffering(id="po-20", name="after")).revision == 1
    finally:
        store.close()
