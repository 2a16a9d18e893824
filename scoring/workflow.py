"""The standard workflow as data: a draft is published once and is frozen from then on."""

from django.utils.translation import gettext_lazy as _

from branches.roles import COMMITTEE_MANAGERS
from branches.workflow import Transition

from .models import StandardStatus as S

# A committee's own standard is published by its staff or approver; a global standard (no
# committee) only by a superuser (``scoring.selectors.can_publish_standard``).
STANDARD_TRANSITIONS: dict[str, Transition] = {
    "publish": Transition(
        frozenset({S.DRAFT}),
        S.PUBLISHED,
        COMMITTEE_MANAGERS,
        _("publish"),
        refusals={S.PUBLISHED: _("“%(standard)s” is already published.")},
    ),
}
