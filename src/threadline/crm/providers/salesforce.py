"""Salesforce's REST API (v60.0) on the org's instance URL: contacts by SOQL on email, then phone, with their
account's and owner's names; created; a conversation logged as a completed Task on the contact; and the ids
of contacts changed in a time window (`sobjects/Contact/updated`), which the scheduler polls."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from threadline.crm.providers.base import Call, Record, when

VERSION = "v60.0"
FIELDS = "Id, FirstName, LastName, Email, Phone, Account.Name, Owner.Name, LastModifiedDate"


def literal(value: str) -> str:
    """A SOQL string literal: backslash and quote escaped, as Salesforce documents."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Salesforce:
    def __init__(self, api_url: str, account: str) -> None:
        self.instance, self.account = api_url.rstrip("/"), account
        self.api = f"{self.instance}/services/data/{VERSION}"

    def _record(self, row: dict[str, Any]) -> Record:
        name = " ".join(filter(None, (row.get("FirstName"), row.get("LastName"))))
        return Record(id=str(row["Id"]), name=name, email=row.get("Email") or "", phone=row.get("Phone") or "",
                      company=(row.get("Account") or {}).get("Name") or "", owner=(row.get("Owner") or {}).get("Name") or "",
                      url=f"{self.instance}/lightning/r/Contact/{row['Id']}/view", updated_at=when(row.get("LastModifiedDate")))

    def _query(self, call: Call, where: str) -> list[dict[str, Any]]:
        soql = f"SELECT {FIELDS} FROM Contact WHERE {where} ORDER BY LastModifiedDate DESC LIMIT 200"
        return list((call("GET", f"{self.api}/query?q={quote(soql)}") or {}).get("records") or [])

    def find(self, call: Call, emails: list[str], phones: list[str]) -> Record | None:
        for field, values in (("Email", emails[:2]), ("Phone", phones[:2])):
            for value in values:
                rows = self._query(call, f"{field} = {literal(value)}")
                if rows:
                    return self._record(rows[0])
        return None

    def get(self, call: Call, record_id: str) -> Record:
        rows = self._query(call, f"Id = {literal(record_id)}")
        if not rows:
            raise LookupError(record_id)
        return self._record(rows[0])

    def many(self, call: Call, ids: list[str]) -> list[Record]:
        if not ids:
            return []
        return [self._record(row) for row in self._query(call, f"Id IN ({', '.join(literal(i) for i in ids[:200])})")]

    def create(self, call: Call, name: str, email: str, phone: str) -> Record:
        first, _sep, last = name.rpartition(" ")
        fields = {"FirstName": first, "LastName": last or email or phone or "Unknown", "Email": email, "Phone": phone}
        created = call("POST", f"{self.api}/sobjects/Contact", document={k: v for k, v in fields.items() if v})
        return self.get(call, str(created["id"]))

    def log_activity(self, call: Call, record_id: str, subject: str, body: str, at: dt.datetime) -> str:
        task = call("POST", f"{self.api}/sobjects/Task", document={
            "WhoId": record_id, "Subject": subject[:255], "Description": body[:32000], "Status": "Completed",
            "ActivityDate": at.date().isoformat(), "TaskSubtype": "Task"})
        return str((task or {}).get("id", ""))

    def changed(self, call: Call, start: dt.datetime, end: dt.datetime) -> tuple[list[str], dt.datetime]:
        """Ids of contacts changed in [start, end) and the time Salesforce says it covered."""
        fmt = "%Y-%m-%dT%H:%M:%S+00:00"
        answer = call("GET", f"{self.api}/sobjects/Contact/updated/?start={quote(start.strftime(fmt))}"
                             f"&end={quote(end.strftime(fmt))}") or {}
        return [str(i) for i in answer.get("ids") or []], when(answer.get("latestDateCovered")) or end
