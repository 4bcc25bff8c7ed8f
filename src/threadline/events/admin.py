from threadline.core.admin_site import register
from threadline.events.models import OutboxEvent

register(OutboxEvent, list_display=("type", "workspace", "created_at"), filters=("type",))
