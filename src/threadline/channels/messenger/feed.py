"""Public items of the Meta kinds: a Page's feed (posts, comments, replies) and Instagram comments and mentions,
read from `entry[].changes[]`, and the Graph API calls that answer or moderate them in public.

Facebook (`object: "page"`, field `feed`): `value.item` `comment` or a post (`status`, `photo`, `video`,
`share`, `post`), `verb` add/edited/remove/hide/unhide, `from{id,name}`, `post_id`, `comment_id`, `parent_id`
(the post for a top-level comment, else the comment answered), `message`, `created_time`.
Instagram (`object: "instagram"`): field `comments` (`value{id, text, from{id, username}, media{id,
media_product_type}, parent_id}`) and `mentions` (`value{comment_id, media_id}` when the account is @mentioned
in someone's comment or caption; the text is read with `GET /{ig-user-id}?fields=mentioned_comment…` /
`mentioned_media…`, or taken from the value when it carries it).
Answers: `POST /{comment-id}/comments` (Facebook), `POST /{ig-comment-id}/replies` (Instagram; a reply to a
reply answers its top-level comment), `POST /{ig-user-id}/mentions` (a mention); hide with `POST /{comment-id}`
`is_hidden` (Facebook) or `hide` (Instagram); `DELETE /{comment-id}`. Private replies go through the adapter's
`send` with `recipient: {comment_id}`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from threadline.channels.base import PayloadError, PermanentSendError, PublicItemEvent
from threadline.channels.meta import graph
from threadline.channels.models import Channel

FIELDS = {"messenger": frozenset({"feed"}), "instagram": frozenset({"comments", "mentions"})}
POST_ITEMS = frozenset({"post", "status", "photo", "video", "share", "link"})
VERBS = {"add": "add", "edited": "edited", "edit": "edited", "update": "edited", "remove": "remove",
         "delete": "remove", "hide": "hide", "unhide": "unhide"}
SOURCES = {"messenger": "facebook", "instagram": "instagram"}


def changes(entry: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The public-item changes of an entry for channel kind `kind` (feed / comments / mentions)."""
    fields = FIELDS.get(kind, frozenset())
    return [change for change in entry.get("changes", []) or []
            if isinstance(change, dict) and change.get("field") in fields and isinstance(change.get("value"), dict)]


def change_ids(entry: dict[str, Any], kind: str) -> list[str]:
    """What makes each change unique (an edit or a hide of one comment is another delivery)."""
    ids = []
    for change in changes(entry, kind):
        value = change["value"]
        item = value.get("comment_id") or value.get("post_id") or value.get("id") or value.get("media_id")
        ids.append(f"{change['field']}:{item}:{value.get('verb', '')}:{value.get('created_time', '')}:"
                   f"{len(str(value.get('message', value.get('text', ''))))}")
    return ids


def _at(value: Any) -> dt.datetime | None:
    """Meta's times: Unix seconds (feed), milliseconds (some entries) or ISO 8601 (Graph API reads)."""
    if isinstance(value, str) and not value.isdigit():
        try:
            parsed = dt.datetime.fromisoformat(value.replace("+0000", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return dt.datetime.fromtimestamp(number / 1000 if number > 10**11 else number, tz=dt.UTC)


def parse(channel: Channel, kind: str, entry: dict[str, Any]) -> list[PublicItemEvent]:
    owner = str(channel.config["page_id"])
    items: list[PublicItemEvent] = []
    for change in changes(entry, kind):
        value, field = change["value"], change["field"]
        if field == "feed":
            item = _facebook(owner, value, entry)
        elif field == "comments":
            item = _instagram_comment(owner, value, entry)
        else:
            item = _instagram_mention(channel, owner, value, entry)
        if item is not None:
            items.append(item)
    return items


def _facebook(page: str, value: dict[str, Any], entry: dict[str, Any]) -> PublicItemEvent | None:
    what, verb = str(value.get("item", "")), VERBS.get(str(value.get("verb", "")))
    if verb is None or (what != "comment" and what not in POST_ITEMS):
        return None  # reactions, likes, shares of others, page changes: not items to answer
    author = value.get("from") or {}
    post_id = str(value.get("post_id", "") or "")
    if "_" in post_id and post_id.split("_", 1)[0] != page:  # a Page's post ids are "<page id>_<post id>"
        raise PayloadError(f"the change names post {post_id} of another Page than {page}")
    if what == "comment":
        external_id = str(value.get("comment_id", "") or "")
        parent = str(value.get("parent_id", "") or post_id)
        kind = "comment" if parent == post_id else "reply"
    else:
        external_id, parent, kind = post_id, "", "post"
    if not external_id:
        return None
    return PublicItemEvent(
        source="facebook", external_id=external_id, action=verb, kind=kind, parent_external_id=parent,
        root_external_id=post_id, author_kind="messenger", author_address=str(author.get("id", "") or ""),
        author_handle=str(author.get("name", "") or ""), author_name=str(author.get("name", "") or ""),
        text=str(value.get("message", "") or ""),
        url=str(value.get("permalink_url", "") or "") or f"https://www.facebook.com/{external_id}",
        created_at=_at(value.get("created_time")) or _at(entry.get("time")),
        own=str(author.get("id", "")) == page,
        metadata={k: value[k] for k in ("photo", "video", "link", "reaction_type", "is_hidden") if k in value},
    )


def _instagram_comment(account: str, value: dict[str, Any], entry: dict[str, Any]) -> PublicItemEvent | None:
    external_id = str(value.get("id", "") or "")
    if not external_id:
        return None
    author, media = value.get("from") or {}, value.get("media") or {}
    parent = str(value.get("parent_id", "") or "")
    media_id = str(media.get("id", "") or "")
    return PublicItemEvent(
        source="instagram", external_id=external_id, kind="reply" if parent else "comment",
        parent_external_id=parent or media_id, root_external_id=media_id, author_kind="instagram",
        author_address=str(author.get("id", "") or ""), author_handle=str(author.get("username", "") or ""),
        text=str(value.get("text", "") or ""), created_at=_at(value.get("timestamp")) or _at(entry.get("time")),
        own=str(author.get("id", "")) == account or str(author.get("self_ig_scoped_id", "")) == account,
        metadata={"media_product_type": media.get("media_product_type", "")} if media else {},
    )


def _instagram_mention(channel: Channel, account: str, value: dict[str, Any],
                       entry: dict[str, Any]) -> PublicItemEvent | None:
    """A mention names a comment (or a caption) to read: the value's own fields when it has them, else the
    `mentioned_comment` / `mentioned_media` edge of the account."""
    comment_id, media_id = str(value.get("comment_id", "") or ""), str(value.get("media_id", "") or "")
    if value.get("text") and (value.get("id") or comment_id):
        author = value.get("from") or {}
        return PublicItemEvent(
            source="instagram", external_id=str(value.get("id") or comment_id), kind="mention",
            parent_external_id=media_id or str((value.get("media") or {}).get("id", "")),
            root_external_id=media_id or str((value.get("media") or {}).get("id", "")), author_kind="instagram",
            author_address=str(author.get("id", "") or ""), author_handle=str(author.get("username", "") or ""),
            text=str(value["text"]), created_at=_at(entry.get("time")))
    base = f"{channel.config['graph_base_url'].rstrip('/')}/{account}"
    if comment_id:
        read = graph.get_json(channel, f"{base}?fields=mentioned_comment.comment_id({comment_id})"
                                       "{id,text,timestamp,username,media{id,permalink,media_product_type}}")
        found, external_id, text_key = read.get("mentioned_comment") or {}, comment_id, "text"
    elif media_id:
        read = graph.get_json(channel, f"{base}?fields=mentioned_media.media_id({media_id})"
                                       "{id,caption,timestamp,username,permalink,media_product_type}")
        found, external_id, text_key = read.get("mentioned_media") or {}, media_id, "caption"
    else:
        return None
    media = found.get("media") or {}
    return PublicItemEvent(
        source="instagram", external_id=external_id, kind="mention",
        parent_external_id=media_id if comment_id else "", root_external_id=media_id,
        author_kind="instagram", author_handle=str(found.get("username", "") or ""),
        text=str(found.get(text_key, "") or ""), url=str(found.get("permalink") or media.get("permalink") or ""),
        created_at=_at(found.get("timestamp")) or _at(entry.get("time")),
        metadata={"mention_of": "comment" if comment_id else "caption"},
    )


# ── answering and moderating in public ──
def _url(channel: Channel, path: str) -> str:
    return f"{channel.config['graph_base_url'].rstrip('/')}/{path}"


def _id_of(answer: dict[str, Any]) -> str:
    if not answer.get("id"):
        raise PermanentSendError(f"Meta answered without an id: {answer}")
    return str(answer["id"])


def public_reply(channel: Channel, kind: str, target_id: str, text: str, *, item_kind: str,
                 parent_id: str = "", root_id: str = "") -> str:
    if kind == "instagram":
        if item_kind == "mention":
            return _id_of(graph.post_json(channel, _url(channel, f"{channel.config['page_id']}/mentions"),
                                          {"comment_id": target_id, "media_id": root_id, "message": text}))
        target = parent_id if item_kind == "reply" and parent_id else target_id  # one level of replies
        return _id_of(graph.post_json(channel, _url(channel, f"{target}/replies"), {"message": text}))
    return _id_of(graph.post_json(channel, _url(channel, f"{target_id}/comments"), {"message": text}))


def hide(channel: Channel, kind: str, target_id: str, hidden: bool) -> None:
    field = "hide" if kind == "instagram" else "is_hidden"
    answer = graph.post_json(channel, _url(channel, target_id), {field: hidden})
    if answer.get("success") is False:
        raise PermanentSendError(f"Meta did not change the comment: {answer}")


def delete(channel: Channel, target_id: str) -> None:
    answer = graph.delete(channel, _url(channel, target_id))
    if answer.get("success") is False:
        raise PermanentSendError(f"Meta did not delete the comment: {answer}")
