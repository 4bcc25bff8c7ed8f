"""Writes of CRM sync. The CRM's own answers are read first (`sync.py`, outside any transaction); these store
what they said.

The conflict rule (docs/integrations.md): a contact's name is merged three ways against the name last seen in
the CRM. Changed only in the CRM: the CRM's wins. Changed only here: ours stays. Changed on both sides: the
newer change wins (the contact's last update here against the record's last modification there), and the sync
log keeps both values. Company, owner and the record's address are the CRM's and only shown here."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from threadline.audit.actions import record as audit
from threadline.contacts.actions import do_update_contact
from threadline.contacts.models import Contact
from threadline.core import crypto, destinations, http
from threadline.core.errors import ValidationFailed
from threadline.core.time import now
from threadline.crm.models import CrmConnection, CrmLink, CrmSyncLog, Provider
from threadline.crm.oauth import DEFAULT_URLS, expires_at
from threadline.crm.providers.base import Record
from threadline.tenancy.models import Membership
from threadline.tenancy.permissions import Permission, require


def check_connection(provider: Any, client_id: Any, client_secret: Any, auth_url: Any) -> tuple[str, str, str, str]:
    provider, client_id = str(provider or ""), str(client_id or "").strip()
    client_secret, auth_url = str(client_secret or "").strip(), str(auth_url or "").strip().rstrip("/")
    if provider not in Provider.values:
        raise ValidationFailed(_("Choose HubSpot or Salesforce."), field="provider")
    if not client_id or len(client_id) > 300:
        raise ValidationFailed(_("Give the app's client id."), field="client_id")
    if auth_url and not auth_url.startswith("https://") and not destinations.private_allowed():
        raise ValidationFailed(_("The sign-in address must be https."), field="auth_url")
    if auth_url:
        http.refuse_private_url(auth_url, field="auth_url")
    return provider, client_id, client_secret, auth_url


def do_prepare_connection(actor: Membership, *, provider: Any, client_id: Any, client_secret: Any = "",
                          auth_url: Any = "", api_url: Any = "", create_missing: bool = True) -> CrmConnection:
    """The app's credentials, kept until the admin has signed in at the CRM (OAuth finishes the connection).
    A blank secret keeps the stored one. `auth_url`/`api_url`: a Salesforce sandbox or My Domain, a test server."""
    require(actor, Permission.ADMIN_WORKSPACE)
    provider, client_id, client_secret, auth_url = check_connection(provider, client_id, client_secret, auth_url)
    connection = CrmConnection.objects.filter(workspace_id=actor.workspace_id, provider=provider).first()
    secrets = crypto.decrypt_json(connection.secrets_encrypted) if connection else {}
    if client_secret:
        secrets = {"client_secret": client_secret}  # new app credentials: earlier tokens are void
    if not secrets.get("client_secret"):
        raise ValidationFailed(_("Give the app's client secret."), field="client_secret")
    default_auth, default_api = DEFAULT_URLS[provider]
    connection = connection or CrmConnection(workspace_id=actor.workspace_id, provider=provider)
    connection.client_id, connection.create_missing = client_id, bool(create_missing)
    connection.auth_url = auth_url or default_auth
    api_url = str(api_url or "").strip().rstrip("/")
    if api_url:
        check_connection(provider, client_id, "", api_url)  # the same rule as the sign-in address
    connection.api_url = api_url or connection.api_url or default_api
    connection.secrets_encrypted = crypto.encrypt_json(secrets)
    connection.is_active = bool(secrets.get("access_token"))
    connection.save()
    audit("crm.configured", workspace_id=actor.workspace_id, target_type="crm_connection", target_id=connection.pk,
          details={"provider": provider, "client_id": client_id, "secret_changed": bool(client_secret)}, actor=actor)
    return connection


def do_store_tokens(connection: CrmConnection, answer: dict[str, Any]) -> CrmConnection:
    """Tokens from the token endpoint (a first exchange or a refresh). Salesforce names the org's API address
    (`instance_url`) and its id URL (`id`, ending in the org and user ids)."""
    secrets = crypto.decrypt_json(connection.secrets_encrypted)
    secrets["access_token"] = str(answer["access_token"])
    if answer.get("refresh_token"):
        secrets["refresh_token"] = str(answer["refresh_token"])
    connection.secrets_encrypted = crypto.encrypt_json(secrets)
    connection.token_expires_at = expires_at(answer)
    if answer.get("instance_url"):
        http.refuse_private_url(str(answer["instance_url"]), field="instance_url")
        connection.api_url = str(answer["instance_url"]).rstrip("/")
    if answer.get("id") and connection.provider == Provider.SALESFORCE:
        connection.account = str(answer["id"]).rstrip("/").split("/")[-2][:300]
    if answer.get("hub_id"):
        connection.account = str(answer["hub_id"])
    connection.save()
    return connection


def do_finish_oauth(actor: Membership, connection: CrmConnection, answer: dict[str, Any]) -> CrmConnection:
    require(actor, Permission.ADMIN_WORKSPACE)
    do_store_tokens(connection, answer)
    connection.is_active, connection.polled_until = True, now()
    connection.save(update_fields=["is_active", "polled_until", "updated_at"])
    audit("crm.connected", workspace_id=connection.workspace_id, target_type="crm_connection",
          target_id=connection.pk, details={"provider": connection.provider, "account": connection.account}, actor=actor)
    return connection


def do_disconnect(actor: Membership, connection: CrmConnection) -> None:
    require(actor, Permission.ADMIN_WORKSPACE)
    audit("crm.disconnected", workspace_id=connection.workspace_id, target_type="crm_connection",
          target_id=connection.pk, details={"provider": connection.provider}, actor=actor)
    connection.delete()


def _log(connection: CrmConnection, contact: Contact | None, kind: str, **fields: str) -> CrmSyncLog:
    fields = {key: str(value)[:500 if key == "detail" else 300] for key, value in fields.items()}
    return CrmSyncLog.objects.create(workspace_id=connection.workspace_id, connection=connection, contact=contact,
                                     kind=kind, **fields)


def do_link_record(connection: CrmConnection, contact: Contact, record: Record, *, created: bool) -> CrmLink:
    link = CrmLink.objects.filter(connection=connection, contact=contact).first()
    if link is None:
        link = CrmLink.objects.create(
            workspace_id=connection.workspace_id, connection=connection, contact=contact, external_id=record.id,
            url=record.url, company=record.company[:300], owner=record.owner[:300], remote_name=record.name[:300],
            remote_updated_at=record.updated_at, synced_at=now())
        _log(connection, contact, CrmSyncLog.Kind.CREATED if created else CrmSyncLog.Kind.LINKED,
             theirs=record.id, detail=record.url)
        if not contact.name and record.name:
            do_update_contact(contact, name=record.name)
        return link
    return do_apply_record(link, record)


def do_apply_record(link: CrmLink, record: Record) -> CrmLink:
    """What the CRM says of a linked record now, under the conflict rule (module docstring)."""
    contact = link.contact
    base, ours, theirs = link.remote_name, contact.name, record.name
    if theirs and theirs != base and theirs != ours:
        if ours == base or not ours:
            do_update_contact(contact, name=theirs)
            _log(link.connection, contact, CrmSyncLog.Kind.UPDATED, field="name", ours=ours, theirs=theirs, kept="theirs")
        else:
            newer_there = record.updated_at is not None and record.updated_at > contact.updated_at
            if newer_there:
                do_update_contact(contact, name=theirs)
            _log(link.connection, contact, CrmSyncLog.Kind.CONFLICT, field="name", ours=ours, theirs=theirs,
                 kept="theirs" if newer_there else "ours")
    link.remote_name, link.remote_updated_at = theirs[:300], record.updated_at
    link.company, link.owner, link.url, link.synced_at = record.company[:300], record.owner[:300], record.url, now()
    link.save()
    return link


def do_note_activity(connection: CrmConnection, contact: Contact, conversation_id: int, activity_id: str) -> None:
    _log(connection, contact, CrmSyncLog.Kind.ACTIVITY, theirs=activity_id,
         detail=_("Conversation #%(id)s logged") % {"id": conversation_id})


def do_note_failure(connection: CrmConnection, contact: Contact | None, detail: str) -> None:
    _log(connection, contact, CrmSyncLog.Kind.FAILED, detail=detail)
