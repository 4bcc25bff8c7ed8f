"""ASGI entry: Django for HTTP, Channels for WebSockets (agent workspace and chat widget)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "threadline.config.settings")

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi = get_asgi_application()

from threadline.core.body_limit import BodyLimit  # noqa: E402
from threadline.realtime.routing import websocket_urlpatterns  # noqa: E402

# Request bodies are counted as they arrive (a chunked body has no Content-Length to trust).
application = ProtocolTypeRouter({"http": BodyLimit(django_asgi), "websocket": URLRouter(websocket_urlpatterns)})
