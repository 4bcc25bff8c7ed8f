from __future__ import annotations

from collections.abc import Iterator

import pytest

from threadline.botplatforms.testkit import FakeDialogflowCX, FakeDirectLine, FakeLexV2


@pytest.fixture
def dialogflow() -> Iterator[FakeDialogflowCX]:
    fake = FakeDialogflowCX().start()
    yield fake
    fake.stop()


@pytest.fixture
def lex() -> Iterator[FakeLexV2]:
    fake = FakeLexV2().start()
    yield fake
    fake.stop()


@pytest.fixture
def directline() -> Iterator[FakeDirectLine]:
    fake = FakeDirectLine().start()
    yield fake
    fake.stop()
