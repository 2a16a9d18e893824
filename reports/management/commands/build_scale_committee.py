"""Build a committee at province scale for the page and load benchmarks (bench_pages, bench_rush).

    manage.py build_scale_committee --branches 20000 --party-committees 100 [--cycles 2] [--prefix SCALE]
    manage.py build_scale_committee --prefix SCALE --delete

It writes, with bulk inserts and in one transaction: the committee, its party committees and
branches; one secretary per branch, one parent reviewer per party committee, the assessment
team, an approver and a staff member, all with the password ``PASSWORD`` (hashed once); a past
cycle taken all the way to certification (self-scores with evidence, a forwarded submission,
three reviewers' scores, the decision, the public notice, certificates and star events) and a
current cycle in the deadline rush: not started, draft, submitted, forwarded, being scored.

The rows are the ones the services write: the same statuses and event rows (action, from, to,
note), the submission snapshot of ``submit_self_assessment``, totals and star levels from
``scoring.arithmetic``. The cycle-wide steps run through the services themselves
(``publicize_cycle``, ``certify_batch``), which are bulk already; the per-branch steps, which
would take one transaction per branch, are written as their rows. Afterwards the clock of the
past cycle is set back a year, as the demo does.

Nothing here is audited (the audit trail is append-only), so ``--delete`` removes everything
it built; it refuses, saying why, if other rows have come to point at the committee since.
"""

import datetime
import hashlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries, transaction
from django.db.models import F, ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import (
    AuditEntry,
    CommitteePolicy,
    Organization,
    OrgKind,
    RoleAssignment,
    User,
    order_key_of,
)
from branches.roles import Role
from reviews.models import (
    Assessment,
    AssessmentEvent,
    AssessmentStatus,
    Certificate,
    Cycle,
    CycleEvent,
    Evidence,
    NoticeBatch,
    ReviewerAssignment,
    ReviewScore,
    SelfScore,
    StarEvent,
    SubmissionRound,
)
from reviews.services.assessment import _snapshot, self_result
from reviews.services.decision import certify_batch, publicize_cycle
from scoring.arithmetic import mean_score, star_for, total_score, veto_applies
from scoring.models import Item, ItemKind, Standard
from scoring.selectors import rules_from_standard
from scoring.services.defaults import ensure_default_standard

PASSWORD = "Scale@2026"  # noqa: S105 - a benchmark committee's known password, like the demo's
DEFAULT_PREFIX = "SCALE"
PREFIX_PATTERN = re.compile(r"[A-Z][A-Z0-9]{0,11}")
BATCH = 2000
CHUNK = 500  # branches written per round of inserts: memory stays flat at any size
REVIEWERS_PER_BRANCH = 3
QUALITY = [Decimal(q) for q in ("1.00", "0.98", "0.96", "0.93", "0.90", "0.87", "0.84", "0.80", "0.76")]
# The current cycle in its last week: each branch's status from its position (out of 20).
RUSH = (
    [AssessmentStatus.NOT_STARTED] * 4
    + [AssessmentStatus.DRAFT] * 6
    + [AssessmentStatus.SUBMITTED] * 4
    + [AssessmentStatus.FORWARDED] * 3
    + [AssessmentStatus.SCORING] * 3
)
RECOMMENDATION = "经党委初审，材料齐全，同意推荐。"
EXPLANATION = "已按要求落实，台账齐全。"
REVIEW_COMMENT = "材料不够完整，酌情扣分。"
SAMPLE_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


# --- names: the one place that says what belongs to a prefix (bench_pages reads them too) -----


def committee_code(prefix: str) -> str:
    return f"{prefix}-C"


def username(prefix: str, role: str, number: int = 1) -> str:
    return f"{prefix.lower()}-{role}-{number:05d}"


def past_cycle_name(prefix: str) -> str:
    return f"{prefix} 往期星级认定"


def current_cycle_name(prefix: str) -> str:
    return f"{prefix} 本期星级认定"


def evidence_name(prefix: str) -> str:
    return f"evidence/scale-{prefix.lower()}/台账.pdf"


def clean_prefix(value: str) -> str:
    prefix = (value or "").strip().upper()
    if not PREFIX_PATTERN.fullmatch(prefix):
        raise CommandError("--prefix: 1 to 12 letters or digits, starting with a letter (e.g. SCALE).")
    return prefix


# --- the synthetic scores -----------------------------------------------------------------------


def _quality(code: str, salt: str) -> Decimal:
    digest = hashlib.sha256(f"{salt}:{code}".encode()).digest()
    return QUALITY[digest[0] % len(QUALITY)]


def _score(item: Item, quality: Decimal, jitter: int = 0) -> Decimal | None:
    """A plausible score for ``item``: half points, within 0 … max; a mark on a veto item."""
    if item.kind == ItemKind.VETO:
        return None
    if item.kind == ItemKind.DEDUCTION:
        return Decimal("0.0")
    raw = item.max_score * quality + Decimal(jitter) / 2
    value = (raw * 2).quantize(Decimal("1"), rounding=ROUND_HALF_UP) / 2
    return min(max(value, Decimal("0")), item.max_score).quantize(Decimal("0.1"))


def _review_score(item: Item, quality: Decimal, reviewer_slot: int) -> Decimal:
    if item.kind == ItemKind.VETO:
        return Decimal("0.0")  # the veto does not apply
    return _score(item, quality, jitter=(reviewer_slot % 3) - 1)


def _review_comment(item: Item, score: Decimal) -> str:
    if item.kind == ItemKind.DEDUCTION:
        return REVIEW_COMMENT if score > 0 else ""
    if item.kind == ItemKind.VETO:
        return ""
    return REVIEW_COMMENT if score < item.max_score else ""


@dataclass
class People:
    approver: User
    staff: User
    reviewers: list[User]
    parents: dict[int, User]  # party committee pk → its parent reviewer
    secretaries: dict[int, User]  # branch pk → its secretary


@dataclass
class Built:
    counts: dict[str, int]

    def add(self, key: str, n: int) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


class Command(BaseCommand):
    help = "Build (or --delete) a committee of N branches with two cycles, for the scale benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--branches", type=int, default=20000)
        parser.add_argument("--party-committees", type=int, default=100)
        parser.add_argument(
            "--cycles",
            type=int,
            choices=[1, 2],
            default=2,
            help="2: a past certified cycle and a current one.",
        )
        parser.add_argument("--reviewers", type=int, default=30, help="Members of the assessment team.")
        parser.add_argument("--prefix", default=DEFAULT_PREFIX, help="Codes and user names start with it.")
        parser.add_argument("--delete", action="store_true", help="Remove what was built with --prefix.")

    def handle(self, *args, branches, party_committees, cycles, reviewers, prefix, delete, **options):
        prefix = clean_prefix(prefix)
        started = time.perf_counter()
        if delete:
            counts = delete_scale_committee(prefix)
            summary = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
            self.stdout.write(
                f"deleted {prefix}: {summary or 'nothing'} in {time.perf_counter() - started:.1f} s"
            )
            return
        if branches < 1 or party_committees < 1 or party_committees > branches:
            raise CommandError("Need at least one branch per party committee.")
        if reviewers < REVIEWERS_PER_BRANCH:
            raise CommandError(f"--reviewers: at least {REVIEWERS_PER_BRANCH}.")
        if Organization.objects.filter(code=committee_code(prefix)).exists():
            raise CommandError(
                f"The committee {committee_code(prefix)} exists already; "
                f"remove it first with --prefix {prefix} --delete, or choose another prefix."
            )
        built = build_scale_committee(
            prefix=prefix,
            n_branches=branches,
            n_parents=party_committees,
            n_reviewers=reviewers,
            cycles=cycles,
            log=lambda line: self.stdout.write(f"  {line} ({time.perf_counter() - started:.1f} s)"),
        )
        self.stdout.write(
            f"built {prefix} on {connection.vendor} in {time.perf_counter() - started:.1f} s: "
            + ", ".join(f"{k} {v}" for k, v in built.counts.items())
        )
        self.stdout.write(
            f"sign in as {username(prefix, 'approver')}, {username(prefix, 'staff')}, "
            f"{username(prefix, 'reviewer')}, {username(prefix, 'parent')}, "
            f"{username(prefix, 'secretary')} … (password {PASSWORD})"
        )


# --- building ---------------------------------------------------------------------------------


def build_scale_committee(
    *, prefix: str, n_branches: int, n_parents: int, n_reviewers: int, cycles: int, log=lambda line: None
) -> Built:
    built = Built(counts={})
    ensure_default_standard()
    standard = (
        Standard.objects.filter(status="published", purpose="certification", committee__isnull=True)
        .order_by("-version")
        .first()
    )
    items = list(
        Item.objects.filter(dimension__standard_id=standard.pk)
        .select_related("dimension")
        .order_by("dimension__order", "dimension__code", "order", "code")
    )
    if not default_storage.exists(evidence_name(prefix)):
        default_storage.save(evidence_name(prefix), ContentFile(SAMPLE_PDF))
    with transaction.atomic():
        committee, parents, branch_ids = _tree(prefix, n_branches, n_parents, built)
        log(f"tree: {len(parents)} party committees, {len(branch_ids)} branches")
        people = _people(prefix, committee, parents, branch_ids, n_reviewers, built)
        log(f"people: {built.counts['users']} users")
        today = timezone.localdate()
        if cycles == 2:
            _past_cycle(prefix, committee, standard, items, branch_ids, people, built, today)
            log("past cycle certified")
        _current_cycle(prefix, committee, standard, items, branch_ids, people, built, today)
        log("current cycle in its deadline rush")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return built


def _tree(prefix: str, n_branches: int, n_parents: int, built: Built):
    committee = Organization.objects.create(
        name=f"{prefix}规模测试机关工委",
        code=committee_code(prefix),
        kind=OrgKind.COMMITTEE,
        path=f"/new-{prefix}/",
    )
    committee.path = f"/{committee.pk}/"
    committee.committee_id = committee.pk  # the committee key, as the services keep it
    committee.save(update_fields=["path", "committee"])
    CommitteePolicy.objects.create(committee=committee)
    parents = Organization.objects.bulk_create(
        (
            Organization(
                name=f"{prefix}市直第{i + 1}单位机关党委",
                code=f"{prefix}-P{i + 1:04d}",
                kind=OrgKind.PARTY_COMMITTEE,
                parent=committee,
                committee=committee,
                path=f"/new-{prefix}-p{i}/",
                depth=1,
                sort_order=i + 1,
            )
            for i in range(n_parents)
        ),
        batch_size=BATCH,
    )
    for p in parents:
        p.path = f"{committee.path}{p.pk}/"
        p.order_key = order_key_of(p, committee)
    Organization.objects.bulk_update(parents, ["path", "order_key"], batch_size=BATCH)
    branch_ids: list[tuple[int, int, str]] = []  # (branch pk, parent pk, code)
    for start in range(0, n_branches, BATCH):
        rows = Organization.objects.bulk_create(
            Organization(
                name=f"{parents[i % n_parents].name[len(prefix) : -4]}第{i // n_parents + 1}党支部",
                code=f"{prefix}-B{i + 1:06d}",
                kind=OrgKind.BRANCH,
                parent=parents[i % n_parents],
                committee=committee,
                stage="basic",
                path=f"/new-{prefix}-b{i}/",
                depth=2,
                sort_order=i // n_parents + 1,
            )
            for i in range(start, min(start + BATCH, n_branches))
        )
        for b in rows:
            b.path = f"{b.parent.path}{b.pk}/"
            b.order_key = order_key_of(b, b.parent)
            branch_ids.append((b.pk, b.parent_id, b.code))
        Organization.objects.bulk_update(rows, ["path", "order_key"], batch_size=BATCH)
    built.add("organizations", 1 + n_parents + n_branches)
    return committee, parents, branch_ids


def _people(prefix, committee, parents, branch_ids, n_reviewers, built) -> People:
    password = make_password(PASSWORD)  # once: hashing 20,000 times would take minutes

    def user(role: str, number: int, real_name: str) -> User:
        return User(username=username(prefix, role, number), password=password, real_name=real_name)

    approver = user("approver", 1, f"{prefix}审批人")
    staff = user("staff", 1, f"{prefix}党务工作者")
    reviewers = [user("reviewer", n + 1, f"{prefix}考核组成员{n + 1}") for n in range(n_reviewers)]
    parent_users = [user("parent", n + 1, f"{prefix}初审人{n + 1}") for n in range(len(parents))]
    secretaries = [user("secretary", n + 1, f"{prefix}支部书记{n + 1}") for n in range(len(branch_ids))]
    everyone = [approver, staff, *reviewers, *parent_users, *secretaries]
    User.objects.bulk_create(everyone, batch_size=BATCH)
    if everyone[0].pk is None:  # pragma: no cover - databases without RETURNING
        by_name = dict(
            User.objects.filter(username__startswith=f"{prefix.lower()}-").values_list("username", "pk")
        )
        for u in everyone:
            u.pk = by_name[u.username]
    RoleAssignment.objects.bulk_create(
        [
            RoleAssignment(user=approver, role=Role.COMMITTEE_APPROVER, organization=committee),
            RoleAssignment(user=staff, role=Role.STAFF, organization=committee),
            *(
                RoleAssignment(user=u, role=Role.ASSESSMENT_REVIEWER, organization=committee)
                for u in reviewers
            ),
            *(
                RoleAssignment(user=u, role=Role.PARENT_REVIEWER, organization=p)
                for u, p in zip(parent_users, parents, strict=True)
            ),
            *(
                RoleAssignment(user=u, role=Role.BRANCH_SECRETARY, organization_id=b[0])
                for u, b in zip(secretaries, branch_ids, strict=True)
            ),
        ],
        batch_size=BATCH,
    )
    built.add("users", len(everyone))
    return People(
        approver=approver,
        staff=staff,
        reviewers=reviewers,
        parents={p.pk: u for p, u in zip(parents, parent_users, strict=True)},
        secretaries={b[0]: u for b, u in zip(branch_ids, secretaries, strict=True)},
    )


def _new_cycle(committee, standard, people, name: str, deadline: datetime.date) -> Cycle:
    # As open_cycle makes it (its assessments follow, in their states, from the caller).
    cycle = Cycle(
        committee=committee,
        name=name,
        standard=standard,
        self_assessment_deadline=deadline,
        preliminary_deadline=deadline + datetime.timedelta(days=15),
        scoring_deadline=deadline + datetime.timedelta(days=30),
        reviewers_per_branch=REVIEWERS_PER_BRANCH,
        opened_by=people.approver,
    )
    cycle.full_clean()
    cycle.save()
    return cycle


def _chunks(branch_ids: list, size: int = CHUNK) -> Iterator[list[tuple[int, tuple[int, int, str]]]]:
    indexed = list(enumerate(branch_ids))
    for start in range(0, len(indexed), size):
        yield indexed[start : start + size]


@dataclass
class Plan:
    """What one assessment gets: its status and how far along each kind of row it is."""

    status: str
    self_items: int  # how many items carry a self-score (all once submitted)
    submitted: bool
    forwarded: bool
    assigned: bool
    reviewers_submitted: int  # of REVIEWERS_PER_BRANCH; the next one holds a draft
    decided: bool


def _past_plan(index: int) -> Plan:
    return Plan(AssessmentStatus.DECIDED, -1, True, True, True, REVIEWERS_PER_BRANCH, True)


def _rush_plan(index: int) -> Plan:
    status = RUSH[index % len(RUSH)]
    S = AssessmentStatus
    return Plan(
        status=status,
        self_items=0 if status == S.NOT_STARTED else (-1 if status != S.DRAFT else 1 + index % 15),
        submitted=status in {S.SUBMITTED, S.FORWARDED, S.SCORING},
        forwarded=status in {S.FORWARDED, S.SCORING},
        assigned=status == S.SCORING,
        reviewers_submitted=(index // len(RUSH)) % REVIEWERS_PER_BRANCH if status == S.SCORING else 0,
        decided=False,
    )


def _write_assessments(
    *, cycle, standard, items, branch_ids, people, plan_of, salt, evidence_file, built
) -> None:
    """Write the cycle's assessments and every row the services leave up to each one's status."""
    rules = rules_from_standard(standard)
    evidence_items = [item for item in items if item.evidence_required]
    team = people.reviewers
    reason_names = {}
    for chunk in _chunks(branch_ids):
        reset_queries()  # with DEBUG on, Django would keep the text of every bulk INSERT
        plans = {branch_pk: plan_of(index) for index, (branch_pk, _p, _c) in chunk}
        parent_of = {branch_pk: parent_pk for _i, (branch_pk, parent_pk, _c) in chunk}
        quality = {branch_pk: _quality(code, salt) for _i, (branch_pk, _p, code) in chunk}
        self_scores: dict[int, dict[int, Decimal | None]] = {}
        results = {}
        for _index, (branch_pk, _p, _c) in chunk:
            plan = plans[branch_pk]
            count = len(items) if plan.self_items < 0 else plan.self_items
            self_scores[branch_pk] = {item.pk: _score(item, quality[branch_pk]) for item in items[:count]}
            if plan.submitted:
                results[branch_pk] = self_result(rules, items, self_scores[branch_pk])
        assessments = Assessment.objects.bulk_create(
            [
                Assessment(
                    cycle=cycle,
                    branch_id=branch_pk,
                    status=plans[branch_pk].status,
                    declared_stars=results[branch_pk].stars if branch_pk in results else None,
                    self_total=results[branch_pk].total if branch_pk in results else None,
                    recommendation=RECOMMENDATION if plans[branch_pk].forwarded else "",
                )
                for _i, (branch_pk, _p, _c) in chunk
            ],
            batch_size=BATCH,
        )
        by_branch = {a.branch_id: a for a in assessments}
        rows = [
            SelfScore(
                assessment_id=by_branch[branch_pk].pk,
                item_id=item_id,
                score=score,
                explanation=EXPLANATION if score is not None else "",
            )
            for branch_pk, scores in self_scores.items()
            for item_id, score in scores.items()
            if score is not None
        ]
        SelfScore.objects.bulk_create(rows, batch_size=BATCH)
        built.add("self-scores", len(rows))
        evidence = Evidence.objects.bulk_create(
            [
                Evidence(
                    assessment_id=by_branch[branch_pk].pk,
                    item_id=item.pk,
                    file=evidence_file,
                    original_name=f"{item.evidence_hint or item.title}.pdf"[:255],
                    content_type="application/pdf",
                    size=len(SAMPLE_PDF),
                    uploaded_by=people.secretaries[branch_pk],
                )
                for branch_pk in results
                for item in evidence_items
            ],
            batch_size=BATCH,
        )
        built.add("evidence", len(evidence))
        files: dict[int, list[Evidence]] = {}
        for row in evidence:
            files.setdefault(row.assessment_id, []).append(row)

        rounds, events, assignments = [], [], []
        now = timezone.now()
        for branch_pk, assessment in by_branch.items():
            plan, secretary = plans[branch_pk], people.secretaries[branch_pk]
            parent = people.parents[parent_of[branch_pk]]

            def event(action, source, target, actor, note="", a=assessment, into=events):
                into.append(
                    AssessmentEvent(
                        assessment_id=a.pk,
                        actor=actor,
                        action=action,
                        from_status=source,
                        to_status=target,
                        note=note,
                    )
                )

            S = AssessmentStatus
            if plan.status != S.NOT_STARTED:
                event("start", S.NOT_STARTED, S.DRAFT, secretary)
            if plan.submitted:
                result = results[branch_pk]
                scores = {
                    item_id: SelfScore(item_id=item_id, score=score, explanation=EXPLANATION)
                    for item_id, score in self_scores[branch_pk].items()
                    if score is not None
                }
                rounds.append(
                    SubmissionRound(
                        assessment_id=assessment.pk,
                        number=1,
                        submitted_by=secretary,
                        submitted_at=now,
                        declared_stars=result.stars,
                        self_total=result.total,
                        snapshot=_snapshot(
                            standard.pk, items, scores, files.get(assessment.pk, []), result.stars, result
                        ),
                        outcome=SubmissionRound.Outcome.FORWARDED
                        if plan.forwarded
                        else SubmissionRound.Outcome.PENDING,
                        reviewed_by=parent if plan.forwarded else None,
                        reviewed_at=now if plan.forwarded else None,
                        comment=RECOMMENDATION if plan.forwarded else "",
                    )
                )
                event("submit", S.DRAFT, S.SUBMITTED, secretary)
            if plan.forwarded:
                event("forward", S.SUBMITTED, S.FORWARDED, parent, RECOMMENDATION)
            if plan.assigned:
                slot = assessment.pk % len(team)
                chosen = [team[(slot + k) % len(team)] for k in range(REVIEWERS_PER_BRANCH)]
                key = tuple(u.pk for u in chosen)
                if key not in reason_names:
                    reason_names[key] = _("Reviewers: %(names)s") % {
                        "names": "、".join(str(u) for u in chosen)
                    }
                event("assign", S.FORWARDED, S.SCORING, people.approver, reason_names[key])
                for k, reviewer in enumerate(chosen):
                    done = k < plan.reviewers_submitted
                    assignments.append(
                        ReviewerAssignment(
                            assessment_id=assessment.pk,
                            cycle_id=assessment.cycle_id,
                            reviewer=reviewer,
                            assigned_by=people.approver,
                            submitted_at=now if done else None,
                            version=1 if done else 0,
                        )
                    )
        SubmissionRound.objects.bulk_create(rounds, batch_size=BATCH)
        assignments = ReviewerAssignment.objects.bulk_create(assignments, batch_size=BATCH)

        # Reviewers' sheets: submitted ones complete, the next reviewer's a half-filled draft.
        scores, per_assessment = [], {}
        for assignment in assignments:
            per_assessment.setdefault(assignment.assessment_id, []).append(assignment)
        branch_of = {a.pk: a.branch_id for a in by_branch.values()}
        for assessment_pk, rows_of in per_assessment.items():
            branch_pk = branch_of[assessment_pk]
            plan = plans[branch_pk]
            for k, assignment in enumerate(rows_of):
                if assignment.submitted_at is not None:
                    chosen_items = items
                elif k == plan.reviewers_submitted:
                    chosen_items = items[: len(items) // 2]  # a draft (version 1, not yet submitted)
                else:
                    continue
                for item in chosen_items:
                    value = _review_score(item, quality[branch_pk], k)
                    scores.append(
                        ReviewScore(
                            assignment_id=assignment.pk,
                            item_id=item.pk,
                            version=1,
                            score=value,
                            comment=_review_comment(item, value),
                        )
                    )
        ReviewScore.objects.bulk_create(scores, batch_size=BATCH)
        built.add("review scores", len(scores))

        # Completed scorings: the consolidated score and proposal as scoring_summary computes them.
        completed = []
        for assessment_pk, rows_of in per_assessment.items():
            branch_pk = branch_of[assessment_pk]
            plan = plans[branch_pk]
            if plan.reviewers_submitted < REVIEWERS_PER_BRANCH:
                continue
            means, vetoes = {}, []
            for item in items:
                values = [_review_score(item, quality[branch_pk], k) for k in range(len(rows_of))]
                if item.kind == ItemKind.VETO:
                    if sum(1 for v in values if veto_applies(v)) * 2 > len(values):
                        vetoes.append(item.code)
                else:
                    means[item.code] = mean_score(values)
            consolidated = total_score(rules, means)
            proposed = star_for(rules, consolidated, vetoes)
            assessment = by_branch[branch_pk]
            assessment.consolidated_score, assessment.proposed_stars = consolidated, proposed
            note = _("Consolidated score %(score)s, proposed %(stars)s stars.") % {
                "score": consolidated,
                "stars": proposed,
            }
            event_actor = rows_of[-1].reviewer
            events.append(
                AssessmentEvent(
                    assessment_id=assessment_pk,
                    actor=event_actor,
                    action="complete_scoring",
                    from_status=AssessmentStatus.SCORING,
                    to_status=AssessmentStatus.SCORED,
                    note=note,
                )
            )
            if plan.decided:
                assessment.decided_stars = proposed
                assessment.decided_by = people.approver
                assessment.decided_at = now
                events.append(
                    AssessmentEvent(
                        assessment_id=assessment_pk,
                        actor=people.approver,
                        action="decide",
                        from_status=AssessmentStatus.SCORED,
                        to_status=AssessmentStatus.DECIDED,
                    )
                )
            completed.append(assessment)
        Assessment.objects.bulk_update(
            completed,
            ["consolidated_score", "proposed_stars", "decided_stars", "decided_by", "decided_at"],
            batch_size=BATCH,
        )
        AssessmentEvent.objects.bulk_create(events, batch_size=BATCH)
        built.add("assessment events", len(events))
    built.add("assessments", len(branch_ids))


def _past_cycle(prefix, committee, standard, items, branch_ids, people, built, today) -> None:
    cycle = _new_cycle(
        committee, standard, people, past_cycle_name(prefix), today - datetime.timedelta(days=430)
    )
    _write_assessments(
        cycle=cycle,
        standard=standard,
        items=items,
        branch_ids=branch_ids,
        people=people,
        plan_of=_past_plan,
        salt="past",
        evidence_file=evidence_name(prefix),
        built=built,
    )
    # The cycle-wide steps through the services themselves: one batch, its window over, certified.
    batch = publicize_cycle(cycle=cycle, actor=people.approver)
    NoticeBatch.objects.filter(pk=batch.pk).update(ends_at=timezone.now() - datetime.timedelta(minutes=1))
    batch.refresh_from_db()
    certify_batch(batch=batch, actor=people.approver)
    built.add("certificates", Certificate.objects.filter(assessment__cycle=cycle).count())

    # Set the clock back a year, as the demo does for its past cycle.
    shift = datetime.timedelta(days=365)
    Cycle.objects.filter(pk=cycle.pk).update(
        opened_at=F("opened_at") - shift, closed_at=F("closed_at") - shift
    )
    NoticeBatch.objects.filter(cycle=cycle).update(
        started_at=F("started_at") - shift,
        ends_at=F("ends_at") - shift,
        certified_at=F("certified_at") - shift,
    )
    CycleEvent.objects.filter(cycle=cycle).update(at=F("at") - shift)
    of_cycle = {"assessment__cycle": cycle}
    AssessmentEvent.objects.filter(**of_cycle).update(at=F("at") - shift)
    Assessment.objects.filter(cycle=cycle).update(decided_at=F("decided_at") - shift)
    SubmissionRound.objects.filter(**of_cycle).update(
        submitted_at=F("submitted_at") - shift, reviewed_at=F("reviewed_at") - shift
    )
    ReviewerAssignment.objects.filter(**of_cycle).update(
        assigned_at=F("assigned_at") - shift, submitted_at=F("submitted_at") - shift
    )
    Evidence.objects.filter(**of_cycle).update(uploaded_at=F("uploaded_at") - shift)
    ReviewScore.objects.filter(assignment__assessment__cycle=cycle).update(created_at=F("created_at") - shift)
    valid_until = Certificate.objects.filter(**of_cycle).values_list("valid_until", flat=True).first()
    Certificate.objects.filter(**of_cycle).update(
        issued_at=F("issued_at") - shift, valid_until=valid_until - shift
    )
    StarEvent.objects.filter(certificate__assessment__cycle=cycle).update(at=F("at") - shift)


def _current_cycle(prefix, committee, standard, items, branch_ids, people, built, today) -> None:
    # The self-assessment deadline is three days away: the rush the load benchmark plays.
    cycle = _new_cycle(
        committee, standard, people, current_cycle_name(prefix), today + datetime.timedelta(days=3)
    )
    _write_assessments(
        cycle=cycle,
        standard=standard,
        items=items,
        branch_ids=branch_ids,
        people=people,
        plan_of=_rush_plan,
        salt="current",
        evidence_file=evidence_name(prefix),
        built=built,
    )


# --- deleting ---------------------------------------------------------------------------------


def delete_scale_committee(prefix: str) -> dict[str, int]:
    """Remove the committee of ``prefix``, its tree, cycles, people and the evidence file."""
    committee = Organization.objects.filter(code=committee_code(prefix), kind=OrgKind.COMMITTEE).first()
    users = User.objects.filter(username__startswith=f"{prefix.lower()}-")
    if committee is None and not users.exists():
        return {}
    counts: dict[str, int] = {}
    with transaction.atomic():
        if committee is not None:
            audited = AuditEntry.objects.filter(committee=committee).count()
            if audited:
                raise CommandError(
                    f"{audited} audit entries name {committee.code} (someone changed it in the site); "
                    "the audit trail is kept, so this committee cannot be removed."
                )
            subtree = Organization.objects.filter(path__startswith=committee.path)
            of_cycles = {"assessment__cycle__committee": committee}
            steps = [
                (
                    "review scores",
                    ReviewScore.objects.filter(assignment__assessment__cycle__committee=committee),
                ),
                ("reviewer assignments", ReviewerAssignment.objects.filter(**of_cycles)),
                ("self-scores", SelfScore.objects.filter(**of_cycles)),
                ("evidence", Evidence.objects.filter(**of_cycles)),
                ("submission rounds", SubmissionRound.objects.filter(**of_cycles)),
                ("assessment events", AssessmentEvent.objects.filter(**of_cycles)),
                ("star events", StarEvent.objects.filter(branch__in=subtree)),
                ("certificates", Certificate.objects.filter(branch__in=subtree)),
            ]
            for label, queryset in steps:
                counts[label] = queryset.delete()[0]
            try:
                counts["assessments"] = Assessment.objects.filter(cycle__committee=committee).delete()[0]
                Cycle.objects.filter(committee=committee).delete()
                CommitteePolicy.objects.filter(committee=committee).delete()
                RoleAssignment.objects.filter(organization__in=subtree).delete()
                for depth in (2, 1, 0):
                    counts["organizations"] = (
                        counts.get("organizations", 0)
                        + (
                            Organization.objects.filter(
                                path__startswith=committee.path, depth__gte=depth
                            ).delete()[0]
                        )
                    )
            except ProtectedError as error:
                kinds = sorted({row._meta.verbose_name for row in error.protected_objects})
                raise CommandError(
                    f"Other rows still point at {committee.code}: {', '.join(map(str, kinds))}."
                ) from None
        try:
            counts["users"] = users.delete()[0]
        except ProtectedError as error:
            kinds = sorted({row._meta.verbose_name for row in error.protected_objects})
            raise CommandError(
                f"Other rows still point at the {prefix} users: {', '.join(map(str, kinds))}."
            ) from None
    if default_storage.exists(evidence_name(prefix)):
        default_storage.delete(evidence_name(prefix))
    return counts
