"""PDF rendering with WeasyPrint: Chinese fonts with real bold, A4, page numbers, atomic files.

The CJK fonts come from pip packages (Noto Sans CJK, SIL OFL), so ``pip install -r
requirements.txt`` is all a machine needs. With ``<html lang="zh-CN">`` HarfBuzz draws the
Simplified forms from these pan-CJK fonts. A character the fonts lack makes WeasyPrint log
".notdef glyph rendered"; ``render_pdf`` collects those warnings so callers and tests can
refuse a PDF with boxes in it.
"""

import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import cvttf_NotoSansCJK_Bold
import cvttf_NotoSansCJK_Regular

FONT_FAMILY = "Dangjian CJK"


def font_paths() -> tuple[Path, Path]:
    return Path(cvttf_NotoSansCJK_Regular.get_TTF_path()), Path(cvttf_NotoSansCJK_Bold.get_TTF_path())


def font_face_css() -> str:
    regular, bold = font_paths()
    return (
        f'@font-face {{ font-family: "{FONT_FAMILY}"; font-weight: 400; src: url("{regular.as_uri()}"); }}\n'
        f'@font-face {{ font-family: "{FONT_FAMILY}"; font-weight: 700; src: url("{bold.as_uri()}"); }}\n'
    )


# A4, the page number at the foot, table headers repeated on every page (WeasyPrint repeats
# <thead> by default; ``display: table-header-group`` keeps it explicit).
BASE_CSS = """
@page {
  size: A4;
  margin: 18mm 15mm 20mm 15mm;
  @bottom-center {
    content: "第 " counter(page) " 页 / 共 " counter(pages) " 页";
    font-family: "FAMILY";
    font-size: 9pt;
    color: #555;
  }
}
html { font-family: "FAMILY", sans-serif; font-size: 10.5pt; line-height: 1.5; color: #222; }
h1 { font-size: 18pt; font-weight: 700; text-align: center; margin: 0 0 4mm; color: #c8102e; }
h2 { font-size: 13pt; font-weight: 700; margin: 6mm 0 2mm; border-bottom: 1px solid #c8102e; }
table { width: 100%; border-collapse: collapse; margin: 2mm 0 4mm; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; }
th, td { border: 0.5pt solid #888; padding: 1.2mm 1.6mm; vertical-align: top; }
th { background: #f3e3e5; font-weight: 700; }
td.num, th.num { text-align: right; }
.muted { color: #666; }
""".replace("FAMILY", FONT_FAMILY)


@dataclass
class PdfResult:
    path: Path
    pages: int
    notdef_warnings: list[str] = field(default_factory=list)


class _Collector(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if ".notdef" in message:
            self.messages.append(message)


def render_pdf(html: str, target: Path, *, extra_css: str = "") -> PdfResult:
    """Render ``html`` to the local file ``target`` atomically: a temporary file in the same folder,
    then rename. A crash mid-render leaves no partial file at ``target``.

    ``target`` is a scratch path on this machine; a file that is kept goes into the storage
    through ``reports.files.save_generated``, never by writing under ``MEDIA_ROOT``.
    """
    from weasyprint import CSS, HTML  # imported late: it loads pango and fonts
    from weasyprint.text.fonts import FontConfiguration

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    collector = _Collector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    previous_level = logger.level
    if logger.getEffectiveLevel() > logging.WARNING:
        logger.setLevel(logging.WARNING)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        # @font-face rules only take effect through a FontConfiguration shared by CSS and render.
        font_config = FontConfiguration()
        stylesheets = [CSS(string=font_face_css() + BASE_CSS + extra_css, font_config=font_config)]
        document = HTML(string=html, base_url=str(target.parent)).render(
            stylesheets=stylesheets, font_config=font_config
        )
        document.write_pdf(tmp_name)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    finally:
        logger.removeHandler(collector)
        logger.setLevel(previous_level)
    return PdfResult(path=target, pages=len(document.pages), notdef_warnings=collector.messages)
