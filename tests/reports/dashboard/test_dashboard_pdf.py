"""The dashboard as a PDF: A4 landscape, the page's numbers in its text; its pages rendered to
PNG (pdftoppm, when installed) into the shots folder to be looked at."""

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.urls import reverse
from pypdf import PdfReader

pytestmark = pytest.mark.django_db

SHOTS = Path(tempfile.gettempdir()) / "shots" / "dash"


def test_the_pdf_is_a4_landscape_with_the_dashboards_numbers(client, dash):
    w = dash.world
    client.force_login(w.approver)
    response = client.get(reverse("reports:dashboard_pdf", args=[w.committee.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    assert ".pdf" in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    reader = PdfReader(io.BytesIO(content))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)  # A4 landscape, in points
    assert len(reader.pages) <= 3
    text = "".join(page.extract_text() for page in reader.pages).replace(" ", "")
    assert w.committee.name in text
    assert "50.0%" in text  # the five-star share: B1 and B4 of four branches
    assert w.party_committee.name in text
    assert "1/2" in text  # supervision: one of the two liaison branches visited
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "dashboard.pdf").write_bytes(content)
    if shutil.which("pdftoppm"):
        subprocess.run(  # noqa: S603 - a fixed program on our own file
            ["pdftoppm", "-r", "70", "-png", str(SHOTS / "dashboard.pdf"), str(SHOTS / "dashboard-pdf")],  # noqa: S607
            check=True,
        )
        assert (SHOTS / "dashboard-pdf-1.png").exists()


def test_a_secretary_gets_no_pdf(client, dash):
    client.force_login(dash.world.secretary)
    response = client.get(reverse("reports:dashboard_pdf", args=[dash.world.party_committee.pk]))
    assert response.status_code == 404
    client.force_login(dash.world.reviewers[0])
    assert client.get(reverse("reports:dashboard_pdf", args=[dash.world.committee.pk])).status_code == 403
