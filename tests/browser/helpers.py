"""What the demo-based browser walks share: signing in as a demo user, and numbered screenshots."""

from pathlib import Path

from django.urls import reverse
from playwright.sync_api import expect

from branches.demo import DEMO_PASSWORD


def screenshot_taker(root: Path, folder_name: str):
    """A function ``take(page, step)`` saving full-page PNGs 01-step.png, 02-… into a fresh folder."""
    folder = root / "test-output" / "screenshots" / folder_name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    counter = iter(range(1, 100))

    def take(page, step: str) -> None:
        page.screenshot(path=str(folder / f"{next(counter):02d}-{step}.png"), full_page=True)

    return take


class DemoBrowser:
    """One page driven against the live server, signing in as the demo users."""

    def __init__(self, page, live_server):
        self.page = page
        self.base = live_server.url

    def url(self, name: str, *args) -> str:
        return self.base + reverse(name, args=args)

    def goto(self, name: str, *args) -> None:
        self.page.goto(self.url(name, *args))

    def sign_in(self, username: str) -> None:
        page = self.page
        page.context.clear_cookies()
        page.goto(f"{self.base}/accounts/login/")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(DEMO_PASSWORD)
        page.locator("main form button[type=submit]").click()
        expect(page).to_have_url(f"{self.base}/")
