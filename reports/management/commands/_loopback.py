"""A signed-in browser over real HTTP for the benchmarks, on this machine only (no dependencies)."""

import http.client
import ipaddress
import re
import urllib.parse
from http.cookies import SimpleCookie

from django.core.management.base import CommandError


def loopback_address(base_url: str) -> tuple[str, int]:
    """(host, port) of ``base_url``, refusing anything but plain HTTP to this machine."""
    parts = urllib.parse.urlsplit(base_url)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme != "http" or not loopback or parts.path not in ("", "/"):
        raise CommandError(
            f"{base_url!r}: only http:// to this machine (127.0.0.1, localhost or [::1]), without a path."
        )
    try:
        port = parts.port or 80
    except ValueError:
        raise CommandError(f"{base_url!r}: the port is not a number.") from None
    return host, port


class HttpSession:
    """A signed-in browser over real HTTP, loopback only: keeps its cookies, one connection."""

    def __init__(self, base_url: str):
        self.host, self.port = loopback_address(base_url)
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, str]:
        host = f"[{self.host}]" if ":" in self.host else self.host
        path = urllib.parse.quote(path, safe="/?=&%#:@+,;~")  # e.g. a search for 党支部
        headers = {"Host": f"{host}:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://{host}:{self.port}{path}"
        try:
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
        except (http.client.HTTPException, OSError):
            self.connection.close()  # a dropped keep-alive connection: once more on a new one
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)  # the server removed it (say, the messages read)
                else:
                    self.cookies[name] = morsel.value
        return response.status, text

    def close(self) -> None:
        self.connection.close()

    def get(self, path: str):
        return self.request("GET", path)

    def sign_in(self, user: str, password: str) -> None:
        _status, page = self.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        status, _text = self.request(
            "POST",
            "/accounts/login/",
            {"csrfmiddlewaretoken": token.group(1) if token else "", "username": user, "password": password},
        )
        if status != 302:
            raise CommandError(f"Signing in as {user} failed (HTTP {status}).")
