"""Where tasks come from: the receivers of the lower apps' signals, each handing off to ``open_task``.

Connected in ``RectificationConfig.ready``. A downgrade or revocation always opens a task (the
branch secretary as owner, ``DEFAULT_DEADLINE_DAYS`` to do it); a substantiated objection or
an appeal whose lower result was upheld opens one too; an item of a decided certification or
a published quarterly check on which the branch lost more than the committee's
``rectification_loss_percent`` of its points proposes one for the parent reviewer to confirm.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from branches.models import CommitteePolicy, Organization
from scoring.models import ItemKind

from ..models import RectificationEvent, RectificationTask, SourceKind, TaskStatus
from .tasks import DEFAULT_DEADLINE_DAYS, committee_of, default_owner, open_task

HUNDRED = Decimal(100)


def _deadline() -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=DEFAULT_DEADLINE_DAYS)


class OpenedMessage:
    """What the page that caused a task says about it, in the language of whoever reads it."""

    def __init__(self, task: RectificationTask):
        self.task = task

    def __str__(self) -> str:
        return _opened_message(self.task)


def _opened_message(task: RectificationTask) -> str:
    owner = task.owner.display_name if task.owner_id else _("not set yet")
    return _(
        "Rectification task “%(title)s” is opened for %(branch)s: person responsible %(owner)s, "
        "deadline %(deadline)s. It is linked on the branch page."
    ) % {"title": task.title, "branch": task.branch.name, "owner": owner, "deadline": task.deadline}


def _on_star_lowered(*, branch, star_event, actor, **kwargs) -> "OpenedMessage":
    from reviews.models import StarEventKind

    revoked = star_event.kind == StarEventKind.REVOCATION
    if revoked:
        title = _("Rectification after the revocation of the star level")
    else:
        title = _("Rectification after the downgrade to %(stars)s stars") % {"stars": star_event.to_stars}
    requirement = "\n".join(
        [
            _("Violation cited: %(violation)s") % {"violation": star_event.violation},
            _("Reason: %(reason)s") % {"reason": star_event.reason},
            _("Rectify what caused the change and report the measures taken, with evidence."),
        ]
    )
    task = open_task(
        committee=committee_of(branch),
        branch=branch,
        title=title,
        requirement=requirement,
        owner=default_owner(branch),
        deadline=_deadline(),
        source_kind=SourceKind.REVOCATION if revoked else SourceKind.DOWNGRADE,
        source=star_event,
        actor=actor,
    )
    return OpenedMessage(task)


def _on_objection_substantiated(*, objection, actor, **kwargs) -> "OpenedMessage":
    branch = objection.assessment.branch
    task = open_task(
        committee=committee_of(branch),
        branch=branch,
        title=_("Rectification of a substantiated objection"),
        requirement="\n".join(
            [
                _("Objection: %(content)s") % {"content": objection.content},
                _("Resolution: %(resolution)s") % {"resolution": objection.resolution},
            ]
        ),
        owner=default_owner(branch),
        deadline=_deadline(),
        source_kind=SourceKind.OBJECTION,
        source=objection,
        actor=actor,
    )
    return OpenedMessage(task)


def _on_appeal_upheld(*, appeal, actor, **kwargs) -> "OpenedMessage":
    branch = appeal.assessment.branch
    task = open_task(
        committee=committee_of(branch),
        branch=branch,
        title=_("Rectification after the appeal: result upheld"),
        requirement="\n".join(
            [
                _("The appeal did not change the result: %(reason)s") % {"reason": appeal.outcome_reason},
                _("Rectify the items the appeal contested and report the measures taken, with evidence."),
            ]
        ),
        owner=default_owner(branch),
        deadline=_deadline(),
        source_kind=SourceKind.APPEAL,
        source=appeal,
        actor=actor,
    )
    return OpenedMessage(task)


def _policy(committee_id: int) -> CommitteePolicy:
    return CommitteePolicy.objects.filter(committee_id=committee_id).first() or CommitteePolicy(
        committee_id=committee_id
    )


def _loses_too_much(score, max_score, percent: Decimal) -> bool:
    if score is None or not max_score:
        return False
    return (max_score - score) * HUNDRED > percent * max_score


def _propose_bulk(
    *, committee: Organization, source_kind: str, rows: list[tuple], source_model, actor
) -> int:
    """Proposed tasks for (branch, source object id, item, score) rows, in a few statements.

    Rows whose task exists already are skipped (the unique constraint per source and item
    keeps them single even against a concurrent run).
    """
    if not rows:
        return 0
    source_type = ContentType.objects.get_for_model(source_model)
    existing = set(
        RectificationTask.objects.filter(
            source_type=source_type, source_id__in={row[1] for row in rows}, item__isnull=False
        ).values_list("source_id", "item_id")
    )
    now = timezone.now()
    tasks = []
    for branch_id, source_id, item, score in rows:
        if (source_id, item.pk) in existing:
            continue
        requirement = _(
            "%(code)s %(title)s: %(score)s of %(max)s points. Find the causes and set what is to be done."
        ) % {"code": item.code, "title": item.title, "score": score, "max": item.max_score}
        tasks.append(
            RectificationTask(
                committee=committee,
                branch_id=branch_id,
                title=(_("Points lost: %(code)s %(title)s") % {"code": item.code, "title": item.title})[:200],
                requirement=requirement,
                source_kind=source_kind,
                source_type=source_type,
                source_id=source_id,
                item=item,
                status=TaskStatus.PROPOSED,
                opened_by=actor if getattr(actor, "pk", None) else None,
                created_at=now,
            )
        )
    created = RectificationTask.objects.bulk_create(tasks, batch_size=1000, ignore_conflicts=True)
    # ignore_conflicts leaves the keys empty: find the new rows to give each its first event.
    new = RectificationTask.objects.filter(
        source_type=source_type,
        source_id__in={task.source_id for task in created},
        status=TaskStatus.PROPOSED,
        created_at=now,
    ).values_list("pk", "requirement")
    RectificationEvent.objects.bulk_create(
        (
            RectificationEvent(
                task_id=pk,
                actor=actor if getattr(actor, "pk", None) else None,
                action="propose",
                from_status="",
                to_status=TaskStatus.PROPOSED,
                note=requirement,
            )
            for pk, requirement in new
        ),
        batch_size=1000,
    )
    return len(tasks)


def _on_assessment_decided(*, assessment, actor, **kwargs) -> None:
    """Items of a decided certification on which the branch lost more than the committee's share."""
    from reviews.selectors import scoring_summary

    summary = scoring_summary(assessment)
    committee = assessment.cycle.committee
    percent = _policy(committee.pk).rectification_loss_percent
    rows = [
        (assessment.branch_id, assessment.pk, row.item, row.mean)
        for row in summary.items
        if row.item.kind == ItemKind.NORMAL and _loses_too_much(row.mean, row.item.max_score, percent)
    ]
    _propose_bulk(
        committee=committee,
        source_kind=SourceKind.CERTIFICATION_ITEM,
        rows=rows,
        source_model=type(assessment),
        actor=actor,
    )


def _on_check_round_published(*, check_round, actor, **kwargs) -> None:
    """Items of a published quarterly check on which a branch lost more than the committee's share."""
    from checks.models import CheckScore, CheckSheet

    percent = _policy(check_round.committee_id).rectification_loss_percent
    scores = (
        CheckScore.objects.filter(
            sheet__round_id=check_round.pk, item__kind=ItemKind.NORMAL, item__max_score__gt=0
        )
        .select_related("item", "sheet")
        .order_by("sheet_id", "item__order", "item_id")
    )
    rows = [
        (score.sheet.branch_id, score.sheet_id, score.item, score.score)
        for score in scores
        if _loses_too_much(score.score, score.item.max_score, percent)
    ]
    _propose_bulk(
        committee=check_round.committee,
        source_kind=SourceKind.CHECK_ITEM,
        rows=rows,
        source_model=CheckSheet,
        actor=actor,
    )


def _in_site_language(receiver):
    """The task's texts are stored as written: in the site's language, whoever's request it is."""

    def wrapper(**kwargs):
        with translation.override(settings.LANGUAGE_CODE):
            answer = receiver(**kwargs)
        return answer

    wrapper.__name__ = receiver.__name__.lstrip("_")
    return wrapper


on_star_lowered = _in_site_language(_on_star_lowered)
on_objection_substantiated = _in_site_language(_on_objection_substantiated)
on_appeal_upheld = _in_site_language(_on_appeal_upheld)
on_assessment_decided = _in_site_language(_on_assessment_decided)
on_check_round_published = _in_site_language(_on_check_round_published)


def connect() -> None:
    """Connect the receivers (``RectificationConfig.ready``); idempotent through dispatch_uid."""
    from checks.signals import check_round_published
    from reviews.signals import appeal_upheld, assessment_decided, objection_substantiated, star_lowered

    star_lowered.connect(on_star_lowered, dispatch_uid="rectification.star_lowered")
    objection_substantiated.connect(on_objection_substantiated, dispatch_uid="rectification.objection")
    appeal_upheld.connect(on_appeal_upheld, dispatch_uid="rectification.appeal")
    assessment_decided.connect(on_assessment_decided, dispatch_uid="rectification.assessment_decided")
    check_round_published.connect(on_check_round_published, dispatch_uid="rectification.check_round")
