from __future__ import annotations

import pytest

from threadline.channels.sms.tests.helpers import PUBLIC_URL, fixture
from threadline.outreach.testkit import twilio_provider

REFUSED = "+420601123456"  # Twilio answers this number with its documented 21610 error


@pytest.fixture
def twilio(settings):
    """Twilio's Messages API on loopback: its documented answer with a fresh sid per message, 21610 for REFUSED."""
    settings.PUBLIC_URL = PUBLIC_URL
    provider = twilio_provider(fixture("send_response.json"), refuse={REFUSED}, refusal=fixture("send_error_21610.json"))
    yield provider
    provider.stop()
