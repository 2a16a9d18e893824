"""The user's notices: the list, one notice (opening it marks it read), "mark all read"."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from branches.kept import kept_page

from ..selectors import get_own_notice_or_404, notices_for
from ..services.notices import mark_all_read, mark_read

PAGE_SIZE = 20


def _safe_links(notice) -> list[dict[str, str]]:
    # Links are written by the service as site paths; anything else is not shown as a link.
    return [
        link
        for link in notice.links or []
        if isinstance(link, dict)
        and isinstance(link.get("url"), str)
        and link["url"].startswith("/")
        and not link["url"].startswith("//")
    ]


@login_required
@kept_page
@require_GET
def notice_list(request: HttpRequest) -> HttpResponse:
    """通知: the user's own notices, newest first, unread ones highlighted."""
    page = Paginator(notices_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "reports/notices/list.html", {"page": page, "query": ""})


@login_required
@require_GET
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One of the user's notices; someone else's is a 404. Opening it marks it read."""
    notice = get_own_notice_or_404(request.user, pk)
    mark_read(notice=notice)
    return render(request, "reports/notices/detail.html", {"notice": notice, "links": _safe_links(notice)})


@login_required
@require_POST
def notice_mark_all_read(request: HttpRequest) -> HttpResponse:
    count = mark_all_read(user=request.user)
    if count:
        messages.success(
            request,
            ngettext("%(count)d notice marked as read.", "%(count)d notices marked as read.", count)
            % {"count": count},
        )
    else:
        messages.info(request, _("You have no unread notices."))
    return redirect("reports:notice_list")


urlpatterns = [
    path("notices/", notice_list, name="notice_list"),
    path("notices/<int:pk>/", notice_detail, name="notice_detail"),
    path("notices/read-all/", notice_mark_all_read, name="notice_mark_all_read"),
]
