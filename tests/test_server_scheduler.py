"""Two `threadline scheduler` processes on one database: only the lock holder acts; the other takes over
once the holder dies and its lease expires."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from threadline.testing.server import ServerProcess, migrated_copy, threadline_command

pytestmark = pytest.mark.slow

INTERVAL = "0.2"
LOCK_TTL = "2"


def wait_for(predicate, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise TimeoutError(what)


class SchedulerProcess:
    def __init__(self, base: ServerProcess, name: str) -> None:
        self.log = Path(base.data_dir) / f"{name}.err"
        with open(self.log, "wb") as err:
            self.process = subprocess.Popen(
                threadline_command("scheduler", "--interval", INTERVAL, "--lock-ttl", LOCK_TTL),
                env=base.env, stdout=subprocess.DEVNULL, stderr=err, cwd=base.data_dir,
            )
        self.holder = ""

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def started(self) -> bool:
        return "started (interval" in self.text()

    def took_lock(self) -> bool:
        return "took the lock" in self.text()

    def holder_id(self) -> str:
        return re.search(r"scheduler (\S+) started \(interval", self.text()).group(1)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(30)


@pytest.fixture
def base(request, tmp_path_factory, tmp_path):
    with migrated_copy(request, tmp_path_factory, tmp_path / "data") as url, ServerProcess(tmp_path / "data", database_url=url) as proc:
        yield proc


def test_two_schedulers_never_both_act_and_the_standby_takes_over(base):
    one, two = SchedulerProcess(base, "one"), SchedulerProcess(base, "two")
    try:
        wait_for(lambda: one.started() and two.started(), what="both schedulers start")
        wait_for(lambda: one.took_lock() or two.took_lock(), what="one takes the lock")
        leader, standby = (one, two) if one.took_lock() else (two, one)
        # Both tick for many intervals (and a whole lease) while the leader holds the lock.
        wait_for(lambda: leader.text().count("\n") >= 3, what="leader ticks")
        time.sleep(float(LOCK_TTL) * 1.5)
        assert not standby.took_lock(), standby.text()
        assert "enqueued" in leader.text() and "enqueued" not in standby.text()
        periodic = base.python(
            "import json; from threadline.jobs.models import Job; "
            "print(json.dumps(list(Job.objects.filter(unique_key__startswith='periodic:')"
            ".values_list('unique_key', flat=True))))"
        )
        assert periodic and len(periodic) == len(set(periodic))  # one job per task and time slot
        assert base.shell("from threadline.jobs.models import SchedulerLock; "
                          "print(SchedulerLock.objects.get().holder)") == leader.holder_id()

        assert leader.stop(signal.SIGKILL) == -signal.SIGKILL  # no chance to release the lock
        wait_for(standby.took_lock, what="the standby takes over after the lease expires")
        assert base.shell("from threadline.jobs.models import SchedulerLock; "
                          "print(SchedulerLock.objects.get().holder)") == standby.holder_id()
        assert standby.stop(signal.SIGTERM) == 0
        assert "released the lock" in standby.text()
        assert base.shell("from threadline.jobs.models import SchedulerLock; "
                          "print(SchedulerLock.objects.count())") == "0"
    finally:
        for proc in (one, two):
            if proc.process.poll() is None:
                proc.process.kill()
                proc.process.wait()


def test_lock_ttl_must_outlast_the_interval(base):
    result = base.run("scheduler", "--interval", "5", "--lock-ttl", "5", check=False)
    assert result.returncode != 0 and "longer than its interval" in result.stderr
