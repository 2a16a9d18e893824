"""The WSGI application (gunicorn config.wsgi).

Once Django and every app are loaded, what is in memory lives as long as the process: it is
moved out of the garbage collector's generations (``gc.freeze``), so that each collection
walks only what requests create rather than the whole framework. Measured with
``bench_rush`` (README, "Scale benchmarks"). ``GC_FREEZE=false`` turns it off.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

if os.environ.get("GC_FREEZE", "true").strip().lower() not in {"0", "false", "no", "off"}:
    gc.collect()
    gc.freeze()
