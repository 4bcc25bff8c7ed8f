from threadline.channels.models import Channel, Delivery, InboundEvent
from threadline.core.admin_site import register

register(Channel, list_display=("name", "kind", "provider", "workspace", "is_active"), filters=("kind",),
         readonly=("config_encrypted",))
register(InboundEvent, list_display=("channel", "idempotency_key", "state", "error_code", "created_at"),
         filters=("state", "error_code"),
         search=("idempotency_key",))
register(Delivery, list_display=("message", "channel", "state", "attempts", "next_attempt_at"), filters=("state",))
