"""A transactional test leaves the test database as Django's `flush` would (testing/emptying.py): every model's
table empty but the content types and permissions, which `post_migrate` would write again, kept instead. The
tests of this module run in order on one worker: the first fills tables, the second reads what is left."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import TransactionTestCase

from threadline.search.actions import do_store
from threadline.search.analysis import index_text
from threadline.search.documents import Document
from threadline.search.models import Visibility
from threadline.testing import emptying, factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("transactional-teardown")]


def model_names() -> set[tuple[str, str]]:
    return {(model._meta.app_label, model._meta.model_name) for model in apps.get_models()}


def rows_across_foreign_keys() -> None:
    """A workspace, its admin and token, a channel, a search document: tables that refer to each other."""
    admin = factories.make_workspace()
    factories.make_token(admin)
    factories.make_api_channel(admin)
    do_store([Document(admin.workspace_id, "message", 1, index_text(""), index_text("where is my parcel"),
                       Visibility.PUBLIC)])


def test_the_run_empties_with_this_module():
    assert TransactionTestCase._fixture_teardown is emptying._fixture_teardown


def test_a_transactional_test_writes_rows():
    rows_across_foreign_keys()
    assert {"tenancy_workspace", "tl_channels_channel", "search_document"} <= set(emptying.tables_with_rows(connection))


def test_the_next_one_finds_every_model_table_empty_but_content_types_and_permissions():
    assert emptying.tables_with_rows(connection) == []
    assert set(ContentType.objects.values_list("app_label", "model")) >= model_names()
    assert Permission.objects.count() >= 4 * len(model_names())  # add, change, delete, view of each


def test_empty_database_deletes_across_foreign_keys_in_any_order():
    rows_across_foreign_keys()
    emptied = emptying.empty_database("default")
    assert {"tenancy_workspace", "tenancy_membership", "tl_channels_channel", "search_document"} <= set(emptied)
    assert emptying.tables_with_rows(connection) == []
