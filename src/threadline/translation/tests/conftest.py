from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.db import transaction

from threadline.tenancy.models import Membership
from threadline.testing import factories
from threadline.translation.actions import do_save_settings
from threadline.translation.testkit import FakeTranslator


@pytest.fixture
def fake() -> Iterator[FakeTranslator]:
    server = FakeTranslator().start()
    yield server
    server.stop()


@pytest.fixture
def admin() -> Membership:
    return factories.make_workspace("Translating Co")


@pytest.fixture
def configure(fake: FakeTranslator) -> Callable[..., None]:
    def configure(admin: Membership, provider: str = "libretranslate", *, key: str = "test-key",
                  budget: int = 0) -> None:
        with transaction.atomic():
            do_save_settings(admin, provider=provider, base_url=fake.url, api_key=key, monthly_budget=budget)

    return configure
