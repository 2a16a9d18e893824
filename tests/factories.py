"""The test world's building blocks: people, organizations, cycles and the steps of a cycle.

Plain keyword-only functions rather than factory_boy: an organization only gets its
materialized path through ``create_organization``, and a workflow step only means something
when it goes through its service. The few helpers that write rows directly (``make_cycle``,
``make_assessment``, ``make_submitted_assessment``, ``make_certificate``, ``make_star_event``)
say so: they set up history a test needs without replaying it.

``build_world`` is the named world every suite shares (the ``world`` fixture of
tests/conftest.py); a file that needs more builds it on these functions.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from branches.models import Organization, OrgKind, User
from branches.roles import Role
from branches.services.organizations import assign_role, create_organization
from reviews.demo import DEMO_PDF
from reviews.models import (
    Assessment,
    AssessmentStatus,
    Certificate,
    CertificateStatus,
    Cycle,
    CycleStatus,
    ReviewerAssignment,
    SelfScore,
    StarEvent,
    StarEventKind,
    SubmissionRound,
)
from reviews.services.assessment import add_evidence, save_self_assessment, submit_self_assessment
from reviews.services.cycles import open_cycle
from reviews.services.decision import certify_batch, close_cycle, decide_assessment, publicize_cycle
from reviews.services.preliminary import forward_assessment
from reviews.services.scoring import assign_reviewers, submit_scores
from scoring.arithmetic import ScoreEntry
from scoring.models import Dimension, Item, ItemKind, Standard, StarThreshold
from scoring.services import standards as standard_services

PASSWORD = "correct-horse-battery-staple"

DEFAULT_STANDARD_NAME = "党支部建设星级管理考核细则"
CYCLE_NAME = "2025—2026年度星级认定"
DEADLINES = {
    "self_assessment_deadline": datetime.date(2025, 3, 31),
    "preliminary_deadline": datetime.date(2025, 4, 30),
    "scoring_deadline": datetime.date(2025, 5, 31),
}


# ---------------------------------------------------------------------------- people


def make_user(
    username: str,
    real_name: str = "",
    *,
    roles: tuple[tuple[str, Organization], ...] = (),
    password: str | None = PASSWORD,
    **extra,
) -> User:
    """A user holding each ``(role, organization)`` of ``roles``; ``extra`` goes to the User row."""
    user = User.objects.create_user(username, password=password, real_name=real_name, **extra)
    for role, organization in roles:
        assign_role(user=user, role=role, organization=organization)
    return user


# ---------------------------------------------------------------------------- organizations


def make_committee(name: str, code: str, **extra) -> Organization:
    return create_organization(name=name, code=code, kind=OrgKind.COMMITTEE, **extra)


def make_party_committee(name: str, code: str, *, parent: Organization, **extra) -> Organization:
    return create_organization(name=name, code=code, kind=OrgKind.PARTY_COMMITTEE, parent=parent, **extra)


def make_general_branch(name: str, code: str, *, parent: Organization, **extra) -> Organization:
    return create_organization(name=name, code=code, kind=OrgKind.GENERAL_BRANCH, parent=parent, **extra)


def make_branch(name: str, code: str, *, parent: Organization, **extra) -> Organization:
    return create_organization(name=name, code=code, kind=OrgKind.BRANCH, parent=parent, **extra)


@dataclass(frozen=True)
class SizedCommittee:
    committee: Organization
    party_committees: tuple[Organization, ...]
    branches: tuple[Organization, ...]


def make_sized_committee(prefix: str, branches: int, *, party_committees: int = 1) -> SizedCommittee:
    """A committee of ``branches`` branches spread over its party committees, for query counts.

    Names and codes start with ``prefix``, so two sizes can live in one test.
    """
    committee = make_committee(f"{prefix}工委", f"{prefix}C")
    parents = tuple(
        make_party_committee(f"{prefix}党委{i}", f"{prefix}P{i}", parent=committee)
        for i in range(party_committees)
    )
    made = tuple(
        make_branch(f"{prefix}第{i}党支部", f"{prefix}B{i}", parent=parents[i % party_committees])
        for i in range(branches)
    )
    return SizedCommittee(committee=committee, party_committees=parents, branches=made)


# ---------------------------------------------------------------------------- the world


@dataclass(frozen=True)
class World:
    """Every suite's cast, like healthchecks' alice, bob and charlie.

    市直机关工委 (C1) ─┬─ 市教育局机关党委 (P1) ─┬─ 教育局第一党支部 (B1)   secretary 张伟
                       │                          └─ 教育局第二党支部 (B2)   sibling_secretary 刘洋
                       ├─ 市卫健委机关党委 (P2) ─── 卫健委第一党支部 (B4)
                       └─ 工委机关党支部 (B3), directly under the committee
    区直机关工委 (C2) ──── 区第一党支部 (D1)

    On C1: approver 周审批, staff 吴党务 (also a Django staff user), and the assessment team
    李明, 王芳, 赵强; on P1 the parent reviewer 陈初审. C2 has its own approver, 郑工委;
    路人 holds no role. Every user signs in with ``PASSWORD`` and has a mailbox at example.cn.
    """

    committee: Organization
    party_committee: Organization
    second_party_committee: Organization
    branch: Organization
    sibling_branch: Organization
    cousin_branch: Organization  # same committee, under the other party committee
    branch_under_committee: Organization
    other_committee: Organization
    other_branch: Organization

    secretary: User
    sibling_secretary: User
    parent_reviewer: User
    reviewers: tuple[User, User, User]
    approver: User
    staff: User
    other_approver: User
    outsider: User

    @property
    def people(self) -> dict[str, User]:
        """Every person of the world by role, for tests parametrized over who is asking."""
        first, second, third = self.reviewers
        return {
            "secretary": self.secretary,
            "sibling_secretary": self.sibling_secretary,
            "parent_reviewer": self.parent_reviewer,
            "reviewer1": first,
            "reviewer2": second,
            "reviewer3": third,
            "approver": self.approver,
            "staff": self.staff,
            "other_approver": self.other_approver,
            "outsider": self.outsider,
        }

    @property
    def organizations(self) -> dict[str, Organization]:
        """Every organization of the world by its code."""
        orgs = (
            self.committee,
            self.party_committee,
            self.second_party_committee,
            self.branch,
            self.sibling_branch,
            self.branch_under_committee,
            self.cousin_branch,
            self.other_committee,
            self.other_branch,
        )
        return {org.code: org for org in orgs}


def _person(username: str, real_name: str, *roles: tuple[str, Organization], **extra) -> User:
    return make_user(username, real_name, roles=roles, email=f"{username}@example.cn", **extra)


def build_world() -> World:
    committee = make_committee("市直机关工委", "C1")
    party_committee = make_party_committee("市教育局机关党委", "P1", parent=committee)
    second_party_committee = make_party_committee("市卫健委机关党委", "P2", parent=committee)
    branch = make_branch("教育局第一党支部", "B1", parent=party_committee)
    sibling_branch = make_branch("教育局第二党支部", "B2", parent=party_committee)
    branch_under_committee = make_branch("工委机关党支部", "B3", parent=committee)
    cousin_branch = make_branch("卫健委第一党支部", "B4", parent=second_party_committee)
    other_committee = make_committee("区直机关工委", "C2")
    other_branch = make_branch("区第一党支部", "D1", parent=other_committee)
    reviewer = Role.ASSESSMENT_REVIEWER
    return World(
        committee=committee,
        party_committee=party_committee,
        second_party_committee=second_party_committee,
        branch=branch,
        sibling_branch=sibling_branch,
        cousin_branch=cousin_branch,
        branch_under_committee=branch_under_committee,
        other_committee=other_committee,
        other_branch=other_branch,
        secretary=_person("zhangwei", "张伟", (Role.BRANCH_SECRETARY, branch)),
        sibling_secretary=_person("liuyang", "刘洋", (Role.BRANCH_SECRETARY, sibling_branch)),
        parent_reviewer=_person("chenchushen", "陈初审", (Role.PARENT_REVIEWER, party_committee)),
        reviewers=(
            _person("liming", "李明", (reviewer, committee)),
            _person("wangfang", "王芳", (reviewer, committee)),
            _person("zhaoqiang", "赵强", (reviewer, committee)),
        ),
        approver=_person("zhoushenpi", "周审批", (Role.COMMITTEE_APPROVER, committee)),
        staff=_person("wudangwu", "吴党务", (Role.STAFF, committee), is_staff=True),
        other_approver=_person("zhenggongwei", "郑工委", (Role.COMMITTEE_APPROVER, other_committee)),
        outsider=_person("luren", "路人"),
    )


# ---------------------------------------------------------------------------- the standard


def default_standard() -> Standard:
    """The standard shipped by the data migration."""
    return Standard.objects.get(name=DEFAULT_STANDARD_NAME, version=1)


def make_draft_standard(
    *,
    name: str = "测试细则",
    committee: Organization | None = None,
    with_bonus: bool = True,
    with_veto: bool = True,
    with_deduction: bool = False,
) -> Standard:
    """A draft that passes publication: 20 points in two dimensions of 10, thresholds 19/18/16/14/0.

    ``with_deduction`` adds the deduction item K1 (up to 3 points off) to the second dimension.
    """
    d = Decimal
    standard = standard_services.create_standard(
        name=name, committee=committee, max_score=d("20"), bonus_cap=d("2")
    )
    for stars, min_score in [(5, "19"), (4, "18"), (3, "16"), (2, "14"), (1, "0")]:
        standard_services.save_threshold(
            threshold=StarThreshold(standard=standard, stars=stars, min_score=d(min_score))
        )
    first = standard_services.save_dimension(
        dimension=Dimension(standard=standard, order=1, code="1", title="班子建设", max_score=d("10"))
    )
    second = standard_services.save_dimension(
        dimension=Dimension(standard=standard, order=2, code="2", title="工作业绩", max_score=d("10"))
    )
    items = [
        Item(
            dimension=first,
            order=1,
            code="1.1",
            title="支部设置合理",
            max_score=d("5"),
            evidence_required=True,
        ),
        Item(dimension=first, order=2, code="1.2", title="班子团结", max_score=d("5")),
        Item(dimension=second, order=1, code="2.1", title="出色完成任务", max_score=d("10")),
    ]
    if with_bonus:
        items.append(
            Item(
                dimension=second, order=2, code="B1", title="获得表彰", max_score=d("3"), kind=ItemKind.BONUS
            )
        )
    if with_veto:
        items.append(
            Item(
                dimension=second,
                order=3,
                code="V1",
                title="发生严重违纪",
                max_score=d("0"),
                kind=ItemKind.VETO,
                veto_star_cap=1,
            )
        )
    if with_deduction:
        items.append(
            Item(
                dimension=second,
                order=4,
                code="K1",
                title="材料报送不及时",
                guidance="每迟报一次扣1分，最多扣3分。",
                max_score=d("3"),
                kind=ItemKind.DEDUCTION,
            )
        )
    for item in items:
        standard_services.save_item(item=item)
    return standard


def make_standard_with_deduction(
    *, committee: Organization, actor: User, name: str = "扣分项细则"
) -> Standard:
    """``make_draft_standard`` with the deduction item K1, published by ``actor`` for ``committee``."""
    draft = make_draft_standard(name=name, committee=committee, with_deduction=True)
    return standard_services.publish_standard(standard=draft, actor=actor)


def full_marks(item: Item) -> Decimal:
    """What a sheet without any fault gives an item: its points, or nothing off a deduction item."""
    return Decimal(0) if item.kind == ItemKind.DEDUCTION else item.max_score


def standard_items(standard: Standard) -> list[Item]:
    """The standard's items in the order of the form."""
    return list(
        Item.objects.filter(dimension__standard=standard).order_by(
            "dimension__order", "dimension__code", "order"
        )
    )


def items_by_code(standard: Standard) -> dict[str, Item]:
    return {item.code: item for item in standard_items(standard)}


# ---------------------------------------------------------------------------- cycles


def open_default_cycle(
    committee: Organization,
    approver: User,
    *,
    standard: Standard | None = None,
    name: str = CYCLE_NAME,
    **extra,
) -> Cycle:
    """A cycle opened through the service (one assessment per active branch), deadlines in spring 2025."""
    return open_cycle(
        committee=committee,
        actor=approver,
        name=name,
        standard=standard or default_standard(),
        **{**DEADLINES, **extra},
    )


def make_cycle(
    committee: Organization,
    *,
    opened_by: User,
    name: str = CYCLE_NAME,
    standard: Standard | None = None,
    status: str = CycleStatus.OPEN,
    opened_at: datetime.datetime | None = None,
    **extra,
) -> Cycle:
    """A bare cycle row without assessments, for tests that place their assessments themselves.

    Opened ``opened_at`` (default: now), its deadlines 30, 40 and 50 days later; without
    ``opened_at`` the deadlines are those of spring 2025, as for ``open_default_cycle``.
    """
    deadlines = dict(DEADLINES)
    if opened_at is not None:
        day = timezone.localdate(opened_at)
        deadlines = {
            "self_assessment_deadline": day + datetime.timedelta(days=30),
            "preliminary_deadline": day + datetime.timedelta(days=40),
            "scoring_deadline": day + datetime.timedelta(days=50),
        }
    cycle = Cycle.objects.create(
        committee=committee,
        name=name,
        standard=standard or default_standard(),
        status=status,
        opened_by=opened_by,
        **{**deadlines, **extra},
    )
    if opened_at is not None:
        Cycle.objects.filter(pk=cycle.pk).update(opened_at=opened_at)
        cycle.refresh_from_db()
    return cycle


# ---------------------------------------------------------------------------- assessments, row by row


def make_assessment(
    cycle: Cycle,
    branch: Organization,
    *,
    status: str = AssessmentStatus.NOT_STARTED,
    score: str | None = None,
    stars: int | None = None,
    decided_at: datetime.datetime | None = None,
) -> Assessment:
    """An assessment row in any state, with its consolidated score and decided stars if given."""
    return Assessment.objects.create(
        cycle=cycle,
        branch=branch,
        status=status,
        consolidated_score=Decimal(score) if score is not None else None,
        decided_stars=stars,
        decided_at=decided_at,
    )


def make_submitted_assessment(
    cycle: Cycle,
    branch: Organization,
    secretary: User,
    *,
    status: str = AssessmentStatus.SUBMITTED,
    rounds: int = 1,
    short: dict[str, Decimal] | None = None,
    recommendation: str = "",
) -> Assessment:
    """An assessment past the secretary's part: a self-score for every item, ``rounds`` rounds.

    Every item has full marks but those in ``short`` (code → points missing; on a deduction
    item the points deducted); declared five stars. Earlier rounds were returned; the last is pending while SUBMITTED, else forwarded.
    """
    short = short or {}
    items = list(Item.objects.filter(dimension__standard=cycle.standard))
    self_total = sum(
        (item.max_score - short.get(item.code, 0) for item in items if item.kind == ItemKind.NORMAL),
        Decimal(0),
    ) - sum((short.get(item.code, 0) for item in items if item.kind == ItemKind.DEDUCTION), Decimal(0))
    assessment = Assessment.objects.create(
        cycle=cycle,
        branch=branch,
        status=status,
        declared_stars=5,
        self_total=self_total,
        recommendation=recommendation,
    )
    SelfScore.objects.bulk_create(
        SelfScore(
            assessment=assessment,
            item=item,
            score=short.get(item.code, Decimal(0))
            if item.kind == ItemKind.DEDUCTION
            else item.max_score - short.get(item.code, 0),
            explanation=f"说明{item.code}",
        )
        for item in items
    )
    now = timezone.now()
    last_outcome = (
        SubmissionRound.Outcome.PENDING
        if status == AssessmentStatus.SUBMITTED
        else SubmissionRound.Outcome.FORWARDED
    )
    for number in range(1, rounds + 1):
        last = number == rounds
        SubmissionRound.objects.create(
            assessment=assessment,
            number=number,
            submitted_by=secretary,
            submitted_at=now - datetime.timedelta(days=rounds - number),
            declared_stars=5,
            self_total=self_total,
            outcome=last_outcome if last else SubmissionRound.Outcome.RETURNED,
            comment="" if last else f"第{number}轮退回原因：缺少会议记录",
        )
    return assessment


# ---------------------------------------------------------------------------- assessments, through the services


def submit_full_marks(assessment: Assessment, secretary: User, items: list[Item], declared: int = 5) -> None:
    """The secretary scores every item in full, attaches the required evidence and submits."""
    scores = {
        item.pk: (False, "")
        if item.kind == ItemKind.VETO
        else (full_marks(item), f"{item.title}：已按要求落实。")
        for item in items
    }
    save_self_assessment(assessment=assessment, actor=secretary, scores=scores)
    for item in items:
        if item.evidence_required:
            upload = SimpleUploadedFile(f"{item.code}-佐证材料.pdf", DEMO_PDF)
            add_evidence(assessment=assessment, item=item, actor=secretary, uploaded_file=upload)
    submit_self_assessment(assessment=assessment, actor=secretary, declared_stars=declared)


def forward_and_assign(assessment: Assessment, *, secretary, parent, approver, reviewers, items) -> None:
    """Submitted in full marks, forwarded by the parent organization, assigned to ``reviewers``."""
    submit_full_marks(assessment, secretary, items)
    forward_assessment(assessment=assessment, actor=parent, recommendation="材料齐全，同意推荐。")
    assign_reviewers(assessment=assessment, actor=approver, reviewers=reviewers)


def submit_sheet(
    assessment: Assessment, reviewer: User, items: list[Item], deductions: dict | None = None
) -> None:
    """The reviewer's sheet: full marks but ``deductions`` (code → (points off, comment)).

    On a deduction item the points off are its score (nothing off by default).
    """
    deductions = deductions or {}
    entries = {}
    for item in items:
        if item.kind == ItemKind.VETO:
            entries[item.pk] = ScoreEntry(Decimal(0))
        else:
            off, comment = deductions.get(item.code, (Decimal(0), ""))
            if item.kind == ItemKind.DEDUCTION:
                entries[item.pk] = ScoreEntry(off, comment)
            else:
                entries[item.pk] = ScoreEntry(item.max_score - off, comment)
    assignment = ReviewerAssignment.objects.get(assessment=assessment, reviewer=reviewer)
    submit_scores(assignment=assignment, actor=reviewer, entries=entries)


# Each reviewer of ``certify`` takes points off as listed: the first none, the second 0.5 on
# 1.2, the third 1 on 4.1; three reviewers make 99.5 points, five stars.
DEDUCTIONS = (
    {},
    {"1.2": (Decimal("0.5"), "组织生活会记录不全，扣0.5分。")},
    {"4.1": (Decimal("1"), "特色亮点不够突出。")},
)


def decide_all(cycle: Cycle, approver: User) -> None:
    """The approver decides every scored assessment of the cycle at its proposed level."""
    for assessment in cycle.assessments.filter(status=AssessmentStatus.SCORED):
        decide_assessment(assessment=assessment, actor=approver, stars=assessment.proposed_stars)


def certify(
    cycle: Cycle, assessments, *, secretary, parent, approver, reviewers, items, close: bool = True
) -> None:
    """Take each assessment from self-assessment to certification through every service.

    The clock is the caller's; certification happens an hour after the public notice ends.
    ``secretary`` is one user, or a dict of branch pk → user. With ``close`` the approver
    then closes the cycle, as a finished past cycle is: the branches left out did not take part.
    """
    for assessment in assessments:
        forward_and_assign(
            assessment,
            secretary=secretary[assessment.branch_id] if isinstance(secretary, dict) else secretary,
            parent=parent,
            approver=approver,
            reviewers=reviewers,
            items=items,
        )
        for reviewer, deductions in zip(reviewers, DEDUCTIONS, strict=False):
            submit_sheet(assessment, reviewer, items, deductions)
        assessment.refresh_from_db()
        decide_assessment(assessment=assessment, actor=approver, stars=assessment.proposed_stars)
    batch = publicize_cycle(cycle=cycle, actor=approver)
    with time_machine.travel(batch.ends_at + datetime.timedelta(hours=1), tick=False):
        certify_batch(batch=batch, actor=approver)
        cycle.refresh_from_db()
        if close and cycle.status == CycleStatus.OPEN:
            close_cycle(cycle=cycle, actor=approver, confirm=True)
            cycle.refresh_from_db()


# ---------------------------------------------------------------------------- certificates, row by row


def make_certificate(
    assessment: Assessment,
    *,
    stars: int,
    issued_at: datetime.datetime,
    valid_until: datetime.date,
    status: str = CertificateStatus.VALID,
    from_stars: int | None = None,
    actor: User | None = None,
) -> Certificate:
    """A certificate as ``certify_batch`` leaves it, with its certification event."""
    certificate = Certificate.objects.create(
        branch=assessment.branch,
        assessment=assessment,
        certified_stars=stars,
        stars=stars,
        issued_at=issued_at,
        valid_until=valid_until,
        status=status,
    )
    make_star_event(certificate, StarEventKind.CERTIFICATION, issued_at, from_stars, stars, actor=actor)
    return certificate


def certify_branch(world: World, branch: Organization, stars: int) -> Certificate:
    """``branch`` certified at ``stars`` by a closed cycle of its own, valid for a year from today."""
    cycle = make_cycle(
        world.committee, opened_by=world.approver, name=f"认定{branch.code}", status=CycleStatus.CLOSED
    )
    assessment = make_assessment(cycle, branch, status=AssessmentStatus.CERTIFIED, stars=stars)
    return make_certificate(
        assessment,
        stars=stars,
        issued_at=timezone.now(),
        valid_until=timezone.localdate() + datetime.timedelta(days=365),
    )


def make_star_event(
    certificate: Certificate,
    kind: str,
    at: datetime.datetime,
    from_stars: int | None,
    to_stars: int | None,
    *,
    reason: str = "",
    violation: str = "",
    actor: User | None = None,
) -> StarEvent:
    return StarEvent.objects.create(
        branch=certificate.branch,
        certificate=certificate,
        kind=kind,
        from_stars=from_stars,
        to_stars=to_stars,
        at=at,
        reason=reason,
        violation=violation,
        actor=actor,
    )
