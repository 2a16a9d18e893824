"""A standard's status moves only through ``move_standard``: guarded, locked and recorded.

A superuser publishes any draft; a committee's staff or approver publish the committee's own.
"""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from branches.errors import WorkflowError
from branches.models import User
from branches.roles import Role
from scoring.models import Item, Standard, StandardEvent, StandardStatus
from scoring.services import standards as services
from tests.factories import make_draft_standard, make_user

pytestmark = pytest.mark.django_db

BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture
def root(db) -> User:
    return User.objects.create_superuser("root", password="unused-password-root")


@pytest.fixture
def global_draft(db) -> Standard:
    return make_draft_standard()


@pytest.fixture
def ours(world) -> Standard:
    """A draft of the world's committee 市直机关工委."""
    return make_draft_standard(name="本工委细则", committee=world.committee)


@pytest.fixture
def people(world, root) -> dict[str, User]:
    return {
        "superuser": root,
        "staff": world.staff,
        "approver": world.approver,
        "reviewer": world.reviewers[0],
        "secretary": world.secretary,
        "their_staff": make_user("their_staff", roles=((Role.STAFF, world.other_committee),)),
        "other_approver": world.other_approver,
        "outsider": world.outsider,
    }


def scoring_admin(user: User) -> User:
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="scoring"))
    User.objects.filter(pk=user.pk).update(is_staff=True)
    return User.objects.get(pk=user.pk)


def events_of(standard: Standard) -> list[tuple]:
    return list(
        StandardEvent.objects.filter(standard=standard)
        .order_by("pk")
        .values_list("action", "actor", "from_status", "to_status")
    )


def status_of(standard: Standard) -> str:
    return Standard.objects.values_list("status", flat=True).get(pk=standard.pk)


# --- allowed moves ----------------------------------------------------------------------------


def test_a_superuser_publishing_a_global_draft_writes_one_event(global_draft, root):
    services.publish_standard(standard=global_draft, actor=root)

    assert events_of(global_draft) == [("publish", root.pk, StandardStatus.DRAFT, StandardStatus.PUBLISHED)]
    # The caller's instance is kept in step, so it cannot be saved back as a draft.
    assert global_draft.is_published and global_draft.published_at is not None


@pytest.mark.parametrize("who", ["superuser", "staff", "approver"])
def test_the_committees_managers_publish_its_own_draft(ours, people, who):
    services.publish_standard(standard=ours, actor=people[who])

    assert events_of(ours) == [("publish", people[who].pk, StandardStatus.DRAFT, StandardStatus.PUBLISHED)]
    assert status_of(ours) == StandardStatus.PUBLISHED


def test_the_admin_action_publishes_in_the_name_of_the_signed_in_user(client, world, ours):
    staff = scoring_admin(world.staff)
    client.force_login(staff, backend=BACKEND)

    client.post(
        reverse("admin:scoring_standard_changelist"),
        {"action": "publish_selected", "_selected_action": [ours.pk]},
    )

    assert events_of(ours) == [("publish", staff.pk, StandardStatus.DRAFT, StandardStatus.PUBLISHED)]


# --- refused moves ----------------------------------------------------------------------------


def test_publishing_twice_is_refused_by_the_table_and_writes_nothing(global_draft, root):
    services.publish_standard(standard=global_draft, actor=root)

    with pytest.raises(WorkflowError, match="already published"):
        services.publish_standard(standard=Standard.objects.get(pk=global_draft.pk), actor=root)

    assert len(events_of(global_draft)) == 1


def test_an_inconsistent_draft_is_refused_and_writes_nothing(global_draft, root):
    # Dimension 1 is worth 10 points; without item 1.2 its items add up to 5.
    Item.objects.filter(dimension__standard=global_draft, code="1.2").delete()

    with pytest.raises(ValidationError):
        services.publish_standard(standard=global_draft, actor=root)

    assert status_of(global_draft) == StandardStatus.DRAFT
    assert events_of(global_draft) == []


@pytest.mark.parametrize("who", ["reviewer", "secretary", "their_staff", "other_approver", "outsider"])
def test_others_may_not_publish_a_committees_draft(ours, people, who):
    with pytest.raises(PermissionDenied):
        services.publish_standard(standard=ours, actor=people[who])

    assert status_of(ours) == StandardStatus.DRAFT
    assert events_of(ours) == []


@pytest.mark.parametrize("who", ["staff", "approver"])
def test_only_a_superuser_publishes_a_global_draft(global_draft, people, who):
    with pytest.raises(PermissionDenied):
        services.publish_standard(standard=global_draft, actor=people[who])

    assert status_of(global_draft) == StandardStatus.DRAFT
    assert events_of(global_draft) == []


def test_a_standard_is_never_published_by_the_system_alone(ours):
    with pytest.raises(PermissionDenied):
        services.publish_standard(standard=ours, actor=None)

    assert events_of(ours) == []


def test_an_inactive_superuser_may_not_publish(global_draft, root):
    User.objects.filter(pk=root.pk).update(is_active=False)
    root.refresh_from_db()

    with pytest.raises(PermissionDenied):
        services.publish_standard(standard=global_draft, actor=root)

    assert events_of(global_draft) == []


def test_the_event_admin_lists_only_the_events_of_visible_standards(client, world, people, ours):
    theirs = make_draft_standard(name="他工委细则", committee=world.other_committee)
    services.publish_standard(standard=ours, actor=people["staff"])
    services.publish_standard(standard=theirs, actor=people["their_staff"])
    client.force_login(scoring_admin(world.staff), backend=BACKEND)

    page = client.get(reverse("admin:scoring_standardevent_changelist")).content.decode()

    assert "本工委细则" in page
    assert "他工委细则" not in page
