"""`ville serve`, `ville worker` and `ville demo` as real processes on a temporary SQLite file."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django_tasks import task

from tests.conftest import ROOT, run_ville


@task()
def touch(path: str) -> None:
    """What the worker test enqueues: proof that `ville worker` ran a task."""
    Path(path).write_text("done")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"VILLE_TESTING", "DEBUG", "PORT"}}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'ville.sqlite3'}",
        VILLE_DATA_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="ville.settings",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def _wait_for_healthz(port: int, process: subprocess.Popen, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                assert resp.status == 200
                return json.loads(resp.read())
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"/healthz did not answer within {timeout} s")


def _stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)
    try:
        out, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
        pytest.fail(f"did not stop on SIGTERM:\n{out}")
    return out


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


def test_serve_answers_healthz(tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ville", "serve", "--port", str(port)],
        env=_env(tmp_path, VILLE_DEMO="1"),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert _wait_for_healthz(port, process, timeout=25) == {"status": "ok"}
    finally:
        out = _stop(process)
    assert f"127.0.0.1:{port}" in out


def test_serve_reads_port_from_environment(tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ville", "serve"],
        env=_env(tmp_path, VILLE_DEMO="1", PORT=str(port)),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for_healthz(port, process, timeout=25)
    finally:
        _stop(process)


def test_worker_runs_queued_tasks(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'ville.sqlite3'}"
    backend = {"VILLE_TASKS_BACKEND": "django_tasks_db.DatabaseBackend"}
    marker = tmp_path / "marker"
    assert run_ville("migrate", "--noinput", database_url=database_url).returncode == 0
    enqueued = run_ville(
        "shell",
        "-c",
        f"from tests.core.test_commands import touch; touch.enqueue({str(marker)!r})",
        database_url=database_url,
        **backend,
    )
    assert enqueued.returncode == 0, enqueued.stderr
    assert not marker.exists()

    result = run_ville(
        "worker", "--batch", "--interval", "0.1", database_url=database_url, timeout=60, **backend
    )

    assert result.returncode == 0, result.stderr
    assert marker.read_text() == "done"


def test_demo_migrates_loads_and_stops_with_its_worker_and_scheduler(tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ville", "demo", "--port", str(port)],
        env=_env(tmp_path, VILLE_DEMO="1"),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for_healthz(port, process, timeout=120)
        children = _children(process.pid)
        assert len(children) == 2, "a worker and a scheduler beside the web server"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/fr/connexion/", timeout=5) as r:
            assert r.status == 200
    finally:
        out = _stop(process)
    assert process.returncode == 128 + signal.SIGTERM or process.returncode == 0, out
    assert not any(_alive(child) for child in children), "they must stop with the demo"
    assert f"http://127.0.0.1:{port}/" in out
    assert "camille.martin@example.org" in out and "demo-ville-2026" in out
    assert "TOTP secret" in out and "otpauth://totp/" in out
