"""Fixtures of the Twilio messaging tests: the public URL Twilio signs, and a fake Twilio API."""

from __future__ import annotations

import pytest

from threadline.channels.fake_provider import FakeProvider
from threadline.channels.sms.tests.helpers import PUBLIC_URL


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_URL = PUBLIC_URL


@pytest.fixture
def provider():
    fake = FakeProvider().start()
    yield fake
    fake.stop()
