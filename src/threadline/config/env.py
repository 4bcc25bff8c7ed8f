"""Reading `THREADLINE_*` settings from the environment, in one place.

Every variable the server understands is listed in `VARIABLES` so that the README, `threadline doctor`
and the settings module agree.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

VARIABLES: dict[str, str] = {
    "DATA_DIR": "Directory for the SQLite database, attachments and the generated secret key (default ./var).",
    "CACHE_DIR": "Directory for files derived from installed packages, rebuilt when missing (the language model unpacked at the first start, ~66 MB; default DATA_DIR/cache). Installations of one version may share it.",
    "DATABASE_URL": "postgres://user:pass@host:5432/db for scaled mode; default is SQLite in DATA_DIR.",
    "REDIS_URL": "redis://host:6379/0: channel layer, rate limits and locks in scaled mode.",
    "REDIS_PREFIX": "Prefix of every Redis key and channel-layer group (default threadline): one Redis, several installations.",
    "PUBLIC_URL": "The URL customers and providers reach this server on (webhook URLs, links).",
    "SECRET_KEY": "Overrides the key generated into DATA_DIR/secret_key on first start.",
    "ADMIN_EMAIL": "E-mail of the first admin, created on first start.",
    "ADMIN_PASSWORD": "Password of the first admin; without it a one-time setup link is printed.",
    "WORKSPACE_NAME": "Name of the first workspace, created on first start (default Threadline).",
    "SMTP_RELAY_URL": "smtp://user:pass@host:587 relay for outbound mail (used by the email channel).",
    "SYSTEM_MAIL_URL": "smtp://user:pass@host:587 for invitations and password resets (default: SMTP_RELAY_URL); without one, links are shown to the admin.",
    "SYSTEM_MAIL_FROM": "Sender of invitations and password resets (default threadline@<PUBLIC_URL host>).",
    "SMTP_TLS_CERT": "PEM certificate path: turns on STARTTLS on the inbound SMTP listener (with SMTP_TLS_KEY).",
    "SMTP_TLS_KEY": "PEM private key path for SMTP_TLS_CERT.",
    "EMAIL_MAX_BYTES": "Largest inbound email accepted, in bytes (default 26214400, 25 MB); larger gets SMTP 552.",
    "DEBUG": "1 to run Django in debug mode (never in production).",
    "ALLOWED_HOSTS": "Comma-separated host names to serve (default: the PUBLIC_URL host, localhost, 127.0.0.1).",
    "EMBEDDED_WORKER": "0 to run `serve` without its in-process worker and scheduler (scaled web nodes).",
    "WORKER_PROCESS": "1 to run the job worker of `serve` in a process of its own beside the web process (and its scheduler), so both use a core; 0 for one process (default 1 when the process may use 2 or more CPUs by its affinity and cgroup quota, else 0; docs/adr/0006).",
    "INTAKE": "SQLite: 1 to commit acknowledged payloads to an intake file beside the database, which the worker moves into the database (docs/adr/0008); default 1 in `serve` when its web process runs no worker thread (the worker process, or EMBEDDED_WORKER=0), else 0.",
    "WORKER_CONCURRENCY": "Worker threads of `serve` and the default of `threadline worker --concurrency` (default 2).",
    "DB_POOL_MIN": "PostgreSQL: connections each process keeps open in its pool (default 2).",
    "DB_PREPARE": "PostgreSQL: a connection prepares a statement once it has run it this many times, with its values bound by the server; 0 sends each statement as text with its values in it, as a transaction-mode PgBouncer older than 1.21 needs (default 2 in worker processes unless DB_POOL_MAX=0, 0 in web processes).",
    "DB_POOL_MAX": "PostgreSQL: most connections one process opens (default: worker threads + 1 + THREADLINE_WEB_THREADS); 0 turns the pool off.",
    "WEB_THREADS": "Threads that run a process's HTTP requests, each request whole in one (default 10); more requests wait for a free one. Raise it when requests wait on slow providers (docs/adr/0007).",
    "OUTBOUND_ALLOW_PRIVATE": "1 to let outbound connections (webhooks, provider APIs, SMTP relays, IMAP hosts) reach private and loopback addresses.",
    "TRUSTED_PROXIES": "Comma-separated addresses or CIDR networks of reverse proxies whose X-Forwarded-For is believed (default: none).",
    "API_RATE_LIMIT": "Requests per minute allowed per API token (default 600).",
    "SERVER_TIMING": "1 to add a Server-Timing header to every response: time in Django, in SQL, in garbage collection, opening connections (for benchmarks; see docs/performance.md).",
    "LOG_LEVEL": "Python log level (default INFO).",
    "METRICS_TOKEN": "Bearer token /metrics asks for; without it /metrics answers loopback clients only.",
    "DNS_NAMESERVERS": "Comma-separated host[:port] DNS servers for email domain verification (default: the system's resolver).",
}


def get(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"THREADLINE_{name}", default)


CPU_QUOTA_FILE = Path("/sys/fs/cgroup/cpu.max")  # cgroup v2: "<quota> <period>" in µs, or "max <period>"


def usable_cores() -> int:
    """The CPUs this process may use: those it may run on (its affinity: taskset, a container's cpuset), no
    more than its cgroup's CPU quota allows, rounded up (`docker run --cpus 1.5` gives 2)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    with contextlib.suppress(OSError, ValueError, ZeroDivisionError):
        quota, period = CPU_QUOTA_FILE.read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, -(-int(quota) // int(period))))
    return cores


def worker_process() -> bool:
    """THREADLINE_WORKER_PROCESS, by default on where the process may use 2 CPUs or more (ADR 0006)."""
    return flag("WORKER_PROCESS", default=usable_cores() >= 2)


def optional_flag(name: str) -> bool | None:
    """A flag, or None when the variable is not set (its default is decided where it is used)."""
    return None if get(name) is None else flag(name)


def flag(name: str, default: bool = False) -> bool:
    value = get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def networks(name: str) -> list[str]:
    """Comma-separated addresses or CIDR networks; ValueError names the first bad one."""
    found = []
    for item in (part.strip() for part in (get(name) or "").split(",")):
        if not item:
            continue
        try:
            found.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError as exc:
            raise ValueError(f"THREADLINE_{name}: {item!r} is not an address or network") from exc
    return found


def host_ports(value: str | None, default_port: int) -> list[tuple[str, int]]:
    """`host[:port],...` (IPv6 in brackets) as (host, port) pairs."""
    pairs = []
    for item in (value or "").split(","):
        item = item.strip()
        if not item:
            continue
        if item.startswith("["):
            host, _sep, rest = item[1:].partition("]")
            port = rest.lstrip(":")
        elif item.count(":") == 1:
            host, _sep, port = item.partition(":")
        else:
            host, port = item, ""
        pairs.append((host, int(port) if port else default_port))
    return pairs


def cache_dir(data: Path) -> Path:
    """Where files derived from installed packages are kept (`language.identifier`): CACHE_DIR, else DATA_DIR/cache."""
    return Path(get("CACHE_DIR") or data / "cache").resolve()


def data_dir() -> Path:
    """The data directory, created readable by this account only (0700): it holds the database, the secret
    key and every attachment."""
    path = Path(get("DATA_DIR") or "./var").resolve()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:  # another process made it first
            pass
        else:
            path.chmod(0o700)  # mkdir's mode is masked by the umask
    return path


SERVED_URL_FILE = "public_url"


def served_url(directory: Path) -> str | None:
    """The URL the last `threadline serve` on this data directory answered on (see `remember_served_url`)."""
    try:
        return (directory / SERVED_URL_FILE).read_text().strip() or None
    except OSError:
        return None


def remember_served_url(directory: Path, url: str) -> None:
    """`serve` records the URL it answers on, so that `createadmin`, `channel create`, `doctor` run beside it
    without THREADLINE_PUBLIC_URL print links to the running server's port, not the default one."""
    with contextlib.suppress(OSError):
        (directory / SERVED_URL_FILE).write_text(url + "\n")


def public_url(directory: Path) -> str:
    """THREADLINE_PUBLIC_URL; else the URL of the last server on this data directory; else localhost:8000."""
    return (get("PUBLIC_URL") or served_url(directory) or "http://localhost:8000").rstrip("/")


def secret_key(directory: Path) -> str:
    """The configured secret key, or the one kept in the data directory (created once, mode 0600)."""
    configured = get("SECRET_KEY")
    if configured:
        return configured
    key_file = directory / "secret_key"
    try:
        return key_file.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(50)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def database_config(directory: Path) -> dict[str, object]:
    """Django DATABASES['default'] from THREADLINE_DATABASE_URL, or embedded SQLite in WAL mode."""
    url = get("DATABASE_URL")
    if not url or url.startswith("sqlite:"):
        name = str(directory / "threadline.sqlite3")
        if url:
            path = url.split(":", 1)[1].lstrip("/")
            name = "/" + path if url.startswith("sqlite:////") else path or name
        return {
            "ENGINE": "threadline.core.sqlite",  # Django's, with one process's writers taking turns
            "NAME": name,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;PRAGMA busy_timeout=20000;"
                ),
            },
            # Tests get a file of their own (one per process; pytest-xdist adds a suffix per worker), in WAL
            # mode like the server's: a shared-cache in-memory database locks whole tables and answers a
            # reader that meets another thread's open write with "database table is locked" at once, where
            # WAL lets readers through and makes writers wait (busy timeout).
            "TEST": {"NAME": str(Path(tempfile.gettempdir()) / f"threadline-test-{os.getpid()}.sqlite3")},
        }
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql", "postgresql+psycopg"}:
        raise ValueError(f"THREADLINE_DATABASE_URL: unsupported scheme {parsed.scheme!r}")
    options: dict[str, object] = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
    pool = database_pool()
    if pool:
        options["pool"] = pool
    prepare = _count("DB_PREPARE", 0)  # worker processes set it before the settings load: `prepare_in_workers`
    if prepare:  # psycopg binds the values server-side and prepares a statement run that many times
        options.update(server_side_binding=True, prepare_threshold=prepare)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")) or "threadline",
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(parsed.port or ""),
        # One test database per test process, so parallel test runs on one server never share one.
        "TEST": {"NAME": f"test_{unquote(parsed.path.lstrip('/')) or 'threadline'}_{os.getpid()}"},
        # Pooled: a connection goes back to the pool when Django closes it (end of a request, an idle worker);
        # Django refuses a pool with persistent connections. Without a pool, kept for a minute.
        "CONN_MAX_AGE": 0 if pool else 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": options,
    }


# PostgreSQL: a connection prepares a statement once it has run it this many times (psycopg's own default is
# 5; 2 measured better): parsed and planned once per connection instead of at each run. Measured
# (docs/performance.md, "Prepared statements on PostgreSQL"): a processed message costs PostgreSQL about a
# third less CPU, and two workers process 1.7-1.9x one instead of 1.4x on 2 cores.
PREPARE_AFTER = 2


def prepare_in_workers() -> None:
    """In a worker process (`threadline worker`, the worker process of `serve`), before the settings load:
    THREADLINE_DB_PREPARE defaults to PREPARE_AFTER, unless the pool is off (a transaction-mode PgBouncer).
    Only there: a worker runs the same pipeline statements again and again, where a plan of the statement
    alone (PostgreSQL's generic plan, chosen after a prepared statement's fifth run) does well; the web's
    reads and searches keep a plan made for each request's values (how rare a searched word is,
    docs/search.md), which forcing custom plans on prepared statements would keep but without the gain
    (measured: PostgreSQL's CPU per message back to 4.1 ms). Measured in a web process at 1,000,000: reads
    7-25 % faster, searches up to 40 times slower (docs/performance.md, "In the web processes too?")."""
    if get("DB_PREPARE") is None and (get("DB_POOL_MAX") or "").strip() != "0":
        os.environ["THREADLINE_DB_PREPARE"] = str(PREPARE_AFTER)


# Connections a process's requests may hold at once beside its background threads: requests beyond it wait
# for a connection (THREADLINE_DB_POOL_MAX; docs/performance.md, "Pooled connections on PostgreSQL").
WEB_CONNECTIONS = 10


def _count(name: str, default: int) -> int:
    value = get(name)
    if value is None or not value.strip():
        return default
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"THREADLINE_{name}: not a whole number: {value!r}") from None
    if number < 0:
        raise ValueError(f"THREADLINE_{name}: must not be negative: {value!r}")
    return number


def web_threads() -> int:
    """THREADLINE_WEB_THREADS: the threads of `core.asgi_pool` that run a process's HTTP requests, and as many
    connections of the process's pool for them (default WEB_CONNECTIONS)."""
    count = _count("WEB_THREADS", WEB_CONNECTIONS)
    if count == 0:
        raise ValueError("THREADLINE_WEB_THREADS: at least one thread runs the requests")
    return count


def database_pool(threads: int | None = None) -> dict[str, object] | None:
    """Options of Django's PostgreSQL connection pool (psycopg-pool), or None when THREADLINE_DB_POOL_MAX=0.

    `threads`: the process's background threads that take a connection from the pool (default: the
    THREADLINE_WORKER_CONCURRENCY workers and the scheduler); the web's requests get one per web thread
    (`web_threads`) beside them. The LISTEN thread of a worker pool holds a connection of its own, outside the pool.
    """
    if threads is None:
        threads = _count("WORKER_CONCURRENCY", 2) + 1
    maximum = _count("DB_POOL_MAX", threads + web_threads())
    if maximum == 0:
        return None
    minimum = min(_count("DB_POOL_MIN", 2), maximum)
    return {"min_size": minimum, "max_size": maximum, "name": "threadline", "timeout": 30.0}
