"""The helpers of the real-process tests (`testing/server.py`) that decide when a child is started again."""

from __future__ import annotations

import socket

from threadline.config.env import remember_served_url
from threadline.testing.server import port_free, shell_key


def test_a_shell_child_is_kept_while_the_server_answers_on_the_same_url(tmp_path):
    """The settings read the URL the last `serve` wrote (PUBLIC_URL): a start on another port, or another
    setting, needs a new shell child; a start on the same port, or another Redis prefix, does not."""
    env = {"THREADLINE_EMBEDDED_WORKER": "0", "THREADLINE_REDIS_PREFIX": "tlproc-a"}
    before_any_start = shell_key(env, tmp_path)
    remember_served_url(tmp_path, "http://localhost:41001")
    started = shell_key({**env, "THREADLINE_REDIS_PREFIX": "tlproc-b"}, tmp_path)
    assert started != before_any_start
    remember_served_url(tmp_path, "http://localhost:41001")  # started again on its port
    assert shell_key(env, tmp_path) == started
    assert shell_key({**env, "THREADLINE_EMBEDDED_WORKER": "1"}, tmp_path) != started
    remember_served_url(tmp_path, "http://localhost:41002")  # started again on another port
    assert shell_key(env, tmp_path) != started


def test_a_port_someone_listens_on_is_not_free():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert not port_free(port)
    assert port_free(port)
