"""Writing an import: every row a page of source records becomes, the page's checkpoint and what was skipped,
all in the caller's transaction (the runner commits one page at a time, so a crash loses nothing that was
committed and a re-run resumes on the first page that was not).

This is a bulk loader of history, not new activity: rows are written with `bulk_create` and their source
timestamps set exactly (created, updated, solved, each message's time), and no per-row domain event is
published, so nothing reacts as if the history were happening now (no routing, SLA timers, automations,
surveys, outbound webhooks, notifications). Search and analytics are rebuilt once at the end of a run
(runner.py). Agents are the exception: they go through the tenancy invitation (`do_invite_agent`), a seat
that stays inactive until the person accepts, mailed only when asked.

Every source record is matched on `ExternalRef` (source, kind, id) first: a re-run imports nothing twice; a
ticket seen again (updated at the source since) gets its new comments and its new status, tags and fields.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Model
from django.utils.translation import gettext as _

from threadline.contacts import identities
from threadline.contacts.models import Contact, ContactIdentity, CustomField, IdentityKind, Organization
from threadline.conversations.models import (
    Attachment,
    AuthorKind,
    Conversation,
    ConversationEvent,
    DeliveryStatus,
    Direction,
    Message,
    Tag,
)
from threadline.core.errors import Conflict, ThreadlineError
from threadline.core.html import sanitize
from threadline.core.time import now
from threadline.migration import records as r
from threadline.migration.models import Checkpoint, ExternalRef, ImportRun, Skipped
from threadline.surveys.models import Kind, Survey, SurveyRequest, SurveyResponse
from threadline.tenancy.models import Membership, Role, Workspace

SOURCE_LABEL = {"zendesk": "Zendesk", "freshdesk": "Freshdesk", "helpscout": "Help Scout"}


@dataclass
class StoredFile:
    """An attachment's bytes already in storage (the runner downloads and checks them before the
    transaction), or why it was not taken."""

    name: str = ""
    filename: str = ""
    content_type: str = ""
    size: int = 0
    sha256: str = ""
    skip_code: str = ""
    skip_reason: str = ""


def attachment_key(comment: r.Comment, attachment: r.Attachment) -> str:
    return f"{comment.id}/{attachment.id}"[:64]


# ── runs, checkpoints, references ───────────────────────────────────────────────────────────────────
STALE = dt.timedelta(minutes=10)  # a run on another host that wrote no page for this long is taken as dead


def _alive(run: ImportRun) -> bool:
    """Whether the command running `run` may still be running: its process on this host exists, or (another
    host) it committed a page within STALE."""
    host, _sep, pid = run.process.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return run.updated_at >= now() - STALE


def do_start_run(workspace: Workspace, source: str, *, force: bool = False) -> ImportRun:
    """A new run of `source`; Conflict while another one runs (`force`: the operator knows it does not).
    Runs whose command died (killed, crashed) are closed as interrupted."""
    for running in ImportRun.objects.select_for_update().filter(workspace=workspace, source=source,
                                                                state=ImportRun.State.RUNNING):
        if not force and _alive(running):
            raise Conflict(_("Import %(id)s of this source is still running (%(process)s); wait for it to end.")
                           % {"id": running.pk, "process": running.process}, code="import_running")
        running.state, running.finished_at = ImportRun.State.FAILED, now()
        running.error = _("Interrupted: the command stopped before the end. A later run went on from its checkpoints.")
        running.save(update_fields=["state", "finished_at", "error", "updated_at"])
    return ImportRun.objects.create(workspace=workspace, source=source, process=f"{socket.gethostname()}:{os.getpid()}")


def do_finish_run(run: ImportRun, counts: dict[str, dict[str, int]], *, error: str = "") -> ImportRun:
    run.counts, run.error = counts, error[:2000]
    run.state = ImportRun.State.FAILED if error else ImportRun.State.FINISHED
    run.finished_at = now()
    run.save(update_fields=["counts", "error", "state", "finished_at", "updated_at"])
    return run


def do_reset_checkpoints(workspace: Workspace, source: str) -> int:
    """Forget where every stage stopped (`--restart`): the next run reads the source from its start again,
    importing only what it does not have yet."""
    return Checkpoint.objects.filter(workspace=workspace, source=source).delete()[0]


def do_save_checkpoint(workspace: Workspace, source: str, stage: str, cursor: str, complete: bool) -> None:
    Checkpoint.objects.update_or_create(workspace=workspace, source=source, stage=stage,
                                        defaults={"cursor": cursor, "complete": complete})


def known(workspace_id: int, source: str, kind: str, ids: Iterable[str]) -> dict[str, int]:
    """Source id → our id of the records of `kind` already imported."""
    wanted = sorted({i for i in ids if i})
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        found.update(ExternalRef.objects.filter(workspace_id=workspace_id, source=source, kind=kind,
                                                external_id__in=wanted[start:start + 500])
                     .values_list("external_id", "local_id"))
    return found


def _stamp(model: type[Model], rows: list[Any], fields: tuple[str, ...] = ("created_at", "updated_at")) -> None:
    """Write these fields of saved rows as they are on the objects: one `UPDATE … WHERE id = %s` run with
    `executemany` (linear; `bulk_update`'s CASE per row is quadratic in the batch on SQLite), which sets no
    auto_now field."""
    if not rows:
        return
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    sql = (f"UPDATE {quote(meta.db_table)} SET {', '.join(f'{quote(f.column)} = %s' for f in columns)} "
           f"WHERE {quote(meta.pk.column)} = %s")
    params = [[f.get_db_prep_save(getattr(row, f.attname), connection) for f in columns] + [row.pk] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _create(model: type[Model], rows: list[Any]) -> None:
    """`bulk_create` keeping the source's `created_at`/`updated_at` set on the rows (auto_now_add and
    auto_now overwrite them on insert; they are put back with one update per batch)."""
    if not rows:
        return
    times = [(row.created_at, row.updated_at) for row in rows]
    model.objects.bulk_create(rows, batch_size=500)  # type: ignore[attr-defined]
    for row, (created, updated) in zip(rows, times, strict=True):
        row.created_at, row.updated_at = created or row.created_at, updated or created or row.updated_at
    _stamp(model, rows)


class PageWriter:
    """Writes one page of one stage for one run. `counts` says what happened to each record."""

    def __init__(self, run: ImportRun, stage: str, *, invite: bool = False) -> None:
        self.run, self.stage, self.invite = run, stage, invite
        self.workspace = run.workspace
        self.ws, self.source = run.workspace_id, run.source
        self.counts: Counter[str] = Counter()
        self.skipped: list[Skipped] = []
        self.refs: list[ExternalRef] = []
        self.invitations: list[tuple[Any, str]] = []

    # ── bookkeeping ────────────────────────────────────────────────────────────────────────────────
    def skip(self, kind: str, external_id: str, code: str, reason: str) -> None:
        self.counts[f"skipped_{kind}"] += 1
        self.skipped.append(Skipped(workspace_id=self.ws, run=self.run, kind=kind, external_id=external_id[:64],
                                    code=code[:64], reason=reason))

    def ref(self, kind: str, external_id: str, local_id: int) -> None:
        self.refs.append(ExternalRef(workspace_id=self.ws, source=self.source, kind=kind,
                                     external_id=external_id[:64], local_id=local_id))

    def write(self, page: r.Page, files: dict[str, StoredFile]) -> Counter[str]:
        for kind, external_id, code, reason in page.skipped:
            self.skip(kind, external_id, code, reason)
        by_type: dict[type, list[Any]] = {}
        for item in page.items:
            by_type.setdefault(type(item), []).append(item)
        for kind, writer in ((r.Agent, self.agents), (r.Organization, self.organizations), (r.Contact, self.contacts),
                             (r.Ticket, self.tickets), (r.Rating, self.ratings)):
            if by_type.get(kind):
                writer(by_type[kind], files) if kind is r.Ticket else writer(by_type[kind])
        ExternalRef.objects.bulk_create(self.refs, batch_size=500)
        Skipped.objects.bulk_create(self.skipped, batch_size=500)
        ImportRun.objects.filter(pk=self.run.pk).update(updated_at=now())  # alive (see _alive)
        do_save_checkpoint(self.workspace, self.source, self.stage, page.cursor, page.done)
        return self.counts

    # ── agents ─────────────────────────────────────────────────────────────────────────────────────
    def agents(self, items: list[r.Agent]) -> None:
        from threadline.routing.seats import do_invite_agent

        done = known(self.ws, self.source, "agent", (a.id for a in items))
        for agent in items:
            if agent.id in done:
                self.counts["unchanged_agent"] += 1
                continue
            email = (agent.email or "").strip().lower()
            if not email:
                self.skip("agent", agent.id, "no_email", _("The agent has no email address to invite."))
                continue
            seat = Membership.objects.filter(workspace_id=self.ws, user__email=email).first()
            if seat is not None:
                self.ref("agent", agent.id, seat.pk)
                self.counts["matched_agent"] += 1
                continue
            try:
                invitation, raw = do_invite_agent(self.workspace, email, invited_by=None, name=agent.name[:200],
                                                  role=agent.role if agent.role in Role.values else Role.AGENT)
            except ThreadlineError as exc:
                self.skip("agent", agent.id, exc.code, exc.message)
                continue
            assert invitation.membership_id is not None
            self.ref("agent", agent.id, invitation.membership_id)
            self.counts["imported_agent"] += 1
            if self.invite:
                self.invitations.append((invitation, raw))

    # ── organizations ──────────────────────────────────────────────────────────────────────────────
    def organizations(self, items: list[r.Organization]) -> None:
        done = known(self.ws, self.source, "organization", (o.id for o in items))
        by_name = dict(Organization.objects.filter(workspace_id=self.ws, name__in=[o.name for o in items])
                       .values_list("name", "pk"))
        pending: dict[str, list[r.Organization]] = {}  # two source organizations of one name become one
        for org in items:
            if org.id in done:
                self.counts["unchanged_organization"] += 1
            elif not org.name:
                self.skip("organization", org.id, "no_name", _("The organization has no name."))
            elif org.name in by_name:
                self.ref("organization", org.id, by_name[org.name])
                self.counts["matched_organization"] += 1
            else:
                pending.setdefault(org.name, []).append(org)
        rows = {name: Organization(workspace_id=self.ws, name=name, domains=orgs[0].domains)
                for name, orgs in pending.items()}
        Organization.objects.bulk_create(list(rows.values()), batch_size=500)
        for name, orgs in pending.items():
            for org in orgs:
                self.ref("organization", org.id, rows[name].pk)
        self.counts["imported_organization"] += len(rows)

    def organization_named(self, name: str) -> int | None:
        if not name:
            return None
        org, _created = Organization.objects.get_or_create(workspace_id=self.ws, name=name[:200])
        return org.pk

    # ── contacts ───────────────────────────────────────────────────────────────────────────────────
    def _addresses(self, contact: r.Contact) -> list[tuple[str, str]]:
        """(kind, normalized address) of the contact's identities; a bad one is reported, not fatal."""
        found: list[tuple[str, str]] = []
        given = [(IdentityKind.EMAIL, e) for e in contact.emails] + [(IdentityKind.PHONE, p) for p in contact.phones]
        given += [(IdentityKind.EXTERNAL, f"{network}:{handle}") for network, handle in contact.handles.items()]
        for kind, address in given:
            try:
                normalized = identities.normalize(kind, address, region=self.workspace.default_region)
            except ThreadlineError as exc:
                self.skip("identity", contact.id, exc.code,
                          _("%(address)s was not kept: %(reason)s") % {"address": address, "reason": exc.message})
                continue
            if (kind, normalized) not in found:
                found.append((str(kind), normalized))
        return found

    def contacts(self, items: list[r.Contact]) -> None:
        done = known(self.ws, self.source, "contact", (c.id for c in items))
        orgs = known(self.ws, self.source, "organization", (c.organization_id for c in items))
        fresh = [c for c in items if c.id not in done]
        self.counts["unchanged_contact"] += len(items) - len(fresh)
        self.create_contacts(fresh, orgs)

    def create_contacts(self, items: list[r.Contact], orgs: dict[str, int]) -> dict[str, int]:
        """Create each contact, or match it to the contact that already has one of its identities (their other
        identities join that contact); source id → our contact id. An identity two imported people share
        stays with the first, reported for the second."""
        wanted = {c.id: self._addresses(c) for c in items}
        addresses = {a for found in wanted.values() for _k, a in found}
        owner_of: dict[tuple[str, str], int] = {
            (k, a): cid for k, a, cid in ContactIdentity.objects.filter(workspace_id=self.ws, address__in=addresses)
            .values_list("kind", "address", "contact_id")}
        result: dict[str, int] = {}
        new: list[tuple[r.Contact, Contact]] = []
        owners: list[tuple[r.Contact, int | Contact]] = []  # whose identities go to which contact
        for item in items:
            match = next((owner_of[key] for key in wanted[item.id] if key in owner_of), None)
            if match is not None:
                result[item.id] = match
                owners.append((item, match))
                if item.id:
                    self.ref("contact", item.id, match)
                self.counts["matched_contact"] += 1
                continue
            org_id = orgs.get(item.organization_id) or self.organization_named(item.organization_name)
            row = Contact(workspace_id=self.ws, name=item.name[:300], name_key=identities.name_key(item.name[:300]),
                          language=item.language[:16], time_zone=item.time_zone[:64], organization_id=org_id,
                          attributes={k[:64]: v for k, v in item.attributes.items()})
            row.created_at = row.updated_at = item.created_at
            new.append((item, row))
            owners.append((item, row))
        _create(Contact, [row for _i, row in new])
        for item, row in new:
            result[item.id] = row.pk
            if item.id:
                self.ref("contact", item.id, row.pk)
        identity_rows: list[ContactIdentity] = []
        for item, target in owners:
            contact_id = target if isinstance(target, int) else target.pk
            for kind, address in wanted[item.id]:
                owner = owner_of.get((kind, address))
                if owner == contact_id:
                    continue
                if owner is not None:
                    self.skip("identity", item.id, "identity_taken",
                              _("%(address)s belongs to another imported contact.") % {"address": address})
                    continue
                owner_of[(kind, address)] = contact_id
                identity_rows.append(ContactIdentity(
                    workspace_id=self.ws, contact_id=contact_id, kind=kind, address=address,
                    verified=item.verified and kind == IdentityKind.EMAIL, source=f"import:{self.source}",
                    match_key=identities.match_key(kind, address)))
        ContactIdentity.objects.bulk_create(identity_rows, batch_size=500)
        self.counts["imported_contact"] += len(new)
        return result

    def _contact_for(self, contact_id: str, email: str, name: str, cache: dict[str, int]) -> int:
        """Our contact of a source person who is not (or not yet) in the contacts stage: matched by email,
        else created from what the ticket says (Help Scout names the customer on the conversation)."""
        key = contact_id or (f"email:{email}"[:64] if email else "")
        if key and key in cache:
            return cache[key]
        item = r.Contact(id=key, name=name or email or
                         _("%(source)s customer %(id)s") % {"source": SOURCE_LABEL[self.source], "id": contact_id},
                         emails=[email] if email else [])
        contact_id_here = self.create_contacts([item], {})[item.id]
        if key:
            cache[key] = contact_id_here
        return contact_id_here

    # ── tickets ────────────────────────────────────────────────────────────────────────────────────
    def tickets(self, items: list[r.Ticket], files: dict[str, StoredFile]) -> None:
        done = known(self.ws, self.source, "ticket", (t.id for t in items))
        comment_ids = [c.id for t in items for c in t.comments]
        seen_comments = known(self.ws, self.source, "comment", comment_ids)
        agents = known(self.ws, self.source, "agent", [t.assignee_id for t in items] +
                       [c.author_id for t in items for c in t.comments])
        people = known(self.ws, self.source, "contact", [t.requester_id for t in items] +
                       [c.author_id for t in items for c in t.comments])
        existing = {c.pk: c for c in Conversation.objects.filter(pk__in=done.values())}
        conversations: list[tuple[r.Ticket, Conversation, bool]] = []
        for ticket in items:
            for cid, code, reason in ticket.skipped_comments:
                self.skip("comment", cid, code, reason)
            requester = people.get(ticket.requester_id) or self._contact_for(
                ticket.requester_id, ticket.requester_email, ticket.requester_name, people)
            if ticket.id in done and done[ticket.id] in existing:
                conversation, is_new = existing[done[ticket.id]], False
            else:
                conversation, is_new = Conversation(workspace_id=self.ws, contact_id=requester), True
            conversation.subject = ticket.subject[:500]
            conversation.status, conversation.priority = ticket.status, ticket.priority
            conversation.assignee_id = agents.get(ticket.assignee_id)
            conversation.solved_at = ticket.solved_at
            conversation.custom_fields = {**conversation.custom_fields, **{
                key: value if isinstance(value, int | float | str | bool) else str(value)
                for key, (_label, value) in ticket.custom_fields.items()}}
            conversations.append((ticket, conversation, is_new))
        Conversation.objects.bulk_create([c for _t, c, new in conversations if new], batch_size=500)
        self._custom_fields(items)
        messages: list[tuple[r.Comment, Message]] = []
        for ticket, conversation, is_new in conversations:
            if is_new:
                self.ref("ticket", ticket.id, conversation.pk)
                self.counts["imported_ticket"] += 1
            else:
                self.counts["updated_ticket"] += 1
            for comment in ticket.comments:
                if comment.id in seen_comments:
                    continue
                messages.append((comment, self._message(ticket, conversation, comment, agents, people)))
        _create(Message, [m for _c, m in messages])
        for comment, message in messages:
            self.ref("comment", comment.id, message.pk)
            self.counts["imported_note" if message.is_note else "imported_message"] += 1
        self._attachments(messages, files)
        self._tags(conversations)
        self._timeline(conversations, messages)

    def _message(self, ticket: r.Ticket, conversation: Conversation, comment: r.Comment, agents: dict[str, int],
                 people: dict[str, int]) -> Message:
        agent = agents.get(comment.author_id) if comment.author_kind in ("agent", "user") else None
        by_agent = agent is not None or comment.author_kind == "agent"
        contact = None
        if not by_agent:
            contact = people.get(comment.author_id) or (
                self._contact_for(comment.author_id, comment.author_email, comment.author_name, people)
                if comment.author_id or comment.author_email else conversation.contact_id)
        text = comment.text or (_text_of(comment.html) if comment.html else "")
        return Message(
            workspace_id=self.ws, conversation=conversation,
            direction=Direction.OUTBOUND if by_agent else Direction.INBOUND,
            author_kind=AuthorKind.AGENT if by_agent else AuthorKind.CONTACT,
            author_membership_id=agent, author_contact_id=contact, text=text, html=sanitize(comment.html),
            is_note=not comment.public,
            status=DeliveryStatus.SENT if by_agent else DeliveryStatus.RECEIVED,
            sent_at=comment.created_at if by_agent and comment.public else None,
            created_at=comment.created_at, updated_at=comment.created_at,
            metadata={"imported": {"source": self.source, "ticket": ticket.id, "comment": comment.id,
                                   **({"author": comment.author_id} if comment.author_id else {})}},
        )

    def _attachments(self, messages: list[tuple[r.Comment, Message]], files: dict[str, StoredFile]) -> None:
        rows: list[tuple[str, Attachment]] = []
        for comment, message in messages:
            for attachment in comment.attachments:
                key = attachment_key(comment, attachment)
                stored = files.get(key)
                if stored is None or stored.skip_code:
                    self.skip("attachment", key, stored.skip_code if stored else "not_downloaded",
                              stored.skip_reason if stored else _("The attachment was not downloaded."))
                    continue
                row = Attachment(workspace_id=self.ws, message=message, filename=stored.filename,
                                 content_type=stored.content_type, size=stored.size, sha256=stored.sha256)
                row.file = stored.name
                row.created_at = row.updated_at = message.created_at
                rows.append((key, row))
        _create(Attachment, [row for _k, row in rows])
        for key, row in rows:
            self.ref("attachment", key, row.pk)
            self.counts["attachment_bytes"] += row.size
        self.counts["imported_attachment"] += len(rows)

    def _custom_fields(self, items: list[r.Ticket]) -> None:
        labels = {key: label for t in items for key, (label, _v) in t.custom_fields.items()}
        if not labels:
            return
        have = set(CustomField.objects.filter(workspace_id=self.ws, applies_to=CustomField.AppliesTo.CONVERSATION,
                                              key__in=labels).values_list("key", flat=True))
        CustomField.objects.bulk_create([
            CustomField(workspace_id=self.ws, key=key[:64], label=str(label)[:200], kind=CustomField.Kind.TEXT,
                        applies_to=CustomField.AppliesTo.CONVERSATION)
            for key, label in sorted(labels.items()) if key not in have])

    def _tags(self, conversations: list[tuple[r.Ticket, Conversation, bool]]) -> None:
        names = {name[:100] for t, _c, _n in conversations for name in t.tags if name.strip()}
        if not names:
            return
        have = dict(Tag.objects.filter(workspace_id=self.ws, name__in=names).values_list("name", "pk"))
        created = [Tag(workspace_id=self.ws, name=n) for n in sorted(names - set(have))]
        Tag.objects.bulk_create(created)
        have.update({t.name: t.pk for t in created})
        through = Conversation.tags.through
        linked = set(through.objects.filter(conversation_id__in=[c.pk for _t, c, _n in conversations])
                     .values_list("conversation_id", "tag_id"))
        through.objects.bulk_create([
            through(conversation_id=c.pk, tag_id=have[name[:100]]) for t, c, _n in conversations
            for name in dict.fromkeys(t.tags) if name.strip() and (c.pk, have[name[:100]]) not in linked])

    def _timeline(self, conversations: list[tuple[r.Ticket, Conversation, bool]],
                  messages: list[tuple[r.Comment, Message]]) -> None:
        """Each conversation's times from its ticket and messages; an `imported` row at its creation and a
        `status_changed` row at its solved time (what analytics reads as a resolution)."""
        by_conversation: dict[int, list[Message]] = {}
        for _comment, message in messages:
            by_conversation.setdefault(message.conversation_id, []).append(message)
        events: list[ConversationEvent] = []
        for ticket, conversation, is_new in conversations:
            public = sorted((m for m in by_conversation.get(conversation.pk, []) if not m.is_note),
                            key=lambda m: m.created_at)
            inbound = [m.created_at for m in public if m.direction == Direction.INBOUND]
            if public:
                conversation.last_message_at = max(public[-1].created_at, conversation.last_message_at or public[-1].created_at)
            if inbound:
                conversation.last_inbound_at = max(inbound[-1], conversation.last_inbound_at or inbound[-1])
                replies = [m.created_at for m in public if m.direction == Direction.OUTBOUND and m.created_at >= inbound[0]]
                if replies and conversation.first_response_at is None:
                    conversation.first_response_at = replies[0]
            conversation.created_at, conversation.updated_at = ticket.created_at, ticket.updated_at
            if is_new:
                events.append(_event(conversation, "imported", ticket.created_at,
                                     {"source": self.source, "id": ticket.id}))
                if ticket.solved_at is not None:
                    events.append(_event(conversation, "status_changed", ticket.solved_at,
                                         {"old": "open", "new": "solved", "reason": "imported"}))
        _create(ConversationEvent, events)
        _stamp(Conversation, [c for _t, c, _n in conversations],
               ("created_at", "updated_at", "subject", "status", "priority", "assignee", "solved_at", "custom_fields",
                "last_message_at", "last_inbound_at", "first_response_at"))

    # ── satisfaction ratings ───────────────────────────────────────────────────────────────────────
    def ratings(self, items: list[r.Rating]) -> None:
        done = known(self.ws, self.source, "rating", (x.id for x in items))
        tickets = known(self.ws, self.source, "ticket", (x.ticket_id for x in items))
        contacts = dict(Conversation.objects.filter(pk__in=tickets.values()).values_list("pk", "contact_id"))
        survey, _created = Survey.objects.get_or_create(workspace_id=self.ws, kind=Kind.CSAT,
                                                        defaults={"enabled": False})
        pairs: list[tuple[r.Rating, SurveyRequest, SurveyResponse]] = []
        for rating in items:
            if rating.id in done:
                self.counts["unchanged_rating"] += 1
                continue
            conversation_id = tickets.get(rating.ticket_id)
            if conversation_id is None:
                self.skip("rating", rating.id, "ticket_not_imported",
                          _("The rated ticket %(id)s was not imported.") % {"id": rating.ticket_id})
                continue
            request = SurveyRequest(workspace_id=self.ws, survey=survey, kind=Kind.CSAT, conversation_id=conversation_id,
                                    contact_id=contacts[conversation_id], answered_at=rating.created_at)
            request.created_at = request.updated_at = rating.created_at
            response = SurveyResponse(workspace_id=self.ws, request=request, conversation_id=conversation_id,
                                      contact_id=contacts[conversation_id], kind=Kind.CSAT, score=rating.score,
                                      comment=rating.comment, responded_at=rating.created_at)
            response.created_at = response.updated_at = rating.created_at
            pairs.append((rating, request, response))
        _create(SurveyRequest, [p[1] for p in pairs])
        for _rating, request, response in pairs:
            response.request = request
        _create(SurveyResponse, [p[2] for p in pairs])
        for rating, _request, response in pairs:
            self.ref("rating", rating.id, response.pk)
        self.counts["imported_rating"] += len(pairs)


def _event(conversation: Conversation, kind: str, at: dt.datetime, data: dict[str, Any]) -> ConversationEvent:
    event = ConversationEvent(workspace_id=conversation.workspace_id, conversation=conversation, kind=kind, data=data)
    event.created_at = event.updated_at = at
    return event


def _text_of(html: str) -> str:
    from inscriptis import get_text

    try:
        return get_text(html).strip()
    except Exception:  # noqa: BLE001 - a provider's hostile HTML: keep the sanitized HTML, no text
        return ""


def do_write_page(run: ImportRun, stage: str, page: r.Page, files: dict[str, StoredFile], *,
                  invite: bool = False) -> PageWriter:
    """Write `page` of `stage` and its checkpoint; the caller owns the transaction."""
    writer = PageWriter(run, stage, invite=invite)
    writer.write(page, files)
    return writer
