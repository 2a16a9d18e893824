"""What the services of supervision share: who counts as a committee member, file checks."""

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from branches.models import Organization, RoleAssignment, User
from branches.roles import Role
from reviews.uploads import JPEG, PNG, CheckedFile, check_upload

# The committee's own people who visit branches: its approvers, staff and assessment team.
MEMBER_ROLES = frozenset({Role.COMMITTEE_APPROVER, Role.STAFF, Role.ASSESSMENT_REVIEWER})

MAX_PHOTOS_PER_VISIT = 10
MAX_FILES_PER_APPLICATION = 10


def committee_of_branch(branch: Organization) -> Organization:
    return Organization.objects.get(pk=branch.ancestor_ids[0])


def committee_members(committee: Organization) -> QuerySet[User]:
    """The active people holding a member role on the committee itself, by name."""
    holders = RoleAssignment.objects.filter(organization_id=committee.pk, role__in=MEMBER_ROLES)
    return User.objects.filter(is_active=True, pk__in=holders.values("user_id")).order_by("username")


def check_photo(uploaded: UploadedFile) -> CheckedFile:
    """Every check of an evidence file, and then: a JPEG or PNG image only."""
    info = check_upload(uploaded)
    if info.content_type not in (JPEG.content_type, PNG.content_type):
        raise ValidationError(
            _("“%(name)s” is not a photo: only JPEG or PNG images can be attached here.")
            % {"name": info.name},
            code="not_a_photo",
        )
    return info
