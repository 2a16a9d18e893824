"""Quarterly notices (季度通知): what each person has to do this quarter, and expiring certificates.

At the start of a quarter every branch secretary, preliminary (parent) reviewer and
assessment-team reviewer of a committee gets one notice saying where the open cycle stands
for them, with the deadline and a link to the page where the work is done; the secretaries
of branches whose certificate runs out during the quarter get a second notice of its own kind.

Idempotent by the database, not by a check: ``Notice`` is unique per (recipient, committee,
year, quarter, kind) and the rows are written with ``bulk_create(ignore_conflicts=True)``, so
two runs, even at the same moment, leave one notice per person and kind. E-mails go only
for notices whose ``emailed_at`` is empty, claimed under a row lock (``skip_locked``) and
stamped in the same transaction, so a second run sends nothing again.

The texts are written once, in the site's language (``settings.LANGUAGE_CODE``), because
the notice is stored and e-mailed as written; the task that calls this has no request.
"""

import datetime
import logging
import smtplib
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from branches.models import Organization, OrgKind, RoleAssignment, User
from branches.roles import Role
from reviews.models import (
    Assessment,
    AssessmentStatus,
    Certificate,
    CertificateStatus,
    Cycle,
    CycleStatus,
    ReviewerAssignment,
)
from reviews.workflow import EDITABLE_BY_BRANCH

from ..models import Notice, NoticeKind
from ..quarters import check_quarter, quarter_days

logger = logging.getLogger(__name__)

# Rows per INSERT, and notices e-mailed per transaction (each batch holds its row locks only
# while its messages go out).
BULK_BATCH = 1000
EMAIL_BATCH = 200
TITLE_MAX = Notice._meta.get_field("title").max_length


# ---------------------------------------------------------------------------- composing


@dataclass
class _Draft:
    """One person's notice of one kind while it is being put together."""

    recipient: User
    paragraphs: list[str] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)

    def link(self, label: str, url: str) -> None:
        if all(existing["url"] != url for existing in self.links):
            self.links.append({"label": label, "url": url})

    def notice(self, *, committee_id: int, year: int, quarter: int, kind: str, title: str) -> Notice:
        """The unsaved ``Notice`` of this draft."""
        return Notice(
            recipient_id=self.recipient.pk,
            committee_id=committee_id,
            year=year,
            quarter=quarter,
            kind=kind,
            title=title[:TITLE_MAX],
            body="\n\n".join(self.paragraphs),
            links=self.links,
        )


def _day(value: datetime.date) -> str:
    return date_format(value, "DATE_FORMAT")


def _deadline(value: datetime.date, today: datetime.date, *, work_left: bool) -> str:
    # "Passed" only where something is still to be done; for the others it is just a date.
    if work_left and value < today:
        return _("%(date)s (passed)") % {"date": _day(value)}
    return _day(value)


# What is left for the branch in each state of its assessment (the status itself is said before).
def _pending_for_branch(status: str) -> str:
    return {
        AssessmentStatus.NOT_STARTED: _("To do: score every item, attach the evidence and submit."),
        AssessmentStatus.DRAFT: _("To do: complete the self-assessment and submit it."),
        AssessmentStatus.RETURNED: _(
            "To do: revise the self-assessment as the preliminary review asks and submit it again."
        ),
        AssessmentStatus.SUBMITTED: _("Nothing to do now: the preliminary review comes next."),
        AssessmentStatus.FORWARDED: _("Nothing to do now: the assessment team scores next."),
        AssessmentStatus.SCORING: _("Nothing to do now: the assessment team is scoring."),
        AssessmentStatus.SCORED: _("Nothing to do now: the committee decides next."),
        AssessmentStatus.DECIDED: _("Nothing to do now: the public notice comes next."),
        AssessmentStatus.PUBLICIZED: _("Nothing to do now: the result is under public notice."),
        AssessmentStatus.CERTIFIED: _("Nothing to do now: the star level is certified."),
        AssessmentStatus.NOT_TAKING_PART: _("Nothing to do: the branch did not take part in this cycle."),
    }[status]


def _greeting(user: User) -> str:
    return _("Dear %(name)s,") % {"name": user.display_name}


def _secretary_paragraph(row: dict, cycle: Cycle, today: datetime.date) -> str:
    return "\n".join(
        [
            _("%(branch)s — %(cycle)s") % {"branch": row["branch__name"], "cycle": cycle.name},
            _("Status: %(status)s") % {"status": AssessmentStatus(row["status"]).label},
            _pending_for_branch(row["status"]),
            _("Self-assessment deadline: %(date)s")
            % {
                "date": _deadline(
                    cycle.self_assessment_deadline, today, work_left=row["status"] in EDITABLE_BY_BRANCH
                )
            },
        ]
    )


def _parent_paragraph(org_name: str, waiting: int, cycle: Cycle, today: datetime.date) -> str:
    if waiting:
        count = ngettext(
            "%(count)d submission waits for your preliminary review.",
            "%(count)d submissions wait for your preliminary review.",
            waiting,
        ) % {"count": waiting}
    else:
        count = _("No submission is waiting for your preliminary review at present.")
    return "\n".join(
        [
            _("%(organization)s — %(cycle)s") % {"organization": org_name, "cycle": cycle.name},
            count,
            _("Preliminary review deadline: %(date)s")
            % {"date": _deadline(cycle.preliminary_deadline, today, work_left=waiting > 0)},
        ]
    )


def _reviewer_paragraph(unsubmitted: int, cycle: Cycle, today: datetime.date) -> str:
    if unsubmitted:
        count = ngettext(
            "%(count)d assigned assessment waits for your scores.",
            "%(count)d assigned assessments wait for your scores.",
            unsubmitted,
        ) % {"count": unsubmitted}
    else:
        count = _("No assigned assessment is waiting for your scores at present.")
    return "\n".join(
        [
            _("Assessment team — %(cycle)s") % {"cycle": cycle.name},
            count,
            _("Scoring deadline: %(date)s")
            % {"date": _deadline(cycle.scoring_deadline, today, work_left=unsubmitted > 0)},
        ]
    )


def _expiry_paragraph(certificate: Certificate) -> str:
    return "\n".join(
        [
            _("%(branch)s: the %(stars)d-star certificate is valid until %(date)s.")
            % {
                "branch": certificate.branch.name,
                "stars": certificate.stars,
                "date": _day(certificate.valid_until),
            },
            _(
                "After that day the branch is unrated until a new certification; "
                "take part in the next cycle in time."
            ),
        ]
    )


def _role_holders(committee: Organization, role: str) -> QuerySet[RoleAssignment]:
    return RoleAssignment.objects.filter(
        role=role, organization__committee_id=committee.pk, user__is_active=True
    ).select_related("user", "organization")


def _quarterly_drafts(committee: Organization, secretaries_by_branch, today) -> dict[int, _Draft]:
    """Secretaries, parent reviewers and team reviewers, each with the sections of their roles.

    A fixed number of queries: the open cycles, the assessments of those cycles, two lists of
    role holders and the reviewers' unsubmitted counts.
    """
    cycles = {c.pk: c for c in Cycle.objects.filter(committee_id=committee.pk, status=CycleStatus.OPEN)}
    if not cycles:
        return {}
    drafts: dict[int, _Draft] = {}

    def draft_for(user: User) -> _Draft:
        if user.pk not in drafts:
            drafts[user.pk] = _Draft(recipient=user, paragraphs=[_greeting(user)])
        return drafts[user.pk]

    rows = list(
        Assessment.objects.filter(cycle_id__in=list(cycles))
        .order_by("cycle__opened_at", "cycle_id", "branch__path")
        .values("pk", "cycle_id", "branch_id", "branch__name", "branch__path", "status")
    )

    # Branch secretaries: each of their branches' assessments.
    for row in rows:
        cycle = cycles[row["cycle_id"]]
        for user in secretaries_by_branch.get(row["branch_id"], ()):
            draft = draft_for(user)
            draft.paragraphs.append(_secretary_paragraph(row, cycle, today))
            draft.link(
                _("Self-assessment of %(branch)s") % {"branch": row["branch__name"]},
                reverse("reviews:self_assessment", args=[row["pk"]]),
            )

    # Parent reviewers: submissions waiting below the organization they review for. Counted
    # once over every ancestor in the materialized path, so the cost does not grow per reviewer.
    waiting: dict[tuple[int, int], int] = defaultdict(int)
    for row in rows:
        if row["status"] == AssessmentStatus.SUBMITTED:
            for ancestor in row["branch__path"].strip("/").split("/"):
                waiting[(row["cycle_id"], int(ancestor))] += 1
    for ra in _role_holders(committee, Role.PARENT_REVIEWER).order_by("user_id", "organization__path"):
        draft = draft_for(ra.user)
        for cycle in cycles.values():
            draft.paragraphs.append(
                _parent_paragraph(ra.organization.name, waiting[(cycle.pk, ra.organization_id)], cycle, today)
            )
        draft.link(_("Preliminary review queue"), reverse("reviews:preliminary_queue"))

    # Assessment-team reviewers: their assignments not yet submitted.
    unsubmitted = {
        (row["reviewer_id"], row["assessment__cycle_id"]): row["n"]
        for row in ReviewerAssignment.objects.filter(
            assessment__cycle_id__in=list(cycles), submitted_at__isnull=True
        )
        .values("reviewer_id", "assessment__cycle_id")
        .annotate(n=Count("pk"))
    }
    team = (
        _role_holders(committee, Role.ASSESSMENT_REVIEWER)
        .filter(organization_id=committee.pk)
        .order_by("user_id")
    )
    for ra in team:
        draft = draft_for(ra.user)
        for cycle in cycles.values():
            draft.paragraphs.append(
                _reviewer_paragraph(unsubmitted.get((ra.user_id, cycle.pk), 0), cycle, today)
            )
        draft.link(_("My scoring assignments"), reverse("reviews:my_assignments"))
    return drafts


def _expiry_drafts(committee: Organization, secretaries_by_branch, first, last) -> dict[int, _Draft]:
    """Secretaries of branches whose certificate in force runs out within the quarter (one query)."""
    drafts: dict[int, _Draft] = {}
    expiring = (
        Certificate.objects.filter(
            status=CertificateStatus.VALID,
            valid_until__gte=first,
            valid_until__lte=last,
            branch__committee_id=committee.pk,
        )
        .select_related("branch")
        .order_by("valid_until", "branch__path")
    )
    for certificate in expiring:
        for user in secretaries_by_branch.get(certificate.branch_id, ()):
            draft = drafts.setdefault(user.pk, _Draft(recipient=user, paragraphs=[_greeting(user)]))
            draft.paragraphs.append(_expiry_paragraph(certificate))
            draft.link(
                _("Star history of %(branch)s") % {"branch": certificate.branch.name},
                reverse("reviews:branch_detail", args=[certificate.branch_id]),
            )
            draft.link(
                _("Certificate of %(branch)s (PDF)") % {"branch": certificate.branch.name},
                reverse("reports:certificate_pdf", args=[certificate.pk]),
            )
    return drafts


def _quarterly_title(committee: Organization, year: int, quarter: int) -> str:
    return _("%(committee)s: work notice for Q%(quarter)s %(year)s") % {
        "committee": committee.name,
        "year": year,
        "quarter": quarter,
    }


def _expiry_title(committee: Organization, year: int, quarter: int) -> str:
    return _("%(committee)s: star certificates expiring in Q%(quarter)s %(year)s") % {
        "committee": committee.name,
        "year": year,
        "quarter": quarter,
    }


# ---------------------------------------------------------------------------- the service


def send_quarterly_notices(*, committee_id: int, year: int, quarter: int) -> int:
    """Write this quarter's notices of a committee and e-mail them; returns how many were new.

    Safe to run again: existing notices are left alone and nobody is e-mailed twice. The
    count is of the notices missing when this run started (two runs at the very same moment
    may both count a notice only one of them wrote; the database still holds one).
    """
    check_quarter(year=year, quarter=quarter)
    committee = Organization.objects.get(pk=committee_id, kind=OrgKind.COMMITTEE)
    first, last = quarter_days(year, quarter)
    with translation.override(settings.LANGUAGE_CODE):
        today = timezone.localdate()
        existing = set(
            Notice.objects.filter(committee_id=committee.pk, year=year, quarter=quarter).values_list(
                "recipient_id", "kind"
            )
        )
        secretaries_by_branch: dict[int, list[User]] = defaultdict(list)
        for ra in _role_holders(committee, Role.BRANCH_SECRETARY).order_by("organization__path", "user_id"):
            secretaries_by_branch[ra.organization_id].append(ra.user)

        notices: list[Notice] = []
        for kind, drafts, title in (
            (
                NoticeKind.QUARTERLY,
                _quarterly_drafts(committee, secretaries_by_branch, today),
                _quarterly_title(committee, year, quarter),
            ),
            (
                NoticeKind.EXPIRY,
                _expiry_drafts(committee, secretaries_by_branch, first, last),
                _expiry_title(committee, year, quarter),
            ),
        ):
            for user_id, draft in drafts.items():
                if (user_id, kind) in existing:
                    continue
                notices.append(
                    draft.notice(
                        committee_id=committee.pk, year=year, quarter=quarter, kind=kind, title=title
                    )
                )
        # The unique constraint, not the ``existing`` set, is what keeps a notice single.
        Notice.objects.bulk_create(notices, batch_size=BULK_BATCH, ignore_conflicts=True)
        email_notices(committee_id=committee.pk, year=year, quarter=quarter)
    return len(notices)


# ---------------------------------------------------------------------------- e-mail


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def notice_email(notice: Notice) -> EmailMessage:
    """The plain-text e-mail of a notice: its text, its links in full, and where to read it."""
    lines = [notice.body, ""]
    for link in notice.links or []:
        lines.append(f"{link['label']}: {absolute_url(link['url'])}")
    lines += [
        "",
        "-- ",
        _("Read this notice on the site: %(url)s")
        % {"url": absolute_url(reverse("reports:notice_detail", args=[notice.pk]))},
    ]
    return EmailMessage(
        subject=notice.title,
        body="\n".join(lines),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notice.recipient.email],
    )


def email_notices(*, committee_id: int, year: int, quarter: int) -> int:
    """E-mail the quarter's notices not e-mailed yet to recipients with an address; returns how many.

    Each batch is locked (rows another run holds are skipped), sent over one connection and
    stamped before the transaction ends, so no notice is e-mailed by two runs. An address the
    server refuses is logged and left unstamped. A mail server that fails mid-batch: what went
    out is stamped, the error is raised, and the rest goes out on the next run.
    """
    sent = 0
    refused: list[int] = []
    while True:
        error: Exception | None = None
        with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
            batch = list(
                Notice.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(committee_id=committee_id, year=year, quarter=quarter, emailed_at__isnull=True)
                .exclude(recipient__email="")
                .exclude(pk__in=refused)
                .select_related("recipient")
                .order_by("pk")[:EMAIL_BATCH]
            )
            if not batch:
                return sent
            done: list[int] = []
            try:
                with get_connection() as connection:
                    for notice in batch:
                        try:
                            delivered = connection.send_messages([notice_email(notice)])
                        except smtplib.SMTPRecipientsRefused:
                            delivered = 0
                        if delivered:
                            done.append(notice.pk)
                        else:
                            logger.warning("Notice %s: the mail server refused its address", notice.pk)
                            refused.append(notice.pk)
            except Exception as exc:  # the server itself failed: keep what went out, then raise
                error = exc
            Notice.objects.filter(pk__in=done).update(emailed_at=timezone.now())
            sent += len(done)
        if error is not None:
            raise error


def mark_read(*, notice: Notice) -> bool:
    """Mark one notice read; True if it was unread. A conditional update, so it happens once."""
    now = timezone.now()
    changed = Notice.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=now)
    if changed:
        notice.read_at = now
    return bool(changed)


def mark_all_read(*, user: User) -> int:
    """Mark the user's unread notices read; returns how many."""
    return Notice.objects.filter(recipient_id=user.pk, read_at__isnull=True).update(read_at=timezone.now())


__all__ = [
    "email_notices",
    "mark_all_read",
    "mark_read",
    "notice_email",
    "send_quarterly_notices",
]
