"""Reminders of the quarterly check rounds' deadlines (季度考核提醒): an in-app notice and an e-mail.

A daily job looks at every open round of a committee. Who still has work gets a reminder:

* the branch secretaries whose optional self-report is still open (the round takes
  self-reports, the sheet is not scored yet, nothing reported yet), from ``DAYS_BEFORE`` days
  before the self-report deadline up to the deadline itself (after it the self-report closes);
* the parent reviewers (for a branch directly under the committee: its approvers and staff) with
  sheets not scored or not submitted, from ``DAYS_BEFORE`` days before the scoring deadline up to
  the deadline — and once more when the deadline has passed ("overdue", the day after it, or
  the first day the job runs after it), as the home page shows such a deadline in red.

Each person gets at most one reminder of each kind per round: a reminder is a ``Notice`` of
its own kind for the round's committee and quarter, unique per (recipient, committee, year,
quarter, kind), written with ``bulk_create(ignore_conflicts=True)``; e-mails go out through
``notices.email_notices``, which stamps each notice as it is sent. So the job can run twice,
or at the same moment on two workers, and each person still has one reminder and one e-mail.
It reads a fixed number of rows per round, whatever the number of branches.
"""

import datetime
from collections import defaultdict

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from branches.models import Organization, OrgKind, RoleAssignment, User
from branches.roles import COMMITTEE_MANAGERS, Role
from checks.models import CheckRound, CheckRoundStatus, CheckSelfReport, CheckSheet
from checks.workflow import SCORABLE

from ..models import Notice, NoticeKind
from .notices import BULK_BATCH, _day, _Draft, _greeting, _role_holders, email_notices

# Reminders start this many days before a deadline (the deadline's own day included).
DAYS_BEFORE = 3


def reminder_kinds(check_round: CheckRound, today: datetime.date) -> list[str]:
    """Which reminders the round calls for on ``today`` (before anyone's work is looked at)."""
    kinds = []
    lead = datetime.timedelta(days=DAYS_BEFORE)
    if (
        check_round.self_reports
        and check_round.self_report_deadline - lead <= today <= check_round.self_report_deadline
    ):
        kinds.append(NoticeKind.CHECK_REPORT_DUE)
    if check_round.scoring_deadline - lead <= today <= check_round.scoring_deadline:
        kinds.append(NoticeKind.CHECK_SCORING_DUE)
    elif today > check_round.scoring_deadline:
        kinds.append(NoticeKind.CHECK_SCORING_LATE)
    return kinds


def open_round_ids() -> list[tuple[int, int, int]]:
    """(committee id, year, quarter) of every open round of an active committee."""
    return list(
        CheckRound.objects.filter(status=CheckRoundStatus.OPEN, committee__is_active=True)
        .order_by("committee_id", "year", "quarter")
        .values_list("committee_id", "year", "quarter")
    )


def _title(kind: str, committee: Organization, check_round: CheckRound) -> str:
    values = {"committee": committee.name, "label": check_round.label}
    if kind == NoticeKind.CHECK_REPORT_DUE:
        values["date"] = _day(check_round.self_report_deadline)
        text = _("%(committee)s: the check of %(label)s — self-reports are due by %(date)s")
    elif kind == NoticeKind.CHECK_SCORING_DUE:
        values["date"] = _day(check_round.scoring_deadline)
        text = _("%(committee)s: the check of %(label)s — scores are due by %(date)s")
    else:
        values["date"] = _day(check_round.scoring_deadline)
        text = _("%(committee)s: the check of %(label)s — the scoring deadline %(date)s has passed")
    return text % values


def _open_sheets(check_round: CheckRound) -> list[dict]:
    """The round's sheets not scored or not submitted yet, with whether anything is self-reported."""
    return list(
        CheckSheet.objects.filter(round=check_round, status__in=SCORABLE)
        .annotate(reported=Exists(CheckSelfReport.objects.filter(sheet=OuterRef("pk"))))
        .order_by("branch__path")
        .values("pk", "branch_id", "branch__name", "branch__path", "branch__parent__kind", "reported")
    )


def _secretary_drafts(committee, check_round, sheets) -> dict[int, _Draft]:
    by_branch: dict[int, list[User]] = defaultdict(list)
    for ra in _role_holders(committee, Role.BRANCH_SECRETARY).order_by("organization__path", "user_id"):
        by_branch[ra.organization_id].append(ra.user)
    drafts: dict[int, _Draft] = {}
    for sheet in sheets:
        if sheet["reported"]:
            continue
        for user in by_branch.get(sheet["branch_id"], ()):
            draft = drafts.setdefault(user.pk, _Draft(recipient=user, paragraphs=[_greeting(user)]))
            draft.paragraphs.append(
                _(
                    "%(branch)s — the check of %(label)s: the branch may add a short self-report per "
                    "item, with evidence, for the parent organization's scoring. Self-reports are due by "
                    "%(date)s."
                )
                % {
                    "branch": sheet["branch__name"],
                    "label": check_round.label,
                    "date": _day(check_round.self_report_deadline),
                }
            )
            draft.link(
                _("Self-report of %(branch)s") % {"branch": sheet["branch__name"]},
                reverse("checks:sheet_self_report", args=[sheet["pk"]]),
            )
    return drafts


def _scorer_drafts(committee, check_round, sheets, *, late: bool) -> dict[int, _Draft]:
    """Parent reviewers reaching each open sheet's branch; for a branch directly under the
    committee, the committee's approvers and staff (checks.selectors.check_scorer_roles)."""
    reviewers: dict[int, list[User]] = defaultdict(list)  # by the organization they hold the role on
    for ra in _role_holders(committee, Role.PARENT_REVIEWER).order_by("user_id"):
        reviewers[ra.organization_id].append(ra.user)
    managers = [
        ra.user
        for ra in RoleAssignment.objects.filter(
            organization_id=committee.pk, role__in=COMMITTEE_MANAGERS, user__is_active=True
        )
        .select_related("user")
        .order_by("user_id")
    ]
    waiting: dict[int, list[dict]] = defaultdict(list)
    users: dict[int, User] = {}
    for sheet in sheets:
        if sheet["branch__parent__kind"] == OrgKind.COMMITTEE:
            scorers = managers
        else:
            ancestors = [int(part) for part in sheet["branch__path"].strip("/").split("/")[:-1]]
            scorers = [user for ancestor in ancestors for user in reviewers.get(ancestor, ())]
        for user in {user.pk: user for user in scorers}.values():
            users[user.pk] = user
            waiting[user.pk].append(sheet)
    drafts = {}
    for user_id, mine in waiting.items():
        user = users[user_id]
        count = ngettext(
            "%(count)d branch's sheet in the check of %(label)s is not scored or not submitted yet.",
            "%(count)d branches' sheets in the check of %(label)s are not scored or not submitted yet.",
            len(mine),
        ) % {"count": len(mine), "label": check_round.label}
        if late:
            deadline = _("The scoring deadline was %(date)s: please score and submit them now.")
        else:
            deadline = _("Scores are due by %(date)s.")
        draft = _Draft(
            recipient=user,
            paragraphs=[
                _greeting(user),
                "\n".join([count, deadline % {"date": _day(check_round.scoring_deadline)}]),
                "\n".join(sheet["branch__name"] for sheet in mine[:50])
                + ("\n" + _("… and %(more)s more.") % {"more": len(mine) - 50} if len(mine) > 50 else ""),
            ],
        )
        for sheet in mine[:10]:
            draft.link(
                _("Score %(branch)s") % {"branch": sheet["branch__name"]},
                reverse("checks:sheet_score", args=[sheet["pk"]]),
            )
        draft.link(
            _("The check of %(label)s") % {"label": check_round.label},
            reverse("checks:round_detail", args=[check_round.pk]),
        )
        drafts[user_id] = draft
    return drafts


def send_check_reminders(
    *, committee_id: int, year: int, quarter: int, today: datetime.date | None = None
) -> int:
    """Remind whoever still has work in the committee's open round of (year, quarter); returns how
    many reminders were new. Nothing for a round that is published or does not exist."""
    committee = Organization.objects.get(pk=committee_id, kind=OrgKind.COMMITTEE)
    check_round = CheckRound.objects.filter(
        committee_id=committee.pk, year=year, quarter=quarter, status=CheckRoundStatus.OPEN
    ).first()
    if check_round is None:
        return 0
    today = today or timezone.localdate()
    kinds = reminder_kinds(check_round, today)
    if not kinds:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        sheets = _open_sheets(check_round)
        existing = set(
            Notice.objects.filter(
                committee_id=committee.pk, year=year, quarter=quarter, kind__in=kinds
            ).values_list("recipient_id", "kind")
        )
        notices = []
        for kind in kinds:
            if kind == NoticeKind.CHECK_REPORT_DUE:
                drafts = _secretary_drafts(committee, check_round, sheets)
            else:
                drafts = _scorer_drafts(
                    committee, check_round, sheets, late=kind == NoticeKind.CHECK_SCORING_LATE
                )
            title = _title(kind, committee, check_round)
            notices += [
                draft.notice(committee_id=committee.pk, year=year, quarter=quarter, kind=kind, title=title)
                for user_id, draft in drafts.items()
                if (user_id, kind) not in existing
            ]
        # The unique constraint, not the ``existing`` set, keeps a reminder single.
        Notice.objects.bulk_create(notices, batch_size=BULK_BATCH, ignore_conflicts=True)
    email_notices(committee_id=committee.pk, year=year, quarter=quarter)
    return len(notices)


__all__ = ["DAYS_BEFORE", "open_round_ids", "reminder_kinds", "send_check_reminders"]
