"""Demo cycles: a past, certified one and a current one in progress, all through the services.

Every score and star level is produced by the real workflow (the same services the pages
call); only the clock is set back afterwards for the past cycle, so its dates read as last
year's. Idempotent: a cycle that exists by name is left alone.
"""

import datetime
import hashlib
from decimal import ROUND_HALF_UP, Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from branches.demo import COMMITTEE_CODE
from branches.models import Organization, User
from scoring.models import Item, ItemKind, Standard
from scoring.services.defaults import ensure_default_standard
from scoring.services.standards import copy_standard_to_new_draft, publish_standard, save_item, save_standard

from .models import (
    Appeal,
    AppealEvent,
    Assessment,
    AssessmentEvent,
    Certificate,
    Cycle,
    CycleEvent,
    NoticeBatch,
    ReviewerAssignment,
    StarEvent,
)
from .services.appeals import apply_for_appeal, reject_appeal
from .services.assessment import add_evidence, save_self_assessment, submit_self_assessment
from .services.cycles import open_cycle
from .services.decision import (
    certify_batch,
    decide_assessment,
    downgrade_branch,
    lodge_objection,
    publicize_cycle,
)
from .services.preliminary import forward_assessment, return_assessment
from .services.scoring import ScoreEntry, assign_reviewers, auto_assign, submit_scores

PAST_CYCLE = "2023—2024年度星级认定"
CURRENT_CYCLE = "2025—2026年度星级认定"
QUALITY = [
    Decimal(q)
    for q in ("1.00", "0.98", "0.96", "0.93", "0.90", "0.87", "0.84", "0.80", "0.76", "0.70", "0.66")
]

# A one-page PDF: enough for the evidence check (content sniffed as application/pdf).
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _quality(branch: Organization, salt: str) -> Decimal:
    digest = hashlib.sha256(f"{salt}:{branch.code}".encode()).digest()
    return QUALITY[digest[0] % len(QUALITY)]


def _half_points(value: Decimal) -> Decimal:
    return (value * 2).quantize(Decimal("1"), rounding=ROUND_HALF_UP) / 2


def _self_scores(items: list[Item], quality: Decimal) -> dict[int, tuple]:
    scores = {}
    for item in items:
        if item.kind == ItemKind.VETO:
            scores[item.pk] = (False, "")
        elif item.kind == ItemKind.DEDUCTION:
            # The weaker branches own up to one case of the 负面清单.
            if quality < Decimal("0.85"):
                scores[item.pk] = (Decimal("1"), "2025年第三季度一次主题党日活动未按计划开展。")
            else:
                scores[item.pk] = (Decimal("0"), "")
        else:
            scores[item.pk] = (_half_points(item.max_score * quality), "已按考核细则要求落实，材料见附件。")
    return scores


def _fill_and_submit(assessment: Assessment, items: list[Item], actor, quality: Decimal) -> None:
    save_self_assessment(assessment=assessment, actor=actor, scores=_self_scores(items, quality))
    for item in items:
        if item.evidence_required:
            upload = SimpleUploadedFile(f"{item.code}-{item.evidence_hint or '佐证材料'}.pdf", DEMO_PDF)
            add_evidence(assessment=assessment, item=item, actor=actor, uploaded_file=upload)
    total = sum(
        (_half_points(i.max_score * quality) for i in items if i.kind in (ItemKind.NORMAL, ItemKind.BONUS)),
        Decimal(0),
    ) - (
        Decimal("1") if quality < Decimal("0.85") and any(i.kind == ItemKind.DEDUCTION for i in items) else 0
    )
    declared = 5 if total >= 95 else 4 if total >= 90 else 3 if total >= 80 else 2 if total >= 70 else 1
    submit_self_assessment(assessment=assessment, actor=actor, declared_stars=declared)


def _review(assessment: Assessment, items: list[Item], reviewers: list[User]) -> None:
    own = {s.item_id: s.score for s in assessment.self_scores.all()}
    for index, reviewer in enumerate(reviewers):
        assignment = ReviewerAssignment.objects.get(assessment=assessment, reviewer=reviewer)
        entries = {}
        for n, item in enumerate(items):
            if item.kind == ItemKind.VETO:
                entries[item.pk] = ScoreEntry(Decimal(0))
                continue
            if item.kind == ItemKind.DEDUCTION:
                # The team confirms what the branch reported, with the reason.
                deducted = own.get(item.pk) or Decimal(0)
                entries[item.pk] = ScoreEntry(deducted, "经核实，情况属实。" if deducted else "")
                continue
            # Reviewers are a little stricter than the branch, each on different items.
            deduction = Decimal("0.5") if (n + index) % 4 == 0 else Decimal(0)
            score = max(Decimal(0), (own.get(item.pk) or Decimal(0)) - deduction)
            comment = "" if score >= item.max_score else "台账记录不够完整，酌情扣分。"
            entries[item.pk] = ScoreEntry(score, comment)
        submit_scores(assignment=assignment, actor=reviewer, entries=entries)


def _items(standard: Standard) -> list[Item]:
    return list(Item.objects.filter(dimension__standard=standard).order_by("dimension__order", "order"))


def _past_cycle(committee, standard, users) -> None:
    admin, approver, parent_reviewer, reviewers = users
    cycle = open_cycle(
        committee=committee,
        actor=approver,
        name=PAST_CYCLE,
        standard=standard,
        self_assessment_deadline=datetime.date(2024, 10, 31),
        preliminary_deadline=datetime.date(2024, 11, 15),
        scoring_deadline=datetime.date(2024, 11, 30),
    )
    items = _items(standard)
    assessments = list(cycle.assessments.select_related("branch").order_by("branch__path"))
    for a in assessments:
        _fill_and_submit(a, items, admin, _quality(a.branch, "past"))
        forward_assessment(
            assessment=a,
            actor=parent_reviewer if a.branch.code.startswith("BJ-FGW") else admin,
            recommendation="经党委初审，材料齐全，同意推荐。",
        )
    auto_assign(cycle=cycle, actor=approver)
    for a in assessments:
        a.refresh_from_db()
        _review(a, items, reviewers)
        a.refresh_from_db()
        decide_assessment(assessment=a, actor=approver, stars=a.proposed_stars)
    batch = publicize_cycle(cycle=cycle, actor=approver)
    # During the notice the demo secretary's branch appealed one item; the committee rejected it.
    appealing = next(a for a in assessments if a.branch.code == "BJ-FGW-01")
    appealing.refresh_from_db()
    appeal = apply_for_appeal(
        assessment=appealing,
        actor=admin,
        reason="“三会一课”台账已补齐，请求对第 2.2 项重新评分。",
        items=[item for item in items if item.code == "2.2"],
    )
    reject_appeal(
        appeal=appeal,
        actor=approver,
        reason="经核查，补充的台账形成于考核截止日之后，不予受理，维持公示结果。",
    )
    # The public notice of last year is long over.
    NoticeBatch.objects.filter(pk=batch.pk).update(ends_at=timezone.now() - datetime.timedelta(minutes=1))
    batch.refresh_from_db()
    certify_batch(batch=batch, actor=approver)

    # Set the clock back: this cycle was certified on 2024-12-20.
    certified = datetime.datetime(2024, 12, 20, 10, 0, tzinfo=datetime.UTC)
    shift = timezone.now() - certified
    Cycle.objects.filter(pk=cycle.pk).update(
        opened_at=F("opened_at") - shift,
        closed_at=F("closed_at") - shift,
    )
    NoticeBatch.objects.filter(cycle=cycle).update(
        started_at=F("started_at") - shift,
        ends_at=F("ends_at") - shift,
        certified_at=F("certified_at") - shift,
    )
    CycleEvent.objects.filter(cycle=cycle).update(at=F("at") - shift)
    AssessmentEvent.objects.filter(assessment__cycle=cycle).update(at=F("at") - shift)
    Appeal.objects.filter(assessment__cycle=cycle).update(
        submitted_at=F("submitted_at") - shift, reviewed_at=F("reviewed_at") - shift
    )
    AppealEvent.objects.filter(appeal__assessment__cycle=cycle).update(at=F("at") - shift)
    Assessment.objects.filter(cycle=cycle).update(decided_at=F("decided_at") - shift)
    Certificate.objects.filter(assessment__cycle=cycle).update(
        issued_at=F("issued_at") - shift, valid_until=datetime.date(2026, 12, 20)
    )
    StarEvent.objects.filter(certificate__assessment__cycle=cycle).update(at=F("at") - shift)

    # Dynamic management: one five-star branch lost a star for a missed 组织生活会.
    five = Certificate.objects.filter(assessment__cycle=cycle, stars=5).select_related("branch").first()
    if five is not None:
        downgrade_branch(
            branch=five.branch,
            actor=approver,
            to_stars=4,
            reason="2025年上半年未按期召开组织生活会，经督导检查核实。",
            violation="组织生活制度（三会一课）",
        )


def _deduction_standard(committee, approver) -> Standard:
    """The committee's own revision of the default standard, with a deduction item (扣分项)."""
    name = "党支部建设星级管理考核细则（含扣分项）"
    existing = Standard.objects.filter(committee=committee, name=name).first()
    if existing is not None:
        return existing
    default = (
        Standard.objects.filter(status="published", purpose="certification", committee__isnull=True)
        .order_by("-version")
        .first()
    )
    draft = copy_standard_to_new_draft(standard=default, committee=committee)
    draft.name = name
    draft.version = 1
    save_standard(standard=draft)
    last = draft.dimensions.order_by("-order", "-code").first()
    save_item(
        item=Item(
            dimension=last,
            order=99,
            code="5.9",
            title="负面清单",
            guidance="发生负面清单所列情形的，每项扣1分，最多扣5分，并写明情形。",
            max_score=Decimal("5"),
            kind=ItemKind.DEDUCTION,
        )
    )
    return publish_standard(standard=draft, actor=approver)


def _current_cycle(committee, standard, users) -> None:
    admin, approver, parent_reviewer, reviewers = users
    today = timezone.localdate()
    cycle = open_cycle(
        committee=committee,
        actor=approver,
        name=CURRENT_CYCLE,
        standard=standard,
        self_assessment_deadline=today + datetime.timedelta(days=30),
        preliminary_deadline=today + datetime.timedelta(days=45),
        scoring_deadline=today + datetime.timedelta(days=60),
        star_caps={"5": 40},
    )
    items = _items(standard)
    by_code = {a.branch.code: a for a in cycle.assessments.select_related("branch")}

    def submitted(code: str) -> Assessment:
        a = by_code[code]
        _fill_and_submit(a, items, admin, _quality(a.branch, "current"))
        return a

    # 市发改委: the demo secretary's branch (BJ-FGW-01) is untouched; two wait for chushen,
    # one was returned, two are drafts.
    submitted("BJ-FGW-02")
    submitted("BJ-FGW-03")
    returned = submitted("BJ-FGW-04")
    return_assessment(
        assessment=returned,
        actor=parent_reviewer,
        reason="佐证材料不全：缺少2025年度组织生活会会议记录，请补充后重新提交。",
    )
    for code in ("BJ-FGW-05", "BJ-FGW-06"):
        a = by_code[code]
        save_self_assessment(
            assessment=a, actor=admin, scores=dict(list(_self_scores(items, Decimal("0.9")).items())[:8])
        )

    # 市财政局: forwarded; some with reviewers at work.
    forwarded = []
    for n in range(1, 7):
        a = submitted(f"BJ-CZJ-{n:02d}")
        forward_assessment(assessment=a, actor=admin, recommendation="同意推荐。")
        forwarded.append(a)
    for a in forwarded[:3]:
        assign_reviewers(assessment=a, actor=approver, reviewers=reviewers)
    # 市教育局: scored by the team; six decided, four of them published.
    scored = []
    for n in range(1, 9):
        a = submitted(f"BJ-JYJ-{n:02d}")
        forward_assessment(assessment=a, actor=admin, recommendation="同意推荐。")
        assign_reviewers(assessment=a, actor=approver, reviewers=reviewers)
        a.refresh_from_db()
        _review(a, items, reviewers)
        scored.append(a)
    for a in scored[:4]:
        a.refresh_from_db()
        decide_assessment(assessment=a, actor=approver, stars=a.proposed_stars)
    # Those four are under public notice (公示) now, which every member of the committee reads
    # from the home page, and a member has lodged an objection online. Two more results are
    # decided and wait for the next batch; the last two still wait for a decision.
    publicize_cycle(cycle=cycle, actor=approver)
    for a in scored[4:6]:
        a.refresh_from_db()
        decide_assessment(assessment=a, actor=approver, stars=a.proposed_stars)
    lodge_objection(
        assessment=scored[0],
        actor=User.objects.get(username="shuji"),
        content="该支部2025年第三季度组织生活会记录存在补记情况，建议核实后再认定星级。",
        contact="机关党委办公室 0531-8888 0001",
    )
    # 市卫健委: two drafts; the rest have not started.
    for code in ("BJ-WJW-01", "BJ-WJW-02"):
        save_self_assessment(
            assessment=by_code[code], actor=admin, scores=_self_scores(items[:5], Decimal("0.95"))
        )


@transaction.atomic
def load_demo() -> dict[str, int]:
    ensure_default_standard()
    committee = Organization.objects.get(code=COMMITTEE_CODE)
    standard = (
        Standard.objects.filter(status="published", purpose="certification", committee__isnull=True)
        .order_by("-version")
        .first()
    )
    users = (
        User.objects.get(username="admin"),
        User.objects.get(username="shenpi"),
        User.objects.get(username="chushen"),
        list(User.objects.filter(username__in=["kaohe1", "kaohe2", "kaohe3"]).order_by("username")),
    )
    created = 0
    if not Cycle.objects.filter(committee=committee, name=PAST_CYCLE).exists():
        _past_cycle(committee, standard, users)
        created += 1
    # The committee's own standard with a deduction item: the current cycle runs with it.
    own_standard = _deduction_standard(committee, users[1])
    if not Cycle.objects.filter(committee=committee, name=CURRENT_CYCLE).exists():
        _current_cycle(committee, own_standard, users)
        created += 1
    return {"cycles": created}


__all__ = ["load_demo"]
