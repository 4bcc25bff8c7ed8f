"""ASGI entry: Django for HTTP (each request in one thread of a pool, `core.asgi_pool`), Channels for
WebSockets (agent workspace and chat widget)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "threadline.config.settings")

import django  # noqa: E402

django.setup(set_prefix=False)  # as django.core.asgi.get_asgi_application does

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from threadline.config import env  # noqa: E402
from threadline.core.asgi_pool import PooledASGIHandler  # noqa: E402
from threadline.core.body_limit import BodyLimit  # noqa: E402
from threadline.realtime.routing import websocket_urlpatterns  # noqa: E402

# THREADLINE_WEB_THREADS threads, and as many connections of the process's pool (config/env.py).
django_http = PooledASGIHandler(threads=env.web_threads())

# Request bodies are counted as they arrive (a chunked body has no Content-Length to trust).
application = ProtocolTypeRouter({"http": BodyLimit(django_http), "websocket": URLRouter(websocket_urlpatterns)})
