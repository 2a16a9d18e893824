"""A branch's "the veto applies" is stored as the same mark as a reviewer's: 1, not 0.

Before, a self-score of 0 on a veto item meant "applies" while a reviewer's 1 did; both now
follow ``scoring.arithmetic.VETO_APPLIES``. "Does not apply" stays NULL (or no row).
"""

from decimal import Decimal

from django.db import migrations


def to_marks(apps, schema_editor, old=Decimal("0"), new=Decimal("1")):
    SelfScore = apps.get_model("reviews", "SelfScore")
    SelfScore.objects.filter(item__kind="veto", score=old).update(score=new)


def back(apps, schema_editor):
    to_marks(apps, schema_editor, old=Decimal("1"), new=Decimal("0"))


class Migration(migrations.Migration):
    dependencies = [("reviews", "0001_initial"), ("scoring", "0002_default_standard")]

    operations = [migrations.RunPython(to_marks, back)]
