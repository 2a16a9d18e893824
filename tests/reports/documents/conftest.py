"""The official documents' world: the bulletin's world (tests/reports/bulletin_world.py) with its
quarter's bulletin published, the past cycle's results certified in one public-notice batch,
a parent reviewer of each party committee, and the issuers of both committees."""

import datetime
from dataclasses import dataclass

import pytest
import time_machine

from branches.models import Organization, User
from branches.roles import Role
from rectification.models import SourceKind
from rectification.services import open_task
from reports.bulletin.data import bulletin_data
from reports.models import Bulletin, BulletinStatus
from reports.services.documents import update_issuer
from reviews.models import Assessment, AssessmentStatus, Cycle, NoticeBatch
from tests.factories import make_user
from tests.reports.bulletin_world import NOW, QUARTER, YEAR, at, build_bulletin_world


@dataclass
class DocsWorld:
    committee: Organization
    orgs: dict[str, Organization]
    people: dict[str, User]
    bulletin: Bulletin
    past: Cycle
    batch: NoticeBatch
    task: object  # a rectification task of B1, confirmed and open


@pytest.fixture
def docs_world(db, private_media) -> DocsWorld:
    with time_machine.travel(NOW, tick=False):
        world = build_bulletin_world()
        c1, orgs = world.committee, world.orgs
        people = dict(world.people)
        people["p1_parent"] = make_user("p1_parent", "钱初审", roles=((Role.PARENT_REVIEWER, orgs["P1"]),))
        people["p2_parent"] = make_user("p2_parent", "李初审", roles=((Role.PARENT_REVIEWER, orgs["P2"]),))
        people["c2_approver"] = make_user(
            "c2_approver", "冯审批", roles=((Role.COMMITTEE_APPROVER, orgs["C2"]),)
        )
        # Rows, as the bulletin's own tests write them: generating a PDF is another suite's business.
        bulletin = Bulletin.objects.create(
            committee=c1,
            year=YEAR,
            quarter=QUARTER,
            status=BulletinStatus.PUBLISHED,
            data=bulletin_data(committee=c1, year=YEAR, quarter=QUARTER),
        )
        past = Cycle.objects.get(committee=c1, name="2023—2024年度")
        batch = NoticeBatch.objects.create(
            cycle=past,
            number=1,
            started_at=at(2024, 12, 21),
            ends_at=at(2024, 12, 26),
            certified_at=at(2025, 1, 10),
        )
        Assessment.objects.filter(cycle=past, status=AssessmentStatus.CERTIFIED).update(notice_batch=batch)
        update_issuer(
            committee=c1, organ_name="中共第一市直属机关工作委员会", code="一直工委", actor=people["staff"]
        )
        update_issuer(
            committee=orgs["C2"],
            organ_name="中共第二市直属机关工作委员会",
            code="二直工委",
            actor=people["c2_approver"],
        )
        task = open_task(
            committee=c1,
            branch=orgs["B1"],
            title="“三会一课”记录不全",
            requirement="补齐2026年第三季度支部委员会会议记录。\n完善党员大会记录并存档。",
            owner=people["secretary"],
            deadline=datetime.date(2026, 11, 30),
            source_kind=SourceKind.MANUAL,
            actor=people["staff"],
        )
    return DocsWorld(
        committee=c1, orgs=orgs, people=people, bulletin=bulletin, past=past, batch=batch, task=task
    )


@pytest.fixture
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


ISSUE_DAY = datetime.date(2026, 10, 10)
