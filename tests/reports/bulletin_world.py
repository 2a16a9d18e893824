"""The bulletin's world: four years of certificates and star events, built on tests/factories.py.

The bulletin counts what was in force at a quarter's end, so this world needs a history the
shared one has no use for (2026 Q3, today 2026-10-10 in Shanghai):

    第一工委 (C1) ── 甲党委 (P1) ── B1 ★5 (lowered to ★4 on 10-01, after the quarter)
                 │               ├─ B2 ★5 → ★4 (downgrade 08-15)
                 │               ├─ B3 ★4 → revoked 09-10
                 │               ├─ B4 ★3 (superseded an old ★2 certificate)
                 │               └─ 甲党委下属党总支 (G1) ── B5 ★5
                 ├─ 乙党委 (P2) ── B6 ★2, ran out 08-31 (expiry event 09-01)
                 │               ├─ B7 never rated
                 │               └─ B9 inactive, ★5 (left out)
                 └─ B8 directly under C1: certified ★4 on 07-01 00:30 Shanghai (06-30 UTC)
    第二工委 (C2) ── 丙党委 (Q1) ── D1 ★5 (another committee: left out)

At the quarter's end: ★5 B1 B5 · ★4 B2 B8 · ★3 B4 · unrated B3 B6 B7 → 8 branches, 25.0 %.
The rows are written directly (``make_certificate`` and friends): replaying four years of
cycles through the services would test the services, not the bulletin.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from branches.models import CommitteePolicy, Organization, User
from branches.roles import Role
from reviews.models import AssessmentStatus, Certificate, CertificateStatus, CycleStatus, StarEventKind
from tests.factories import (
    make_assessment,
    make_branch,
    make_certificate,
    make_committee,
    make_cycle,
    make_general_branch,
    make_party_committee,
    make_sized_committee,
    make_star_event,
    make_user,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = datetime.date(2026, 10, 10)
NOW = datetime.datetime(2026, 10, 10, 9, 0, tzinfo=SHANGHAI)
YEAR, QUARTER = 2026, 3


def at(y, m, d, hour=10, minute=0, tz=SHANGHAI) -> datetime.datetime:
    return datetime.datetime(y, m, d, hour, minute, tzinfo=tz)


@dataclass(frozen=True)
class BulletinWorld:
    committee: Organization
    orgs: dict[str, Organization]
    people: dict[str, User]


def build_bulletin_world() -> BulletinWorld:
    c1 = make_committee("第一工委", "C1")
    p1 = make_party_committee("甲党委", "P1", parent=c1)
    g1 = make_general_branch("甲党委下属党总支", "G1", parent=p1)
    p2 = make_party_committee("乙党委", "P2", parent=c1)
    orgs = {"C1": c1, "P1": p1, "G1": g1, "P2": p2}
    for code, name, parent in [
        ("B1", "甲一支部", p1),
        ("B2", "甲二支部", p1),
        ("B3", "甲三支部", p1),
        ("B4", "甲四支部", p1),
        ("B5", "总支一支部", g1),
        ("B6", "乙一支部", p2),
        ("B7", "乙二支部", p2),
        ("B9", "乙三支部（已撤销）", p2),
        ("B8", "工委机关支部", c1),
    ]:
        orgs[code] = make_branch(name, code, parent=parent)
    Organization.objects.filter(pk=orgs["B9"].pk).update(is_active=False)
    c2 = make_committee("第二工委", "C2")
    q1 = make_party_committee("丙党委", "Q1", parent=c2)
    orgs.update(C2=c2, Q1=q1, D1=make_branch("丙一支部", "D1", parent=q1))
    CommitteePolicy.objects.filter(committee=c1).update(
        five_star_target_percent=Decimal("80"),
        target_deadline=datetime.date(2027, 12, 31),
        five_goods_min_percent=Decimal("40"),
    )

    people = {
        "staff": make_user("staff", "吴党务", roles=((Role.STAFF, c1),)),
        "approver": make_user("approver", "周审批", roles=((Role.COMMITTEE_APPROVER, c1),)),
        "secretary": make_user("secretary", "张伟", roles=((Role.BRANCH_SECRETARY, orgs["B1"]),)),
        "p2_staff": make_user("p2_staff", "孙华", roles=((Role.STAFF, p2),)),
        "other_staff": make_user("other_staff", "郑工委", roles=((Role.STAFF, c2),)),
        "outsider": make_user("outsider", "路人"),
    }
    user = people["approver"]
    B = orgs
    done = AssessmentStatus.CERTIFIED
    oldest = make_cycle(
        c1, name="2021—2022年度", opened_at=at(2022, 10, 1), status=CycleStatus.CLOSED, opened_by=user
    )
    past = make_cycle(
        c1, name="2023—2024年度", opened_at=at(2024, 10, 1), status=CycleStatus.CLOSED, opened_by=user
    )
    current = make_cycle(
        c1, name="2025—2026年度", opened_at=at(2026, 5, 1), status=CycleStatus.OPEN, opened_by=user
    )
    decided = at(2024, 12, 20)
    issued = at(2025, 1, 10)
    until = datetime.date(2027, 1, 10)

    old_b4 = make_certificate(
        make_assessment(oldest, B["B4"], status=done, score="75.0", stars=2, decided_at=at(2022, 12, 20)),
        stars=2,
        issued_at=at(2023, 1, 1),
        valid_until=datetime.date(2025, 1, 1),
        status=CertificateStatus.SUPERSEDED,
    )
    c = {
        code: make_certificate(
            make_assessment(past, B[code], status=done, score=score, stars=stars, decided_at=decided),
            stars=stars,
            issued_at=issued,
            valid_until=until,
        )
        for code, score, stars in [
            ("B1", "96.0", 5),
            ("B2", "95.5", 5),
            ("B3", "92.0", 4),
            ("B5", "97.0", 5),
            ("B9", "99.9", 5),
        ]
    }
    c["B4"] = make_certificate(
        make_assessment(past, B["B4"], status=done, score="92.0", stars=3, decided_at=decided),
        stars=3,
        issued_at=issued,
        valid_until=until,
        from_stars=old_b4.stars,
    )
    c["B6"] = make_certificate(
        make_assessment(past, B["B6"], status=done, score="72.0", stars=2, decided_at=decided),
        stars=2,
        issued_at=issued,
        valid_until=datetime.date(2026, 8, 31),
        status=CertificateStatus.EXPIRED,
    )
    # Dynamic management in (and just after) the quarter.
    Certificate.objects.filter(pk=c["B2"].pk).update(stars=4)
    make_star_event(
        c["B2"],
        StarEventKind.DOWNGRADE,
        at(2026, 8, 15),
        5,
        4,
        reason="未按期召开组织生活会",
        violation="三会一课制度",
    )
    Certificate.objects.filter(pk=c["B3"].pk).update(status=CertificateStatus.REVOKED)
    make_star_event(
        c["B3"],
        StarEventKind.REVOCATION,
        at(2026, 9, 10),
        4,
        None,
        reason="发生违纪问题",
        violation="廉洁纪律",
    )
    make_star_event(c["B6"], StarEventKind.EXPIRY, at(2026, 9, 1, 1), 2, None)
    # 2026-10-01 00:30 in Shanghai is still 09-30 in UTC: after the quarter all the same.
    Certificate.objects.filter(pk=c["B1"].pk).update(stars=4)
    make_star_event(
        c["B1"],
        StarEventKind.DOWNGRADE,
        at(2026, 9, 30, 16, 30, tz=datetime.UTC),
        5,
        4,
        reason="督导发现问题",
        violation="学习制度",
    )

    # The current cycle: B8 certified at 2026-07-01 00:30 Shanghai (06-30 in UTC).
    for code, status, score, stars, when in [
        ("B1", AssessmentStatus.NOT_STARTED, None, None, None),
        ("B2", AssessmentStatus.DRAFT, None, None, None),
        ("B3", AssessmentStatus.RETURNED, None, None, None),
        ("B4", AssessmentStatus.SCORED, "99.0", None, None),
        ("B5", AssessmentStatus.SUBMITTED, None, None, None),
        ("B6", AssessmentStatus.DECIDED, "99.0", 5, at(2026, 10, 3)),
        ("B7", AssessmentStatus.FORWARDED, None, None, None),
    ]:
        make_assessment(current, B[code], status=status, score=score, stars=stars, decided_at=when)
    make_certificate(
        make_assessment(
            current,
            B["B8"],
            status=AssessmentStatus.CERTIFIED,
            score="96.5",
            stars=4,
            decided_at=at(2026, 6, 30, 10, tz=datetime.UTC),
        ),
        stars=4,
        issued_at=at(2026, 6, 30, 16, 30, tz=datetime.UTC),
        valid_until=datetime.date(2028, 7, 1),
    )

    other = make_cycle(
        c2,
        name="丙工委周期",
        opened_at=at(2024, 10, 1),
        status=CycleStatus.CLOSED,
        opened_by=people["other_staff"],
    )
    make_certificate(
        make_assessment(other, orgs["D1"], status=done, score="99.5", stars=5, decided_at=decided),
        stars=5,
        issued_at=issued,
        valid_until=until,
    )
    return BulletinWorld(committee=c1, orgs=orgs, people=people)


def build_scored_committee(n_branches: int, prefix: str) -> tuple[Organization, User]:
    """A committee of two party committees and ``n_branches`` branches, each certified and scored.

    Returns the committee and its party-affairs staff member.
    """
    sized = make_sized_committee(prefix, n_branches, party_committees=2)
    committee = sized.committee
    staff = make_user(f"{prefix}-staff", roles=((Role.STAFF, committee),))
    past = make_cycle(
        committee, name="往期", opened_at=at(2024, 10, 1), status=CycleStatus.CLOSED, opened_by=staff
    )
    current = make_cycle(
        committee, name="本期", opened_at=at(2026, 5, 1), status=CycleStatus.OPEN, opened_by=staff
    )
    for i, branch in enumerate(sized.branches):
        stars = 5 - i % 5
        certificate = make_certificate(
            make_assessment(
                past,
                branch,
                status=AssessmentStatus.CERTIFIED,
                score=f"{70 + i % 30}.5",
                stars=stars,
                decided_at=at(2024, 12, 20),
            ),
            stars=stars,
            issued_at=at(2025, 1, 10),
            valid_until=datetime.date(2027, 1, 10),
        )
        if i % 7 == 0:
            make_star_event(
                certificate,
                StarEventKind.DOWNGRADE,
                at(2026, 8, 1),
                stars,
                max(stars - 1, 1),
                reason="原因",
                violation="违规",
            )
        make_assessment(current, branch, status=AssessmentStatus.DRAFT)
    return committee, staff
