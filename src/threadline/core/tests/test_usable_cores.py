"""`config.env.usable_cores`: what decides `serve`'s worker process by default (ADR 0006)."""

from __future__ import annotations

import os

import pytest

from threadline.config import env


@pytest.fixture
def affinity(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})


@pytest.mark.parametrize(("cpu_max", "cores"), [
    ("max 100000\n", 4),  # no quota: the CPUs the process may run on
    ("100000 100000\n", 1),  # docker run --cpus 1
    ("150000 100000\n", 2),  # --cpus 1.5: rounded up
    ("50000 100000\n", 1),  # half a CPU is still one
    ("800000 100000\n", 4),  # a quota above the affinity
    ("garbage\n", 4),
])
def test_the_cgroup_quota_caps_the_cpus_the_process_may_run_on(affinity, monkeypatch, tmp_path, cpu_max, cores):
    quota = tmp_path / "cpu.max"
    quota.write_text(cpu_max)
    monkeypatch.setattr(env, "CPU_QUOTA_FILE", quota)
    assert env.usable_cores() == cores


def test_without_a_cgroup_file_the_affinity_decides(affinity, monkeypatch, tmp_path):
    monkeypatch.setattr(env, "CPU_QUOTA_FILE", tmp_path / "absent")
    assert env.usable_cores() == 4


def test_the_worker_process_is_on_by_default_with_two_cpus_and_off_with_one(monkeypatch, tmp_path):
    monkeypatch.delenv("THREADLINE_WORKER_PROCESS", raising=False)
    monkeypatch.setattr(env, "CPU_QUOTA_FILE", tmp_path / "absent")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert env.worker_process() is True
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert env.worker_process() is False
    monkeypatch.setenv("THREADLINE_WORKER_PROCESS", "1")
    assert env.worker_process() is True
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setenv("THREADLINE_WORKER_PROCESS", "0")
    assert env.worker_process() is False
