"""The data migration to notice batches: a cycle under notice stays open with one batch, a certified one closes."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("reviews", "0003_cycleevent")]
AFTER = [("reviews", "0004_notice_batches")]
AT = datetime.datetime(2025, 6, 10, 9, 0, tzinfo=datetime.UTC)


def migrate(targets):
    executor = MigrationExecutor(connection)
    # The apps reviews builds on stay at their newest state, as the database has them.
    upstream = [leaf for leaf in executor.loader.graph.leaf_nodes() if leaf[0] in ("branches", "scoring")]
    executor.migrate([*targets, *upstream])
    executor.loader.build_graph()
    return executor.loader.project_state([*targets, *upstream]).apps


@pytest.fixture
def old_apps():
    apps = migrate(BEFORE)
    yield apps
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_cycles_under_notice_and_certified_become_batches(old_apps):
    Organization = old_apps.get_model("branches", "Organization")
    User = old_apps.get_model("branches", "User")
    Standard = old_apps.get_model("scoring", "Standard")
    Cycle = old_apps.get_model("reviews", "Cycle")
    Assessment = old_apps.get_model("reviews", "Assessment")
    CycleEvent = old_apps.get_model("reviews", "CycleEvent")
    user = User.objects.create(username="shenpi")
    committee = Organization.objects.create(name="工委", code="C", kind="committee", path="/x/")
    branches = [
        Organization.objects.create(
            name=f"支部{n}", code=f"B{n}", kind="branch", parent=committee, path=f"/x/{n}/"
        )
        for n in range(4)
    ]
    standard = Standard.objects.create(name="细则", version=1, status="published", published_at=AT)
    common = {
        "committee": committee,
        "standard": standard,
        "self_assessment_deadline": AT.date(),
        "preliminary_deadline": AT.date(),
        "scoring_deadline": AT.date(),
        "opened_by": user,
    }
    ends = AT + datetime.timedelta(days=5)
    noticed = Cycle.objects.create(
        name="公示中", status="publicity", publicity_started_at=AT, publicity_ends_at=ends, **common
    )
    certified = Cycle.objects.create(
        name="已认定",
        status="certified",
        publicity_started_at=AT,
        publicity_ends_at=ends,
        certified_at=ends + datetime.timedelta(hours=1),
        **common,
    )
    for cycle, states in ((noticed, ["publicized", "draft"]), (certified, ["certified", "scoring"])):
        for branch, status in zip(branches, states, strict=False):
            Assessment.objects.create(cycle=cycle, branch=branch, status=status)
    CycleEvent.objects.create(
        cycle=noticed, actor=user, action="publicize", from_status="open", to_status="publicity"
    )
    CycleEvent.objects.create(
        cycle=certified, actor=user, action="certify", from_status="publicity", to_status="certified"
    )

    apps = migrate(AFTER)

    Cycle = apps.get_model("reviews", "Cycle")
    NoticeBatch = apps.get_model("reviews", "NoticeBatch")
    Assessment = apps.get_model("reviews", "Assessment")
    AssessmentEvent = apps.get_model("reviews", "AssessmentEvent")
    CycleEvent = apps.get_model("reviews", "CycleEvent")
    noticed, certified = Cycle.objects.get(name="公示中"), Cycle.objects.get(name="已认定")
    assert (noticed.status, noticed.closed_at) == ("open", None)
    assert (certified.status, certified.closed_at) == ("closed", ends + datetime.timedelta(hours=1))
    first = NoticeBatch.objects.get(cycle=noticed)
    assert (first.number, first.started_at, first.ends_at, first.certified_at) == (1, AT, ends, None)
    assert first.published_by_id == user.pk
    done = NoticeBatch.objects.get(cycle=certified)
    assert (done.certified_at, done.certified_by_id) == (ends + datetime.timedelta(hours=1), user.pk)
    assert dict(Assessment.objects.filter(cycle=noticed).values_list("status", "notice_batch")) == {
        "publicized": first.pk,
        "draft": None,
    }
    assert dict(Assessment.objects.filter(cycle=certified).values_list("status", "notice_batch")) == {
        "certified": done.pk,
        "not_taking_part": None,
    }
    event = AssessmentEvent.objects.get()
    assert (event.action, event.from_status, event.to_status) == ("close_out", "scoring", "not_taking_part")
    assert set(CycleEvent.objects.values_list("from_status", "to_status")) == {
        ("open", "open"),
        ("open", "closed"),
    }
