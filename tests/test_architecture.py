"""Layer contracts, checked on the source: core domains never import a specific channel kind, domain code
never imports the API layer, and nothing uses Django signals for business logic."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import threadline

ROOT = Path(threadline.__file__).parent
CHANNEL_PLUMBING = {"base", "registry", "models", "actions", "inbound", "outbound", "queries", "rest", "schemas",
                    "admin", "apps", "migrations", "tests", "events", "tasks", "connection", "overview",
                    "intake"}
DOMAINS = ["core", "tenancy", "contacts", "conversations", "events", "jobs", "webhooks", "realtime", "routing", "sla",
           "automations", "replies", "language", "consent", "web", "audit", "privacy", "redaction", "sso",
           "search", "portal"]


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def source_files(package: str) -> list[Path]:
    return [p for p in (ROOT / package).rglob("*.py") if "tests" not in p.parts and "migrations" not in p.parts]


def test_core_domains_never_import_a_channel_kind():
    offenders = []
    for domain in DOMAINS:
        for path in source_files(domain):
            for name in imports_of(path):
                parts = name.split(".")
                if parts[:2] == ["threadline", "channels"] and len(parts) > 2 and parts[2] not in CHANNEL_PLUMBING:
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_domain_code_never_imports_the_api_layer():
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for domain in ["tenancy", "contacts", "conversations", "events", "jobs", "webhooks", "routing", "sla",
                       "automations", "replies", "language", "consent"]
        for path in source_files(domain)
        if not path.name.startswith(("api", "rest"))
        for name in imports_of(path)
        if name.startswith("threadline.api")
    ]
    assert offenders == []


SIGNAL_USE = re.compile(r"@receiver\(|\b(pre|post)_(save|delete|init)\.connect\(|\bm2m_changed\.connect\(")


def test_no_django_signal_receivers():
    offenders = [
        f"{path.relative_to(ROOT)}"
        for path in ROOT.rglob("*.py")
        if "tests" not in path.parts and SIGNAL_USE.search(path.read_text())
    ]
    assert offenders == []
    assert SIGNAL_USE.search("post_save.connect(handler, sender=Contact)")


def test_the_contract_check_sees_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from threadline.channels.whatsapp.adapter import WhatsAppAdapter\n")
    assert imports_of(bad) == ["threadline.channels.whatsapp.adapter"]
