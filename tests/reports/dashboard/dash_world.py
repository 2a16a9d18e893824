"""The dashboard's world: the shared ``world`` (tests/factories.py) with stars, stages,
rectification tasks and supervision visits (2026 Q4, today 2026-12-07 in Shanghai).

    市直机关工委 (C1) ─┬─ 市教育局机关党委 (P1) ─┬─ B1 ★5 (特色), a task overdue
                       │                          └─ B2 ★4, a task open (deadline ahead), visited
                       ├─ 市卫健委机关党委 (P2) ─── B4 ★5 (示范), a task accepted this quarter
                       └─ B3 (directly under C1), unrated, a liaison branch not visited
    区直机关工委 (C2) ──── D1 ★5, its own task overdue (another committee: never counted)

Stars are certificate rows (``make_certificate``, as the bulletin's world writes them); stages,
tasks, liaison branches and visits go through their services.
"""

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import time_machine

from branches.roles import Role
from branches.services.organizations import change_stage
from rectification.models import SourceKind
from rectification.services.tasks import accept, open_task, report_progress
from reviews.models import AssessmentStatus
from supervision.services.liaisons import assign_liaisons
from supervision.services.visits import record_visit
from tests.factories import make_assessment, make_certificate, make_cycle, make_user

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = datetime.date(2026, 12, 7)
NOW = datetime.datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)
EARLIER = datetime.datetime(2026, 10, 12, 10, 0, tzinfo=SHANGHAI)  # this quarter, before today


@dataclass
class DashWorld:
    world: object
    cycle: object


def _certify(cycle, branch, stars: int):
    assessment = make_assessment(cycle, branch, status=AssessmentStatus.CERTIFIED)
    make_certificate(
        assessment,
        stars=stars,
        issued_at=datetime.datetime(2025, 6, 30, 10, 0, tzinfo=SHANGHAI),
        valid_until=datetime.date(2027, 6, 30),
    )


def build_dash_world(world) -> DashWorld:
    """The rows above, written at EARLIER (this quarter) unless said otherwise."""
    w = world
    cousin_secretary = make_user("dash_b4", "卫健书记", roles=[(Role.BRANCH_SECRETARY, w.cousin_branch)])
    other_secretary = make_user("dash_d1", "区书记", roles=[(Role.BRANCH_SECRETARY, w.other_branch)])
    with time_machine.travel(EARLIER, tick=False):
        cycle = make_cycle(w.committee, opened_by=w.approver, name="2025年度星级认定")
        other_cycle = make_cycle(w.other_committee, opened_by=w.other_approver, name="区2025年度星级认定")
        _certify(cycle, w.branch, 5)
        _certify(cycle, w.sibling_branch, 4)
        _certify(cycle, w.cousin_branch, 5)
        _certify(other_cycle, w.other_branch, 5)
        make_assessment(cycle, w.branch_under_committee)  # not started
        change_stage(branch=w.branch, to_stage="distinctive", actor=w.staff, reason="特色亮点：红色课堂")
        change_stage(branch=w.cousin_branch, to_stage="model", actor=w.staff, reason="品牌：健康先锋")

        def task(branch, deadline, committee=w.committee, actor=w.approver, owner=None):
            return open_task(
                committee=committee,
                branch=branch,
                title=f"{branch.name}整改",
                requirement="按期整改到位",
                owner=owner,
                deadline=deadline,
                source_kind=SourceKind.MANUAL,
                actor=actor,
            )

        task(w.branch, datetime.date(2026, 11, 30), owner=w.secretary)  # overdue by today
        task(w.sibling_branch, datetime.date(2026, 12, 31), owner=w.sibling_secretary)  # open
        done = task(w.cousin_branch, datetime.date(2026, 11, 15), owner=cousin_secretary)
        report_progress(task=done, actor=cousin_secretary, text="已整改")
        accept(task=done, actor=w.approver)
        task(
            w.other_branch,
            datetime.date(2026, 11, 1),
            committee=w.other_committee,
            actor=w.other_approver,
            owner=other_secretary,
        )

    with time_machine.travel(NOW, tick=False):
        assign_liaisons(
            committee=w.committee,
            member=w.staff,
            branches=[w.sibling_branch, w.branch_under_committee],
            actor=w.staff,
        )
        record_visit(
            branch=w.sibling_branch,
            actor=w.staff,
            visited_on=datetime.date(2026, 11, 20),
            members=[w.staff],
            checked="三会一课记录",
        )
    return DashWorld(world=w, cycle=cycle)
