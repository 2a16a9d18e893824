"""Shared set-up of the rectification tests: a certified branch to downgrade, tasks opened by hand."""

import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from rectification.models import SourceKind
from rectification.services import open_task
from reviews.models import Assessment, Certificate
from tests.factories import make_certificate, open_default_cycle

SHANGHAI = ZoneInfo("Asia/Shanghai")


def certified(world, branch=None, stars: int = 4) -> Certificate:
    """``branch`` (the world's own branch) holds a ``stars``-star certificate in force."""
    branch = branch or world.branch
    cycle = open_default_cycle(world.committee, world.approver)
    return make_certificate(
        Assessment.objects.get(cycle=cycle, branch=branch),
        stars=stars,
        issued_at=timezone.now() - datetime.timedelta(days=30),
        valid_until=timezone.localdate() + datetime.timedelta(days=700),
        actor=world.approver,
    )


def manual_task(world, *, branch=None, owner=None, days: int = 30, actor=None, **extra):
    branch = branch or world.branch
    return open_task(
        committee=world.committee,
        branch=branch,
        title=extra.pop("title", "台账不全"),
        requirement=extra.pop("requirement", "补齐三会一课记录。"),
        owner=owner or world.secretary,
        deadline=timezone.localdate() + datetime.timedelta(days=days),
        source_kind=SourceKind.MANUAL,
        actor=actor or world.parent_reviewer,
        **extra,
    )
