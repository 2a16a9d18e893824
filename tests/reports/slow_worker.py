"""The project's Celery app with every PDF write held open for a while, for the worker-kill test.

A worker started with ``-A tests.reports.slow_worker`` loads this module instead of
``config``: it keeps a bulletin's temporary file on disk long enough for the test to kill the
pool child mid-render. Production code has no such hook; the delay lives only here.
"""

import os
import time

from weasyprint.document import Document

from config.celery import app

SECONDS = float(os.environ.get("SLOW_PDF_SECONDS", "4"))
_write_pdf = Document.write_pdf


def _slow_write_pdf(self, *args, **kwargs):
    time.sleep(SECONDS)
    return _write_pdf(self, *args, **kwargs)


Document.write_pdf = _slow_write_pdf

__all__ = ["app"]
