"""The project's Celery app with every publication of a generated file held back, for the kill test.

A worker started with ``-A tests.reports.slow_worker`` loads this module instead of
``config``: each finished file waits under its temporary key in the storage (disk or bucket)
before it is published, long enough for the test to kill the pool child right there.
Production code has no such hook; the delay lives only here.
"""

import os
import time

from config.celery import app
from reports import files

SECONDS = float(os.environ.get("SLOW_PUBLISH_SECONDS", "4"))
_publish_file = files.publish_file


def _slow_publish_file(*args, **kwargs):
    time.sleep(SECONDS)
    return _publish_file(*args, **kwargs)


files.publish_file = _slow_publish_file

__all__ = ["app"]
