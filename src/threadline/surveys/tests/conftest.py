from __future__ import annotations

import pytest

from threadline.channels.fake_provider import FakeProvider
from threadline.channels.sms.tests.helpers import ACCOUNT_SID, PUBLIC_URL, fixture


@pytest.fixture
def twilio(settings):
    """Twilio's Messages API on loopback (the SMS channel's provider)."""
    settings.PUBLIC_URL = PUBLIC_URL
    provider = FakeProvider().start()
    provider.route("POST", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json", 201,
                   fixture("send_response.json", sid="b" * 32).encode())
    yield provider
    provider.stop()
