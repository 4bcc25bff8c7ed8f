from threadline.conversations.models import Attachment, Conversation, ConversationEvent, Message, Tag
from threadline.core.admin_site import register

register(Conversation, list_display=("subject", "contact", "status", "priority", "assignee", "updated_at"),
         search=("subject",), filters=("status", "priority"))
register(Message, list_display=("conversation", "direction", "author_kind", "channel", "status", "created_at"),
         search=("text", "provider_message_id"), filters=("direction", "status", "is_note"))
register(Attachment, list_display=("filename", "content_type", "size", "message"), search=("filename",))
register(ConversationEvent, list_display=("conversation", "kind", "actor", "created_at"), filters=("kind",))
register(Tag, list_display=("name", "workspace"), search=("name",))
