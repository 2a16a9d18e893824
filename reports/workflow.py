"""The bulletin workflow as data: which action moves which status, and who may.

A worker generates the bulletin (a draft, or failed with the reason); the committee's staff
or approver publishes a draft, after which it never changes.
"""

from django.utils.translation import gettext_lazy as _

from branches.roles import COMMITTEE_MANAGERS
from branches.workflow import Transition

from .models import BulletinStatus as B
from .models import DocumentStatus as D

# A draft or a failed bulletin may be generated again; a published one never is.
_GENERATABLE = frozenset({B.GENERATING, B.DRAFT, B.FAILED})
_ONLY_A_DRAFT = _("This bulletin is “%(status)s”; only a draft can be published.")

BULLETIN_TRANSITIONS: dict[str, Transition] = {
    "generate": Transition(_GENERATABLE, B.DRAFT, frozenset(), _("generate")),
    "fail": Transition(_GENERATABLE, B.FAILED, frozenset(), _("record the failure")),
    "publish": Transition(
        frozenset({B.DRAFT}),
        B.PUBLISHED,
        COMMITTEE_MANAGERS,
        _("publish"),
        refusals={
            B.PUBLISHED: _("This bulletin has already been published."),
            B.GENERATING: _ONLY_A_DRAFT,
            B.FAILED: _ONLY_A_DRAFT,
        },
    ),
}


# Official documents (公文): a draft is edited by the committee's staff or approver (each edit
# recorded), then issued once, numbered, frozen.
DOCUMENT_TRANSITIONS: dict[str, Transition] = {
    "edit": Transition(
        frozenset({D.DRAFT}),
        D.DRAFT,
        COMMITTEE_MANAGERS,
        _("edit"),
        refusals={D.ISSUED: _("This document has been issued and can no longer be changed.")},
    ),
    "issue": Transition(
        frozenset({D.DRAFT}),
        D.ISSUED,
        COMMITTEE_MANAGERS,
        _("issue"),
        refusals={D.ISSUED: _("This document has already been issued.")},
    ),
}
