"""HubSpot's CRM API v3: contacts searched by email, then phone; created; a conversation logged as a note on the
contact (association type 202, note to contact); the owner's name from the owners API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from threadline.crm.providers.base import Call, Record, when

PROPERTIES = ["firstname", "lastname", "email", "phone", "company", "hubspot_owner_id", "lastmodifieddate"]
NOTE_TO_CONTACT = 202


class HubSpot:
    def __init__(self, api_url: str, account: str) -> None:
        self.api, self.account = api_url.rstrip("/"), account

    def _record(self, call: Call, found: dict[str, Any]) -> Record:
        props = found.get("properties") or {}
        owner = ""
        if props.get("hubspot_owner_id"):
            person = call("GET", f"{self.api}/crm/v3/owners/{int(props['hubspot_owner_id'])}") or {}
            owner = " ".join(filter(None, (person.get("firstName"), person.get("lastName")))) or person.get("email", "")
        name = " ".join(filter(None, (props.get("firstname"), props.get("lastname"))))
        return Record(id=str(found["id"]), name=name, email=props.get("email") or "", phone=props.get("phone") or "",
                      company=props.get("company") or "", owner=owner,
                      url=f"https://app.hubspot.com/contacts/{self.account}/record/0-1/{found['id']}",
                      updated_at=when(found.get("updatedAt") or props.get("lastmodifieddate")))

    def find(self, call: Call, emails: list[str], phones: list[str]) -> Record | None:
        groups = [{"filters": [{"propertyName": "email", "operator": "EQ", "value": e}]} for e in emails[:2]]
        groups += [{"filters": [{"propertyName": "phone", "operator": "EQ", "value": p}]} for p in phones[:2]]
        if not groups:
            return None
        answer = call("POST", f"{self.api}/crm/v3/objects/contacts/search",
                      document={"filterGroups": groups, "properties": PROPERTIES, "limit": 1})
        results = (answer or {}).get("results") or []
        return self._record(call, results[0]) if results else None

    def get(self, call: Call, record_id: str) -> Record:
        found = call("GET", f"{self.api}/crm/v3/objects/contacts/{int(record_id)}?properties={','.join(PROPERTIES)}")
        return self._record(call, found)

    def create(self, call: Call, name: str, email: str, phone: str) -> Record:
        first, _sep, last = name.partition(" ")
        properties = {key: value for key, value in (("firstname", first), ("lastname", last), ("email", email),
                                                    ("phone", phone)) if value}
        created = call("POST", f"{self.api}/crm/v3/objects/contacts", document={"properties": properties})
        return self._record(call, created)

    def log_activity(self, call: Call, record_id: str, subject: str, body: str, at: dt.datetime) -> str:
        note = call("POST", f"{self.api}/crm/v3/objects/notes", document={
            "properties": {"hs_timestamp": at.isoformat(), "hs_note_body": f"{subject}\n\n{body}"},
            "associations": [{"to": {"id": record_id}, "types": [
                {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NOTE_TO_CONTACT}]}]})
        return str((note or {}).get("id", ""))
