from threadline.contacts.models import Contact, ContactIdentity, ContactMerge, MergeSuggestion, Organization
from threadline.core.admin_site import register

register(Organization, list_display=("name", "workspace"), search=("name",))
register(Contact, list_display=("name", "workspace", "language", "merged_into"), search=("name",))
register(ContactIdentity, list_display=("kind", "address", "contact", "verified", "source"),
         search=("address",), filters=("kind", "verified"))
register(MergeSuggestion, list_display=("contact", "candidate", "score", "state"), filters=("state",))
register(ContactMerge, list_display=("target", "source", "actor", "created_at", "unmerged_at"),
         readonly=("snapshot",))
