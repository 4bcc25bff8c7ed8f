from threadline.core.admin_site import register
from threadline.webhooks.models import WebhookDelivery, WebhookSubscription

register(WebhookSubscription, list_display=("url", "workspace", "is_active"), readonly=("secret_encrypted",))
register(WebhookDelivery, list_display=("subscription", "event", "state", "attempts", "response_status"),
         filters=("state",))
