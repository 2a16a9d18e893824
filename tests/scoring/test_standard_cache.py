"""Published standards are read once per process; drafts every time.

A published standard never changes again (``scoring.services.standards``), so the pages keep
its outline and rules per process, keyed by the standard and the moment it was published.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scoring.models import Standard, StandardStatus
from scoring.selectors import forget_frozen_standards, rules_from_standard, standard_outline
from scoring.services.standards import copy_standard_to_new_draft, publish_standard


@pytest.fixture
def cached(settings):
    settings.CACHE_PUBLISHED_STANDARDS = True
    forget_frozen_standards()


def queries(function) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as context:
        value = function()
    return len(context), value


@pytest.mark.django_db
def test_a_published_standard_is_read_once_and_then_from_memory(cached, default_standard):
    first_count, outline = queries(lambda: standard_outline(default_standard))
    again_count, again = queries(lambda: standard_outline(default_standard))
    rules_count, rules = queries(lambda: rules_from_standard(default_standard))
    rules_again_count, rules_again = queries(lambda: rules_from_standard(default_standard))

    assert (first_count, again_count, rules_count, rules_again_count) == (2, 0, 2, 0)
    assert again == outline and rules_again == rules
    codes = [item.code for _dimension, items in outline for item in items]
    assert codes == [rule.code for rule in rules.items]
    assert len(codes) == 19


@pytest.mark.django_db
def test_a_draft_is_read_every_time_and_its_publication_is_a_new_entry(cached, default_standard, world):
    draft = copy_standard_to_new_draft(standard=default_standard, committee=world.committee)
    assert draft.status == StandardStatus.DRAFT
    assert queries(lambda: rules_from_standard(draft))[0] == 2
    assert queries(lambda: rules_from_standard(draft))[0] == 2  # never kept

    publish_standard(standard=draft, actor=world.approver)
    published = Standard.objects.get(pk=draft.pk)
    assert queries(lambda: rules_from_standard(published))[0] == 2
    assert queries(lambda: rules_from_standard(published))[0] == 0


@pytest.mark.django_db
def test_without_the_setting_nothing_is_kept(settings, default_standard):
    settings.CACHE_PUBLISHED_STANDARDS = False
    assert queries(lambda: standard_outline(default_standard))[0] == 2
    assert queries(lambda: standard_outline(default_standard))[0] == 2
