"""Files and shortcuts the supervision tests share."""

import base64
import datetime

from django.core.files.uploadedfile import SimpleUploadedFile

from supervision.services.liaisons import assign_liaisons
from supervision.services.visits import record_visit

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def photo(name: str = "现场.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def pdf(name: str = "特色材料.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def visit(world, *, branch=None, by=None, on=None, findings="三会一课记录不全。", photos=()):
    by = by or world.reviewers[0]
    return record_visit(
        branch=branch or world.branch,
        actor=by,
        visited_on=on or datetime.date.today(),
        members=[by],
        checked="查阅支部会议记录。",
        findings=findings,
        photos=photos,
    )


def liaise(world, member, *branches):
    return assign_liaisons(
        committee=world.committee, member=member, branches=list(branches), actor=world.approver
    )
