"""Real `threadline` processes for the end-to-end tests and the benchmark.

`ServerProcess` starts `threadline serve` on a free port with its own data directory, and runs other
`threadline` commands with the same environment. `throwaway_database()` gives each process test a database
of its own on the PostgreSQL server named by THREADLINE_DATABASE_URL (never the one pytest-django uses),
or nothing on SQLite, where the data directory holds the database.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import httpx

from threadline.config.env import served_url
from threadline.testing.bytecode import bytecode_cache

# Bounds for a hung child, not speed limits: a `migrate` or a start can take minutes on a 2-core machine that
# runs other suites beside this one (seen: migrate over 120 s at load 20+), and a test must not fail for that.
READY_TIMEOUT = 300.0
READY_WALL_CAP = 1200.0  # wall seconds, at most, while the starting server still uses CPU
READY_PROGRESS = 60.0  # ... having used at least half a CPU second in this many seconds
COMMAND_TIMEOUT = 600.0
# Derived files (config/env.py CACHE_DIR) shared by every server the tests and benches start on this machine
SHARED_CACHE = Path(tempfile.gettempdir()) / f"threadline-cache-{os.getuid()}"


# The inbound events of a served database by state, for `ServerProcess.query` (crash and worker-process tests).
INBOUND_EVENT_STATES = "SELECT state, COUNT(*) FROM tl_channels_inboundevent GROUP BY state"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_free(port: int) -> bool:
    """Whether a server can listen on `port` now (as uvicorn binds: SO_REUSEADDR, so connections of a stopped
    server still in TIME_WAIT do not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def threadline_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "threadline.config.cli", *args]


def postgres_url() -> str | None:
    url = os.environ.get("THREADLINE_DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


@contextlib.contextmanager
def throwaway_database(base_url: str | None = None, prefix: str = "tlproc", *,
                       template: str | None = None) -> Iterator[str | None]:
    """A new PostgreSQL database on the server of `base_url` (default THREADLINE_DATABASE_URL), empty or
    a copy of the database `template`, dropped afterwards; yields its URL, or None on SQLite."""
    base_url = base_url or postgres_url()
    if not base_url:
        yield None
        return
    import psycopg
    from psycopg import sql

    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    parsed = urlparse(base_url)
    maintenance = urlunparse(parsed._replace(path="/postgres", query=""))
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        create = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(create)
    try:
        yield urlunparse(parsed._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@dataclass(frozen=True)
class MigratedTemplate:
    """An empty, migrated database to copy for each process test, so each test skips the migrations."""

    data_dir: Path
    database_url: str | None

    @property
    def database_name(self) -> str | None:
        return urlparse(self.database_url).path.lstrip("/") if self.database_url else None


@contextlib.contextmanager
def migrated_template(workdir: Path) -> Iterator[MigratedTemplate]:
    with throwaway_database(prefix="tltmpl") as url:
        data_dir = Path(workdir) / "template"
        ServerProcess(data_dir, database_url=url).run("migrate", "--no-input")
        yield MigratedTemplate(data_dir, url)


@contextlib.contextmanager
def database_from(template: MigratedTemplate, data_dir: Path) -> Iterator[str | None]:
    """A copy of `template` for a server whose data directory is `data_dir`; yields its database URL."""
    if template.database_url is None:
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        for path in template.data_dir.glob("threadline.sqlite3*"):
            shutil.copyfile(path, Path(data_dir) / path.name)
        yield None
        return
    with throwaway_database(template.database_url, template=template.database_name) as url:
        yield url


_TEMPLATES: dict[str, MigratedTemplate] = {}


def template_key() -> str:
    return postgres_url() or "sqlite"


def snapshot_template(config: Any, tmp_path_factory: Any, settings_dict: dict[str, Any]) -> None:
    """Make pytest-django's test database, just migrated and not yet written by any test, this test process's
    migrated template (a copy of the SQLite file, or a PostgreSQL database made from it), so the process runs
    the migrations once (~24 s of CPU on SQLite) where it ran them twice. The caller closes every connection
    to the test database first: PostgreSQL copies only a database nobody is connected to."""
    key = template_key()
    if key in _TEMPLATES:
        return
    stack = contextlib.ExitStack()
    config.add_cleanup(stack.close)
    data_dir = Path(tmp_path_factory.mktemp("template")) / "template"
    data_dir.mkdir(parents=True, exist_ok=True)
    if key == "sqlite":
        import sqlite3

        with contextlib.closing(sqlite3.connect(settings_dict["NAME"])) as source, \
                contextlib.closing(sqlite3.connect(data_dir / "threadline.sqlite3")) as copy:
            source.backup(copy)
        _TEMPLATES[key] = MigratedTemplate(data_dir, None)
        return
    url = stack.enter_context(throwaway_database(prefix="tltmpl", template=settings_dict["NAME"]))
    _TEMPLATES[key] = MigratedTemplate(data_dir, url)


@contextlib.contextmanager
def migrated_copy(request: Any, tmp_path_factory: Any, data_dir: Path) -> Iterator[str | None]:
    """For a pytest fixture (`request`, or only the config when no test database is at hand): a copy of this
    test process's migrated template for a server with `data_dir`; yields the database URL (None on SQLite).
    The template is the snapshot of the test database (`snapshot_template`, taken when pytest-django sets it
    up, which this asks for); without one it is migrated in a child process on first use, and removed at the
    end of the session."""
    config = getattr(request, "config", request)
    if hasattr(request, "getfixturevalue"):
        request.getfixturevalue("django_db_setup")
    key = template_key()
    if key not in _TEMPLATES:
        stack = contextlib.ExitStack()
        _TEMPLATES[key] = stack.enter_context(migrated_template(tmp_path_factory.mktemp("template")))
        config.add_cleanup(stack.close)
    with database_from(_TEMPLATES[key], data_dir) as url:
        yield url


def process_env(data_dir: Path, database_url: str | None, **extra: str) -> dict[str, str]:
    """The environment of a child process: ours without THREADLINE_* settings, then its own.

    With PYTHONDONTWRITEBYTECODE set, every child would compile src/ from source again on each start (0.5-1 s
    of CPU for a `serve` or a `shell`): the children read and write their bytecode in `bytecode_cache()`
    instead (PYTHONPYCACHEPREFIX), compiled once per source file version."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREADLINE_")}
    if env.pop("PYTHONDONTWRITEBYTECODE", "") and not os.environ.get("PYTHONPYCACHEPREFIX"):
        env["PYTHONPYCACHEPREFIX"] = str(bytecode_cache())
    env.update(THREADLINE_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1", DJANGO_SETTINGS_MODULE="threadline.config.settings",
               THREADLINE_CACHE_DIR=str(SHARED_CACHE))  # the language model unpacked once, not 66 MB per server
    if database_url:
        env["THREADLINE_DATABASE_URL"] = database_url
    if os.environ.get("THREADLINE_REDIS_URL"):
        env["THREADLINE_REDIS_URL"] = os.environ["THREADLINE_REDIS_URL"]
        # Each server its own keys and channel-layer groups: test servers share one Redis.
        env["THREADLINE_REDIS_PREFIX"] = f"tlproc-{data_dir.name}-{uuid.uuid4().hex[:10]}"
        env["THREADLINE_API_RATE_LIMIT"] = "1000000"  # process tests post in bursts
    env.update(extra)
    return env


def sign(secret: str, body: bytes) -> str:
    """The API channel's `X-Threadline-Signature` value for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class ShellHost:
    """A `threadline shell` child that runs the snippets of one server's `ServerProcess.shell` one after another
    (testing/shell_host.py): Django starts once per server instead of once per snippet (~0.8 s of CPU each)."""

    SERVE = "from threadline.testing.shell_host import serve; serve()"

    def __init__(self, env: dict[str, str], cwd: Path, stderr_path: Path, key: Any) -> None:
        self.key = key
        self.stderr_path = stderr_path
        with open(stderr_path, "ab") as err:
            self.process = subprocess.Popen(threadline_command("shell", "--no-imports", "-c", self.SERVE), env=env,
                                            cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
        self._answer(COMMAND_TIMEOUT)  # the bound a `threadline shell -c` child had, start included

    def alive(self) -> bool:
        return self.process.poll() is None

    def run(self, code: str, timeout: float) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps({"code": code}) + "\n").encode())
        self.process.stdin.flush()
        answer = self._answer(timeout)
        if answer["error"]:
            raise RuntimeError(f"threadline shell failed:\n{answer['error'][-4000:]}")
        return answer["output"]

    def _answer(self, timeout: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout):
                self.close()
                raise subprocess.TimeoutExpired(self.process.args, timeout)
        line = self.process.stdout.readline()
        if not line:
            self.close()
            raise RuntimeError(f"threadline shell exited with {self.process.returncode}:\n"
                               f"{self.stderr_path.read_text(errors='replace')[-4000:]}")
        return json.loads(line)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()


def shell_key(env: dict[str, str], data_dir: Path) -> tuple[Any, ...]:
    """What a shell's settings depend on: its environment but the Redis prefix, which is new for every child,
    and the URL the server last answered on (each start writes it into the data directory, and the settings
    read it as PUBLIC_URL; a server started again keeps its port, so its shell is kept too)."""
    return (served_url(data_dir),
            *sorted((name, value) for name, value in env.items() if name != "THREADLINE_REDIS_PREFIX"))


class ServerProcess:
    """One `threadline serve` child process; its stdout and stderr go to files in the data directory."""

    def __init__(self, data_dir: Path, *, database_url: str | None = None, args: tuple[str, ...] = (),
                 **env: str) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.args = args
        self.extra_env = env
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.shell_host: ShellHost | None = None

    @property
    def env(self) -> dict[str, str]:
        return process_env(self.data_dir, self.database_url, **self.extra_env)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stdout_path(self) -> Path:
        return self.data_dir / f"serve-{self.starts}.out"

    @property
    def stderr_path(self) -> Path:
        return self.data_dir / f"serve-{self.starts}.err"

    def output(self) -> str:
        return self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""

    def errors(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def start(self, *, wait: bool = True, port: int | None = None, **env: str) -> ServerProcess:
        self.extra_env.update(env)
        self.starts += 1
        # Started again: on the same port when it is free, so the URL the settings read (PUBLIC_URL) is the same
        # and the shell child (`shell`, ~1 s of CPU to start) is kept.
        self.port = port or (self.port if self.port and port_free(self.port) else free_port())
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(
                threadline_command("serve", "--port", str(self.port), *self.args), env=self.env,
                stdout=out, stderr=err, cwd=self.data_dir,
            )
        if wait:
            self.wait_ready()
        return self

    def cpu_seconds(self) -> float:
        """CPU time the server and its reaped children have used (Linux /proc; 0 when unreadable)."""
        assert self.process is not None
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Wait until /healthz answers 200 and the ready line is printed.

        `timeout` is wall time while the server makes no progress: on a machine loaded many times over, a first
        start migrating an empty database (about 25 s of CPU) can need more than 300 s of wall time, so the wait
        goes on, up to READY_WALL_CAP, while the server has used CPU in the last READY_PROGRESS seconds."""
        assert self.process is not None
        started = time.monotonic()
        deadline = started + timeout
        progress_at, progress_cpu = started, self.cpu_seconds()
        while time.monotonic() < deadline or (
                time.monotonic() - started < READY_WALL_CAP and time.monotonic() - progress_at < READY_PROGRESS):
            cpu = self.cpu_seconds()
            if cpu > progress_cpu + 0.5:
                progress_at, progress_cpu = time.monotonic(), cpu
            if self.process.poll() is not None:
                raise RuntimeError(f"threadline serve exited with {self.process.returncode}:\n{self.errors()[-4000:]}")
            try:  # the ready line first (a file read), then /healthz
                if "ready at" in self.output() and httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        raise TimeoutError(f"threadline serve not ready after {time.monotonic() - started:.0f}s "
                           f"({self.cpu_seconds():.1f}s of CPU):\n{self.errors()[-4000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Send `sig` and wait for the process to end; returns its exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def kill(self) -> int:
        return self.stop(signal.SIGKILL)

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.shell_host is not None:
            self.shell_host.close()
            self.shell_host = None

    def run(self, *args: str, check: bool = True, timeout: float = COMMAND_TIMEOUT, **env: str) -> subprocess.CompletedProcess[str]:
        """Run another `threadline` command against the same data directory and database."""
        result = subprocess.run(
            threadline_command(*args), env={**self.env, **env}, capture_output=True, text=True, timeout=timeout,
            cwd=self.data_dir,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"threadline {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-4000:]}")
        return result

    def spawn(self, *args: str, name: str = "worker", **env: str) -> subprocess.Popen[bytes]:
        """Start another long-running `threadline` command (a `worker`) with this server's settings; its
        output goes to `<name>.out` / `<name>.err` in the data directory."""
        with open(self.data_dir / f"{name}.out", "wb") as out, open(self.data_dir / f"{name}.err", "wb") as err:
            return subprocess.Popen(threadline_command(*args), env={**self.env, **env}, stdout=out, stderr=err,
                                    cwd=self.data_dir)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of a read-only SQL statement, straight from the database (no Django start-up: cheap to poll)."""
        if self.database_url:
            import psycopg

            with psycopg.connect(self.database_url) as conn:
                return conn.execute(sql).fetchall()
        import sqlite3

        with contextlib.closing(sqlite3.connect(self.data_dir / "threadline.sqlite3", timeout=30)) as conn:
            return conn.execute(sql).fetchall()

    def shell(self, code: str, *, timeout: float = COMMAND_TIMEOUT) -> str:
        """Run `code` in a `threadline shell` with this server's settings; returns what it printed. The shell
        child is kept for the server's next snippets (`ShellHost`), and started again when the settings change
        (the environment, or the URL the server answers on: a start on another port)."""
        env = self.env
        key = shell_key(env, self.data_dir)
        if self.shell_host is None or not self.shell_host.alive() or self.shell_host.key != key:
            if self.shell_host is not None:
                self.shell_host.close()
            self.shell_host = ShellHost(env, self.data_dir, self.data_dir / "shell.err", key)
        return self.shell_host.run(code, timeout).strip()

    def python(self, code: str) -> Any:
        """Run `code` in a `threadline shell`; it must print one JSON value, which is returned."""
        return json.loads(self.shell(code).splitlines()[-1])

    def python_json_command(self, *args: str, **env: str) -> Any:
        """Run a `threadline` command that prints one JSON document, and return it."""
        return json.loads(self.run(*args, **env).stdout)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
