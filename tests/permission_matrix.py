"""Machinery of the permission matrix (tests/test_permissions.py): the world, the URL walk, the checks.

The world is two committees run through the real services. C1 (第一工委) has P1 with B1 (the
"own" branch) and B2 (its sibling), and P2 with B3; C2 (第二工委) has Q1 with D1, and mirrors
C1's people, so that a 404 in the "other committee" column is about scope and never about a
missing or half-built object. Each committee has two cycles:

* ``past`` (2024): B1, B2 and D1 went all the way — self-assessment with evidence, preliminary
  review, one assigned reviewer, decision, public notice with a resolved objection,
  certification — so every page that looks back on a review has real rows to show, and each
  of those branches holds a five-star certificate to downgrade or revoke.
* ``current`` (2025, open): B1, B2 and D1 are drafts with one evidence file each, which the
  branch may still edit.

On top of that, the quarterly jobs of each committee have run once, through the real tasks
(so each run left its ``JobRun``): the notices of 2025 Q2 (one for each branch secretary,
parent reviewer and team reviewer) and the bulletin of 2025 Q1 (a draft, with its PDF and
workbook under the module's temporary MEDIA_ROOT).

Last, each past result has an appeal (复核申请), written as rows: B1's and D1's just submitted
by their secretaries, each with a file; B2's being re-scored by the "reviewer" row.

The clock stands still at ``NOW`` for the whole module.
"""

import datetime
from dataclasses import dataclass, field
from typing import NamedTuple
from zoneinfo import ZoneInfo

import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from branches.models import AuditEntry, Organization, OrgKind, RoleAssignment, User
from branches.roles import Role
from branches.services.organizations import assign_role, create_organization
from checks.models import (
    CheckEntry,
    CheckFile,
    CheckRound,
    CheckScore,
    CheckSelfReport,
    CheckSheet,
    DowngradeProposal,
    LeadershipFlag,
)
from checks.services.entries import record_check_entry
from checks.services.rounds import open_check_round
from rectification.models import (  # --- rectification
    RectificationEvent,
    RectificationFile,
    RectificationReport,
    RectificationTask,
    SourceKind,
)
from rectification.services import open_task, report_progress  # --- end of rectification
from reports.models import (
    Bulletin,
    DocumentIssuer,
    JobRun,
    Notice,
    NoticeKind,
    OfficialDocument,
    OfficialDocumentEvent,
)
from reports.tasks import generate_bulletin_task, send_quarterly_notices_task
from reviews.models import (
    Appeal,
    AppealEvent,
    AppealFile,
    AppealReviewer,
    AppealScore,
    AppealStatus,
    Assessment,
    AssessmentEvent,
    Certificate,
    Cycle,
    Evidence,
    NoticeBatch,
    Objection,
    ReviewerAssignment,
    ReviewScore,
    SelfScore,
    StarEvent,
    SubmissionRound,
)
from reviews.selectors import current_certificate
from reviews.services.assessment import add_evidence, save_self_assessment, submit_self_assessment
from reviews.services.cycles import open_cycle
from reviews.services.decision import (
    certify_batch,
    decide_assessment,
    publicize_cycle,
    record_objection,
    resolve_objection,
)
from reviews.services.preliminary import forward_assessment
from reviews.services.scoring import assign_reviewers, submit_scores
from scoring.arithmetic import ScoreEntry
from scoring.models import Item, Standard
from scoring.services.defaults import ensure_default_standard
from supervision.models import (  # --- supervision
    LiaisonAssignment,
    StageApplication,
    StageApplicationEvent,
    StageApplicationFile,
    SupervisionVisit,
    VisitEvent,
    VisitPhoto,
)
from supervision.services.liaisons import assign_liaisons
from supervision.services.stages import submit_stage_application
from supervision.services.visits import record_visit  # --- end of supervision

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2025, 6, 20, 10, 0, tzinfo=SHANGHAI)
PAST = datetime.datetime(2024, 5, 6, 9, 0, tzinfo=SHANGHAI)

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)

# --- Expected answers ---------------------------------------------------------------------------

OK = 200
REDIRECT = 302  # a redirect somewhere sensible, never to the sign-in page
BAD = 400  # a form with errors, answered as a client error
FORBIDDEN = 403  # in scope, but the role is too low
HIDDEN = 404  # outside the user's scope: the same answer as for an id that does not exist
NOT_ALLOWED = 405
CONFLICT = 409  # allowed, but the object's state refuses the action
LOGIN = "login"  # a redirect to the sign-in page, which comes back afterwards

DENIED = frozenset({FORBIDDEN, HIDDEN, LOGIN})
# What an allowed role may get for a POST: done, re-shown with errors, or refused by the state.
ALLOWED_POST = frozenset({OK, REDIRECT, BAD, CONFLICT})


def status_of(response) -> int | str:
    """The response as the matrix writes it: a status code, or LOGIN."""
    if response.status_code == 302 and response.url.startswith(reverse("login") + "?next="):
        return LOGIN
    return response.status_code


# --- Which URLs the matrix must cover ----------------------------------------------------------

# Django's own sign-in, password and language views are Django's to test; so is the admin.
DJANGO_VIEW_MODULES = ("django.contrib.auth.", "django.views.i18n")
SKIPPED_NAMESPACES = frozenset({"admin"})


def _view_module(pattern: URLPattern) -> str:
    callback = pattern.callback
    return getattr(callback, "view_class", callback).__module__


def project_url_names(patterns=None, namespace: str = "") -> list[str]:
    """Every named URL of the project, with its namespaces ("reviews:score"), in URLconf order.

    An unnamed pattern cannot be put in the matrix, so it comes back as "<unnamed …>" and
    fails the completeness test like any other unmapped URL.
    """
    if patterns is None:
        patterns = get_resolver().url_patterns
    names = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace
            if inner in SKIPPED_NAMESPACES:
                continue
            full = f"{namespace}:{inner}" if namespace and inner else inner or namespace
            names.extend(project_url_names(pattern.url_patterns, full))
        elif _view_module(pattern).startswith(DJANGO_VIEW_MODULES):
            continue
        elif pattern.name:
            names.append(f"{namespace}:{pattern.name}" if namespace else pattern.name)
        else:
            names.append(f"<unnamed {namespace + ':' if namespace else ''}{pattern.pattern}>")
    return names


# --- "Nothing changed" --------------------------------------------------------------------------


def fingerprint() -> dict:
    """Every row a refused request could have written, in a comparable form."""
    return {
        "cycles": list(Cycle.objects.order_by("pk").values_list("pk", "status", "closed_at")),
        "batches": list(NoticeBatch.objects.order_by("pk").values_list("pk", "certified_at")),
        "assessments": list(
            Assessment.objects.order_by("pk").values_list(
                "pk", "status", "updated_at", "declared_stars", "decided_stars", "recommendation"
            )
        ),
        "events": AssessmentEvent.objects.count(),
        "self_scores": list(SelfScore.objects.order_by("pk").values_list("pk", "score", "explanation")),
        "evidence": list(Evidence.objects.order_by("pk").values_list("pk", flat=True)),
        "rounds": list(SubmissionRound.objects.order_by("pk").values_list("pk", "outcome", "comment")),
        "assignments": list(
            ReviewerAssignment.objects.order_by("pk").values_list("pk", "reviewer_id", "version")
        ),
        "review_scores": ReviewScore.objects.count(),
        "objections": list(Objection.objects.order_by("pk").values_list("pk", "resolution", "resolved_at")),
        "certificates": list(Certificate.objects.order_by("pk").values_list("pk", "status", "stars")),
        "star_events": StarEvent.objects.count(),
        "notices": list(Notice.objects.order_by("pk").values_list("pk", "read_at")),
        "bulletins": list(
            Bulletin.objects.order_by("pk").values_list("pk", "status", "generated_at", "published_at")
        ),
        "job_runs": JobRun.objects.count(),
        "appeals": list(Appeal.objects.order_by("pk").values_list("pk", "status", "review_reason")),
        "appeal_events": AppealEvent.objects.count(),
        "appeal_files": AppealFile.objects.count(),
        "appeal_reviewers": list(
            AppealReviewer.objects.order_by("pk").values_list("pk", "reviewer_id", "submitted_at")
        ),
        "appeal_scores": list(AppealScore.objects.order_by("pk").values_list("pk", "score", "comment")),
        # --- checks
        "check_rounds": list(CheckRound.objects.order_by("pk").values_list("pk", "status", "published_at")),
        "check_sheets": list(
            CheckSheet.objects.order_by("pk").values_list("pk", "status", "total", "comment", "return_reason")
        ),
        "check_scores": list(CheckScore.objects.order_by("pk").values_list("pk", "score", "comment")),
        "check_self_reports": list(CheckSelfReport.objects.order_by("pk").values_list("pk", "text")),
        "check_entries": CheckEntry.objects.count(),
        "check_files": CheckFile.objects.count(),
        "check_flags": list(
            LeadershipFlag.objects.order_by("pk").values_list("pk", "action_taken", "action_on")
        ),
        "check_proposals": list(DowngradeProposal.objects.order_by("pk").values_list("pk", "status")),
        # --- end of checks
        # --- official documents
        "documents": list(
            OfficialDocument.objects.order_by("pk").values_list(
                "pk", "status", "number", "title", "lead", "docx"
            )
        ),
        "document_events": OfficialDocumentEvent.objects.count(),
        "document_issuers": list(
            DocumentIssuer.objects.order_by("pk").values_list("pk", "organ_name", "code")
        ),
        # --- end of official documents
        # --- rectification
        "rect_tasks": list(
            RectificationTask.objects.order_by("pk").values_list("pk", "status", "owner_id", "deadline")
        ),
        "rect_events": RectificationEvent.objects.count(),
        "rect_reports": RectificationReport.objects.count(),
        "rect_files": RectificationFile.objects.count(),
        # --- end of rectification
        # --- supervision
        "liaisons": list(
            LiaisonAssignment.objects.order_by("pk").values_list("pk", "member_id", "branch_id")
        ),
        "visits": SupervisionVisit.objects.count(),
        "visit_photos": VisitPhoto.objects.count(),
        "visit_events": VisitEvent.objects.count(),
        "stage_applications": list(StageApplication.objects.order_by("pk").values_list("pk", "status")),
        "stage_events": StageApplicationEvent.objects.count(),
        "stage_files": StageApplicationFile.objects.count(),
        # --- end of supervision
        # The directory's writes: the tree, accounts, roles and the audit trail.
        "organizations": list(
            Organization.objects.order_by("pk").values_list(
                "pk", "name", "code", "path", "is_active", "sort_order"
            )
        ),
        "users": list(
            User.objects.order_by("pk").values_list(
                "pk", "real_name", "phone", "email", "is_active", "password", "must_change_password"
            )
        ),
        "role_assignments": list(
            RoleAssignment.objects.order_by("pk").values_list("pk", "user_id", "role", "organization_id")
        ),
        "audit_entries": AuditEntry.objects.count(),
    }


# --- The world ----------------------------------------------------------------------------------

# The rows of the matrix (a signed-out visitor is the last), and the helpers who make the world move.
ROLES = {
    # row name: (role, organization code)
    "secretary": (Role.BRANCH_SECRETARY, "B1"),
    "parent": (Role.PARENT_REVIEWER, "P1"),
    "reviewer": (Role.ASSESSMENT_REVIEWER, "C1"),
    "approver": (Role.COMMITTEE_APPROVER, "C1"),
    "staff": (Role.STAFF, "C1"),
    "p1_staff": (Role.STAFF, "P1"),
    "p2_parent": (Role.PARENT_REVIEWER, "P2"),
    "c2_approver": (Role.COMMITTEE_APPROVER, "C2"),
    "outsider": (None, None),
}
HELPERS = {
    "b2_secretary": (Role.BRANCH_SECRETARY, "B2"),
    "second_reviewer": (Role.ASSESSMENT_REVIEWER, "C1"),
    "d1_secretary": (Role.BRANCH_SECRETARY, "D1"),
    "q1_parent": (Role.PARENT_REVIEWER, "Q1"),
    "c2_reviewer": (Role.ASSESSMENT_REVIEWER, "C2"),
    "c2_staff": (Role.STAFF, "C2"),
}
# Who in C2 stands where each C1 row stands: D1's objects are to them what B1's are to the row.
MIRROR = {
    "secretary": "d1_secretary",
    "parent": "q1_parent",
    "reviewer": "c2_reviewer",
    "approver": "c2_approver",
    "staff": "c2_staff",
}


@dataclass
class World:
    orgs: dict[str, Organization]
    users: dict[str, User]
    standard: Standard
    item: Item  # an item that needs evidence; uploads and scores in the payloads go here
    past: dict[str, Cycle] = field(default_factory=dict)  # by committee code
    current: dict[str, Cycle] = field(default_factory=dict)
    past_assessments: dict[str, Assessment] = field(default_factory=dict)  # by branch code
    current_assessments: dict[str, Assessment] = field(default_factory=dict)
    past_evidence: dict[str, Evidence] = field(default_factory=dict)
    current_evidence: dict[str, Evidence] = field(default_factory=dict)
    objections: dict[str, Objection] = field(default_factory=dict)
    certificates: dict[str, Certificate] = field(default_factory=dict)  # in force, by branch code
    notices: dict[str, Notice] = field(default_factory=dict)  # the branch secretary's, by branch code
    bulletins: dict[str, Bulletin] = field(default_factory=dict)  # by committee code
    appeals: dict[str, Appeal] = field(default_factory=dict)  # by branch code, of the past result
    appeal_files: dict[str, AppealFile] = field(default_factory=dict)
    # --- checks: the 2025 Q2 quarterly check of each committee (open), and by branch code its
    # sheet, a monthly check with a violation and a file, a 班子调整 flag and the downgrade proposal
    check_rounds: dict[str, CheckRound] = field(default_factory=dict)  # by committee code
    check_sheets: dict[str, CheckSheet] = field(default_factory=dict)
    check_entries: dict[str, CheckEntry] = field(default_factory=dict)
    check_files: dict[str, CheckFile] = field(default_factory=dict)
    flags: dict[str, LeadershipFlag] = field(default_factory=dict)
    proposals: dict[str, DowngradeProposal] = field(default_factory=dict)
    check_item: Item | None = None
    # --- end of checks
    # --- official documents: by "<committee>_draft" (the past cycle's commendation, a draft) and
    # "<committee>_notice" (its results notice to P1 / Q1, issued)
    documents: dict = field(default_factory=dict)
    # --- end of official documents
    # --- rectification: by branch code, a task opened by the parent reviewer and reported by the
    # secretary with a file (to accept or send back), one still open (to report) and one proposed
    rect_tasks: dict[str, RectificationTask] = field(default_factory=dict)
    rect_files: dict[str, RectificationFile] = field(default_factory=dict)
    rect_open: dict[str, RectificationTask] = field(default_factory=dict)
    rect_proposed: dict[str, RectificationTask] = field(default_factory=dict)
    # --- end of rectification
    # --- supervision: by branch code, its liaison assignment (B1: reviewer, B2: second_reviewer,
    # D1: c2_reviewer), the visit that member recorded (with findings and a photo) and the branch
    # secretary's stage application, submitted (basic → distinctive) with a file
    liaisons: dict[str, LiaisonAssignment] = field(default_factory=dict)
    visits: dict[str, SupervisionVisit] = field(default_factory=dict)
    visit_photos: dict[str, VisitPhoto] = field(default_factory=dict)
    stage_applications: dict[str, StageApplication] = field(default_factory=dict)
    stage_files: dict[str, StageApplicationFile] = field(default_factory=dict)
    # --- end of supervision


def pdf(name: str = "支部委员会会议记录.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def _tree() -> dict[str, Organization]:
    c1 = create_organization(name="第一工委", code="C1", kind=OrgKind.COMMITTEE)
    p1 = create_organization(name="甲党委", code="P1", kind=OrgKind.PARTY_COMMITTEE, parent=c1)
    p2 = create_organization(name="乙党委", code="P2", kind=OrgKind.PARTY_COMMITTEE, parent=c1)
    c2 = create_organization(name="第二工委", code="C2", kind=OrgKind.COMMITTEE)
    q1 = create_organization(name="丙党委", code="Q1", kind=OrgKind.PARTY_COMMITTEE, parent=c2)
    orgs = [
        c1,
        p1,
        p2,
        c2,
        q1,
        create_organization(name="甲一支部", code="B1", kind=OrgKind.BRANCH, parent=p1),
        create_organization(name="甲二支部", code="B2", kind=OrgKind.BRANCH, parent=p1),
        create_organization(name="乙一支部", code="B3", kind=OrgKind.BRANCH, parent=p2),
        create_organization(name="丙一支部", code="D1", kind=OrgKind.BRANCH, parent=q1),
    ]
    return {org.code: org for org in orgs}


def _people(orgs) -> dict[str, User]:
    users = {}
    for name, (role, code) in {**ROLES, **HELPERS}.items():
        # No password: the tests sign in with force_login, and hashing would only cost time.
        user = User.objects.create_user(name, password=None, real_name=name)
        if role:
            assign_role(user=user, role=role, organization=orgs[code])
        users[name] = user
    return users


APPROVER_OF = {"C1": "approver", "C2": "c2_approver"}


def _open(world: World, committee: str, name: str, year: int) -> Cycle:
    return open_cycle(
        committee=world.orgs[committee],
        actor=world.users[APPROVER_OF[committee]],
        name=name,
        standard=world.standard,
        self_assessment_deadline=datetime.date(year, 5, 31),
        preliminary_deadline=datetime.date(year, 6, 15),
        scoring_deadline=datetime.date(year, 6, 30),
        reviewers_per_branch=1,
    )


class Crew(NamedTuple):
    """Who takes a branch through the past cycle."""

    secretary: str
    parent: str
    reviewer: str
    approver: str
    staff: str


CREW = {
    "B1": Crew("secretary", "parent", "reviewer", "approver", "staff"),
    "B2": Crew("b2_secretary", "parent", "second_reviewer", "approver", "staff"),
    "D1": Crew("d1_secretary", "q1_parent", "c2_reviewer", "c2_approver", "c2_staff"),
}
COMMITTEE_OF = {"B1": "C1", "B2": "C1", "D1": "C2"}


def _full_review(world: World, cycle: Cycle, branch: str) -> Assessment:
    """Self-assessment with evidence → forwarded → scored by one reviewer → decided."""
    crew = CREW[branch]
    secretary, reviewer, approver = (world.users[n] for n in (crew.secretary, crew.reviewer, crew.approver))
    items = list(Item.objects.filter(dimension__standard=world.standard))
    assessment = Assessment.objects.get(cycle=cycle, branch=world.orgs[branch])
    save_self_assessment(
        assessment=assessment,
        actor=secretary,
        scores={item.pk: (str(item.max_score), f"自查{item.code}") for item in items},
    )
    for item in items:
        if item.evidence_required:
            evidence = add_evidence(assessment=assessment, item=item, actor=secretary, uploaded_file=pdf())
            world.past_evidence.setdefault(branch, evidence)
    submit_self_assessment(assessment=assessment, actor=secretary, declared_stars=5)
    forward_assessment(
        assessment=assessment, actor=world.users[crew.parent], recommendation="材料齐全，同意推荐。"
    )
    assign_reviewers(assessment=assessment, actor=approver, reviewers=[reviewer])
    submit_scores(
        assignment=ReviewerAssignment.objects.get(assessment=assessment, reviewer=reviewer),
        actor=reviewer,
        entries={item.pk: ScoreEntry(item.max_score, "") for item in items},
    )
    assessment.refresh_from_db()
    return decide_assessment(assessment=assessment, actor=approver, stars=assessment.proposed_stars)


def _past_cycles(world: World) -> None:
    """Open → reviewed → public notice with an objection, resolved → certified, in 2024."""
    with time_machine.travel(PAST, tick=False):
        for committee in APPROVER_OF:
            world.past[committee] = _open(world, committee, "2024年度星级认定", 2024)
        for branch in CREW:
            world.past_assessments[branch] = _full_review(world, world.past[COMMITTEE_OF[branch]], branch)
        for committee, approver in APPROVER_OF.items():
            publicize_cycle(cycle=world.past[committee], actor=world.users[approver])
    with time_machine.travel(PAST + datetime.timedelta(days=1), tick=False):
        for branch, crew in CREW.items():
            world.objections[branch] = record_objection(
                assessment=world.past_assessments[branch],
                actor=world.users[crew.staff],
                received_from="群众来信",
                content="对该支部的评定结果有异议。",
            )
    with time_machine.travel(PAST + datetime.timedelta(days=2), tick=False):
        for branch, crew in CREW.items():
            resolve_objection(
                objection=world.objections[branch],
                actor=world.users[crew.approver],
                resolution="经核实，维持原评定。",
            )
    with time_machine.travel(PAST + datetime.timedelta(days=6), tick=False):
        for committee, approver in APPROVER_OF.items():
            certify_batch(batch=world.past[committee].notice_batches.get(), actor=world.users[approver])
    for cycle in world.past.values():
        cycle.refresh_from_db()
    for branch, assessment in world.past_assessments.items():
        assessment.refresh_from_db()
        world.objections[branch].refresh_from_db()


def _current_cycles(world: World) -> None:
    for committee in APPROVER_OF:
        world.current[committee] = _open(world, committee, "2025年度星级认定", 2025)
    for branch, crew in CREW.items():
        secretary = world.users[crew.secretary]
        assessment = Assessment.objects.get(
            cycle=world.current[COMMITTEE_OF[branch]], branch=world.orgs[branch]
        )
        save_self_assessment(assessment=assessment, actor=secretary, scores={world.item.pk: ("1.0", "草稿")})
        world.current_evidence[branch] = add_evidence(
            assessment=assessment, item=world.item, actor=secretary, uploaded_file=pdf()
        )
        assessment.refresh_from_db()
        world.current_assessments[branch] = assessment


# The quarter the notices are for (the one NOW is in), and the one the bulletin covers (just ended).
NOTICE_QUARTER = (2025, 2)
BULLETIN_QUARTER = (2025, 1)


def _quarterly_jobs(world: World) -> None:
    """Each committee's notices and bulletin, through the tasks the schedule runs (one JobRun each)."""
    for committee in APPROVER_OF:
        pk = world.orgs[committee].pk
        send_quarterly_notices_task.apply(args=(pk, *NOTICE_QUARTER), throw=True)
        generate_bulletin_task.apply(args=(pk, *BULLETIN_QUARTER), throw=True)
        world.bulletins[committee] = Bulletin.objects.get(
            committee_id=pk, year=BULLETIN_QUARTER[0], quarter=BULLETIN_QUARTER[1]
        )
    for branch, crew in CREW.items():
        world.certificates[branch] = current_certificate(world.orgs[branch])
        world.notices[branch] = Notice.objects.get(
            recipient=world.users[crew.secretary],
            year=NOTICE_QUARTER[0],
            quarter=NOTICE_QUARTER[1],
            kind=NoticeKind.QUARTERLY,
        )


def _appeals(world: World) -> None:
    """An appeal of each past result, written as rows (the results are long certified).

    B1's and D1's are just submitted by their secretaries; B2's was accepted and is being
    re-scored by the "reviewer" row, who did not score B2 (second_reviewer did).
    """
    for branch, crew in CREW.items():
        appeal = Appeal.objects.create(
            assessment=world.past_assessments[branch],
            reason="对评定结果有异议，申请复核。",
            original_stars=5,
            submitted_by=world.users[crew.secretary],
            submitted_at=PAST + datetime.timedelta(days=1),
            status=AppealStatus.RESCORING if branch == "B2" else AppealStatus.SUBMITTED,
        )
        appeal.items.set([world.item])
        upload = AppealFile(
            appeal=appeal,
            original_name="复核材料.pdf",
            content_type="application/pdf",
            size=len(PDF),
            uploaded_by=world.users[crew.secretary],
        )
        upload.file.save("复核材料.pdf", pdf(), save=True)
        world.appeals[branch], world.appeal_files[branch] = appeal, upload
    AppealReviewer.objects.create(
        appeal=world.appeals["B2"], reviewer=world.users["reviewer"], assigned_by=world.users["approver"]
    )


# --- checks
PARENT_OF = {"B1": "parent", "B2": "parent", "D1": "q1_parent"}


def _checks(world: World) -> None:
    """Each committee's quarterly check of 2025 Q2, opened by its approver; monthly checks with a
    violation (each proposes a downgrade of the five-star certificate) and a flag, as rows."""
    for committee in APPROVER_OF:
        world.check_rounds[committee], _created = open_check_round(
            committee=world.orgs[committee], year=2025, quarter=2, actor=world.users[APPROVER_OF[committee]]
        )
    world.check_item = (
        Item.objects.filter(dimension__standard=world.check_rounds["C1"].standard)
        .order_by("dimension__order", "order")
        .first()
    )
    for branch, parent in PARENT_OF.items():
        org = world.orgs[branch]
        world.check_sheets[branch] = CheckSheet.objects.get(branch=org)
        entry = record_check_entry(
            branch=org,
            actor=world.users[parent],
            checked_on=datetime.date(2025, 6, 10),
            items=[world.check_item],
            findings="三会一课记录不全。",
            violation=True,
            violation_note="违反组织纪律",
            files=[pdf("检查记录.pdf")],
        )
        world.check_entries[branch] = entry
        world.check_files[branch] = entry.files.get()
        world.proposals[branch] = DowngradeProposal.objects.get(entry=entry)
        world.flags[branch] = LeadershipFlag.objects.create(
            committee=world.orgs["C1" if branch != "D1" else "C2"], branch=org, year=2025
        )


# --- end of checks


# --- rectification
def _rectification(world: World) -> None:
    for branch, crew in CREW.items():
        org = world.orgs[branch]
        parent, secretary = world.users[crew.parent], world.users[crew.secretary]

        def task(title, *, proposed=False, org=org, parent=parent, secretary=secretary, branch=branch):
            return open_task(
                committee=world.orgs[COMMITTEE_OF[branch]],
                branch=org,
                title=title,
                requirement="补齐“三会一课”记录。",
                owner=None if proposed else secretary,
                deadline=None if proposed else datetime.date(2025, 7, 20),
                source_kind=SourceKind.MANUAL,
                actor=parent,
                proposed=proposed,
            )

        world.rect_tasks[branch] = task("会议记录整改")
        report_progress(
            task=world.rect_tasks[branch], actor=secretary, text="已补齐。", files=[pdf("整改材料.pdf")]
        )
        world.rect_files[branch] = world.rect_tasks[branch].files.get()
        world.rect_open[branch] = task("党费收缴整改")
        world.rect_proposed[branch] = task("失分项整改", proposed=True)


# --- end of rectification


# --- supervision
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da636460f85f0f0002870180eb47ba920000000049454e44ae426082"
)
LIAISON_OF = {"B1": "reviewer", "B2": "second_reviewer", "D1": "c2_reviewer"}


def _supervision(world: World) -> None:
    for branch, member in LIAISON_OF.items():
        committee = COMMITTEE_OF[branch]
        crew = CREW[branch]
        (world.liaisons[branch],) = assign_liaisons(
            committee=world.orgs[committee],
            member=world.users[member],
            branches=[world.orgs[branch]],
            actor=world.users[crew.staff],
        )
        world.visits[branch] = record_visit(
            branch=world.orgs[branch],
            actor=world.users[member],
            visited_on=datetime.date(2025, 6, 10),
            members=[world.users[member]],
            checked="查阅“三会一课”记录。",
            findings="会议记录不全。",
            photos=[SimpleUploadedFile("现场.png", PNG, content_type="image/png")],
        )
        world.visit_photos[branch] = world.visits[branch].photos.get()
        world.stage_applications[branch] = submit_stage_application(
            branch=world.orgs[branch],
            actor=world.users[crew.secretary],
            name="红色课堂",
            description="每月开展一次红色课堂。",
            files=[pdf("特色材料.pdf")],
        )
        world.stage_files[branch] = world.stage_applications[branch].files.get()


# --- end of supervision


# --- official documents


def _documents(world: World) -> None:
    """Each committee's commendation of its past cycle (a draft) and its results notice to its first
    party committee (issued), through the services."""
    from reports.services.documents import create_commendation, create_results_notices, issue_document

    for committee, unit in (("C1", "P1"), ("C2", "Q1")):
        approver = world.users[APPROVER_OF[committee]]
        world.documents[f"{committee}_draft"], _ = create_commendation(
            cycle=world.past[committee], actor=approver
        )
        notices = {
            document.unit.code: document
            for document, _ in create_results_notices(cycle=world.past[committee], actor=approver)
        }
        world.documents[f"{committee}_notice"] = issue_document(document=notices[unit], actor=approver)


# --- end of official documents


def build_world() -> World:
    """The whole world, through the services; call it inside a transaction the caller rolls back."""
    # A transactional test elsewhere may have flushed the standard its data migration made.
    ensure_default_standard()
    standard = Standard.objects.get(status="published", purpose="certification")
    orgs = _tree()
    world = World(
        orgs=orgs,
        users=_people(orgs),
        standard=standard,
        item=Item.objects.filter(dimension__standard=standard, evidence_required=True)
        .order_by("dimension__order", "order")
        .first(),
    )
    _past_cycles(world)
    _current_cycles(world)
    _quarterly_jobs(world)
    _appeals(world)
    _checks(world)  # --- checks
    _supervision(world)  # --- supervision
    _rectification(world)  # --- rectification
    _documents(world)  # --- official documents
    return world
