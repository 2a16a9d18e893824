"""The documents as a person sees them: converted by LibreOffice (headless, Debian's
``libreoffice-writer-nogui``) to PDF and PNG pages, saved to /tmp/shots/docs/ to be looked at.

Skipped without ``soffice`` on a laptop; under ``CI=true`` a missing LibreOffice fails the run.
LibreOffice substitutes the fonts the file names (方正小标宋简体, 仿宋_GB2312 …) when the
machine lacks them; the file keeps the names. It also lays each character that is wider than the
document grid's cell over two cells, where Word narrows it to one: body lines in the picture
hold about half the 28 characters Word shows.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.reports.documents.test_docx import KINDS, issued

pytestmark = pytest.mark.django_db

SHOTS = Path("/tmp/shots/docs")  # noqa: S108 - where the session looks at the pages


def skip_or_fail(reason: str):
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason} (CI=true: required, not skipped)")
    pytest.skip(reason)


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        skip_or_fail("LibreOffice (soffice) is not installed: apt-get install libreoffice-writer-nogui")
    if not (shutil.which("pdftoppm") and shutil.which("pdftotext") and shutil.which("pdfinfo")):
        skip_or_fail("poppler-utils (pdftoppm, pdftotext) is not installed")
    return found


def convert(docx_bytes: bytes, stem: str, folder: Path) -> tuple[Path, str]:
    source = folder / f"{stem}.docx"
    source.write_bytes(docx_bytes)
    profile = folder / "profile"  # a profile of its own: never a user's, never shared between runs
    subprocess.run(  # noqa: S603 - the installed LibreOffice, our own files
        [
            soffice(),
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = folder / f"{stem}.pdf"
    assert pdf.is_file()
    text = subprocess.run(  # noqa: S603 - poppler's tool on our own file
        [shutil.which("pdftotext"), "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    )
    return pdf, text.stdout


def pages_of(pdf: Path) -> int:
    info = subprocess.run(  # noqa: S603 - poppler's tool on our own file
        [shutil.which("pdfinfo"), str(pdf)], check=True, capture_output=True, text=True
    ).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


@pytest.mark.parametrize("kind", KINDS)
def test_libreoffice_renders_each_document_with_its_number_and_title(kind, docs_world, frozen_now, tmp_path):
    soffice()
    document = issued(kind, docs_world, frozen_now)
    with document.docx.open("rb") as handle:
        data = handle.read()
    pdf, text = convert(data, kind, tmp_path)
    squeezed = "".join(text.split())
    assert document.document_number in squeezed
    assert "".join(document.title.split()) in squeezed
    assert "—1—" in squeezed  # the PAGE field, computed by the renderer
    assert pages_of(pdf) >= 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603 - poppler's tool on our own file
        [shutil.which("pdftoppm"), "-png", "-r", "60", str(pdf), str(SHOTS / kind)], check=True, timeout=120
    )
    first = sorted(SHOTS.glob(f"{kind}-*.png"))[0]
    from PIL import Image

    with Image.open(first) as image:
        dark = sum(image.convert("L").histogram()[:128])
        rgb = image.convert("RGB").tobytes()
    red = sum(1 for i in range(0, len(rgb), 3) if rgb[i] > 180 and rgb[i + 1] < 90 and rgb[i + 2] < 90)
    assert dark > 2000, "the first page is (nearly) blank"
    assert red > 200, "the red organ mark and separator line are missing"


def test_a_draft_renders_with_its_draft_mark_and_without_a_number(docs_world, frozen_now, tmp_path):
    from reports.services.documents import create_bulletin_document, issuer_of, render_to

    soffice()
    document, _created = create_bulletin_document(
        bulletin=docs_world.bulletin, actor=docs_world.people["staff"]
    )
    local = render_to(document, tmp_path / "draft.docx", issuer=issuer_of(document.committee))
    _pdf, text = convert(local.read_bytes(), "draft", tmp_path)
    squeezed = "".join(text.split())
    assert "征求意见稿" in squeezed
    assert "一直工委〔2026〕号" in squeezed  # the number is left blank
