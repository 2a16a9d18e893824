"""Real headless Chromium (Debian's, not Playwright's download) against pytest-django's live_server."""

import os
from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # Date inputs follow the browser UI language, not the page: show them as a Chinese user does.
    "--lang=zh-CN",
]

# Headless Chromium draws Chinese as boxes without a CJK font; the pip package
# cvttf-notosanscjk-regular ships one, which fontconfig is pointed at below.
try:
    import cvttf_NotoSansCJK_Regular

    CJK_FONT_DIR = Path(cvttf_NotoSansCJK_Regular.__file__).parent
except ImportError:  # pragma: no cover - the package is in requirements.txt
    CJK_FONT_DIR = None

FONTS_CONF = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  {font_dir}
  <cachedir>{cache_dir}</cachedir>
</fontconfig>
"""


def pytest_collection_modifyitems(config, items):
    """Run the browser tests last; see ``playwright`` below for why."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def playwright(playwright, live_server):
    """Playwright, with Django told to allow ORM calls beside its event loop.

    The sync API leaves an asyncio loop marked as running in the main thread from start to
    the end of the session, so every ORM call after it (fixtures, the test's own queries,
    the database teardown) would raise SynchronousOnlyOperation. DJANGO_ALLOW_ASYNC_UNSAFE
    lifts that check, but it must not leak into the other tests: subprocesses inherit it, and
    ``check --deploy`` rightly fails on it (async.E001). So it is set only while Playwright
    runs, and the browser tests run last.

    It asks for the live server first, so that the server outlives the browser: closing the
    browser at the end of the session closes its kept-alive connections, and the server's
    threads must still be allowed to use the (in-memory SQLite) database then.
    """
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield playwright
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def _chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(path).exists():
        message = "Chromium not found: install it with `apt-get install chromium`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, tmp_path_factory):
    executable = _chromium_path()
    fontconfig_dir = tmp_path_factory.mktemp("fontconfig")
    fonts_conf = fontconfig_dir / "fonts.conf"
    fonts_conf.write_text(
        FONTS_CONF.format(
            font_dir=f"<dir>{CJK_FONT_DIR}</dir>" if CJK_FONT_DIR else "",
            cache_dir=fontconfig_dir / "cache",
        ),
        encoding="utf-8",
    )
    return {
        **browser_type_launch_args,
        "executable_path": executable,
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
        # Playwright's env replaces the browser's whole environment, so start from ours.
        "env": {**os.environ, "FONTCONFIG_FILE": str(fonts_conf)},
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # Users' browsers ask for Chinese; Playwright's default would be en-US. Reduced motion
    # turns Bootstrap's transitions off, so screenshots never catch a menu half open.
    return {**browser_context_args, "locale": "zh-CN", "reduced_motion": "reduce"}


@pytest.fixture
def screenshot(request):
    """Save a full-page screenshot as test-output/screenshots/<test function>-<step>.png."""
    folder = request.config.rootpath / "test-output" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, step: str) -> Path:
        path = folder / f"{request.node.originalname}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
