"""The admin speaks Chinese (app, model, column, field and filter labels, the event actions), and so
do Django's own messages: password rules, form errors, a failed sign-in, the admin's notices.

A superuser walks every registered changelist, add page and change page over rows of every
model; the labels collected from each page (not the rows' own data) must hold no English word
but a few technical terms.
"""

import datetime
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from reports.models import Bulletin, BulletinEvent, JobRun
from reviews.demo import DEMO_PDF
from reviews.models import AssessmentEvent, AssessmentStatus
from reviews.services.appeals import accept_appeal, apply_for_appeal
from reviews.services.decision import publicize_cycle, record_objection
from scoring.models import StandardEvent
from tests.factories import (
    PASSWORD,
    decide_all,
    forward_and_assign,
    make_certificate,
    make_user,
    open_default_cycle,
    standard_items,
    submit_sheet,
)

# Words that stay as they are in a Chinese admin: protocol and product names.
TECHNICAL = {
    "IP",
    "HTTP",
    "GET",
    "POST",
    "SHA",
    "AMQP",
    "Celery",
    "JSON",
    "ID",
    "URL",
    "PDF",
    "Excel",
    "Accept",
}
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")


class AdminLabels(HTMLParser):
    """The labels of an admin page: what the admin itself names, not the rows' data.

    App captions and model names of the index, column headers, form labels, fieldset and
    inline headings, filter titles (their choices are often the rows' values), the actions
    menu, the page's <h1>, and the cells of the event action columns.
    """

    def __init__(self):
        super().__init__()
        self.open: list[tuple[str, bool]] = []  # (tag, collects)
        self.buffers: list[list[str]] = []
        self.in_filter = 0
        self.in_actions = False
        self.labels: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in {"input", "br", "img", "meta", "link", "hr"}:
            return
        a = dict(attrs)
        cls = a.get("class") or ""
        if tag == "nav" and a.get("id") == "changelist-filter":
            self.in_filter = len(self.open) + 1
        if tag == "select" and a.get("name") == "action":
            self.in_actions = True
        collects = (
            tag in {"caption", "label", "h1"}
            or (tag == "th" and a.get("scope") == "col")
            or (tag == "th" and a.get("scope") == "row" and "model-" in (self._classes_above()))
            or (tag == "h2" and ("fieldset-heading" in cls or "inline-heading" in cls))
            or (tag == "h3" and self.in_filter)
            or (tag == "option" and self.in_actions)
            or (tag == "td" and "field-action_label" in cls)
        )
        self.open.append((tag, collects, cls))
        self.buffers.append([])

    def _classes_above(self) -> str:
        return " ".join(cls for _, _, cls in self.open)

    def handle_endtag(self, tag):
        if tag == "select":
            self.in_actions = False
        while self.open:
            opened, collects, _ = self.open.pop()
            text = "".join(self.buffers.pop())
            if collects:
                text = " ".join(text.split())
                if text:
                    self.labels.append(text)
            if self.buffers:
                self.buffers[-1].append(text)
            if self.in_filter and len(self.open) < self.in_filter:
                self.in_filter = 0
            if opened == tag:
                break

    def handle_data(self, data):
        if self.buffers:
            self.buffers[-1].append(data)


def labels_of(html: str) -> list[str]:
    parser = AdminLabels()
    parser.feed(html)
    return parser.labels


def english_in(labels: list[str]) -> set[str]:
    return {word for text in labels for word in ENGLISH_WORD.findall(text) if word not in TECHNICAL}


@pytest.fixture
def every_kind_of_row(world, private_media):
    """A row of every model the admin shows, most of them through the services."""
    cycle = open_default_cycle(world.committee, world.approver)
    items = standard_items(cycle.standard)
    assessment = cycle.assessments.get(branch=world.branch)
    first = world.reviewers[0]
    forward_and_assign(
        assessment,
        secretary=world.secretary,
        parent=world.parent_reviewer,
        approver=world.approver,
        reviewers=[first],
        items=items,
    )
    submit_sheet(assessment, first, items, {items[0].code: (Decimal(1), "未见会议记录。")})
    decide_all(cycle, world.approver)
    publicize_cycle(cycle=cycle, actor=world.approver)
    assessment.refresh_from_db()
    record_objection(
        assessment=assessment, actor=world.staff, received_from="群众来信", content="对结果有异议。"
    )
    appeal = apply_for_appeal(
        assessment=assessment,
        actor=world.secretary,
        reason="会议记录已上传，申请复核。",
        items=[items[0]],
        files=[SimpleUploadedFile("会议记录.pdf", DEMO_PDF)],
    )
    accept_appeal(appeal=appeal, actor=world.approver, reason="理由充分，同意复核。")
    now = timezone.now()
    make_certificate(
        assessment, stars=4, issued_at=now, valid_until=now.date() + datetime.timedelta(days=365)
    )
    StandardEvent.objects.create(
        standard=cycle.standard, action="publish", from_status="draft", to_status="published"
    )
    bulletin = Bulletin.objects.create(committee=world.committee, year=2025, quarter=1)
    BulletinEvent.objects.create(
        bulletin=bulletin, action="generate", from_status="generating", to_status="draft"
    )
    JobRun.objects.create(task_name="reports.tasks.generate_bulletin_task", arguments={"year": 2025})
    AccessAttempt.objects.create(
        username="shuji",
        ip_address="10.0.0.1",
        user_agent="Firefox",
        http_accept="*/*",
        path_info="/accounts/login/",
        get_data="",
        post_data="",
        failures_since_start=2,
    )
    AccessFailureLog.objects.create(
        username="shuji",
        ip_address="10.0.0.1",
        user_agent="Firefox",
        http_accept="*/*",
        path_info="/accounts/login/",
    )
    AccessLog.objects.create(
        username="shuji",
        ip_address="10.0.0.1",
        user_agent="Firefox",
        http_accept="*/*",
        path_info="/accounts/login/",
    )
    ClockedSchedule.objects.create(clocked_time=now)
    SolarSchedule.objects.create(event="sunrise", latitude=Decimal("31.23"), longitude=Decimal("121.47"))
    IntervalSchedule.objects.create(every=1, period=IntervalSchedule.DAYS)
    if not PeriodicTask.objects.exists():  # the migrations' schedule, unless a flush took it
        PeriodicTask.objects.create(
            name="季度通报", task="reports.tasks.quarter_end_jobs", crontab=CrontabSchedule.objects.create()
        )
    return assessment


@pytest.fixture
def superuser_client(client, db):
    client.force_login(make_user("chaoguan", "超级管理员", is_superuser=True, is_staff=True))
    return client


def admin_pages():
    """Every changelist, add page and change page of the registered models."""
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        yield reverse("admin:{}_{}_changelist".format(*info))
        yield reverse("admin:{}_{}_add".format(*info))
        row = model._default_manager.order_by("pk").first()
        if row is not None:
            yield reverse("admin:{}_{}_change".format(*info), args=[row.pk])


def test_the_admin_index_names_every_app_in_chinese(superuser_client):
    html = superuser_client.get(reverse("admin:index")).content.decode()
    captions = re.findall(r'<caption>\s*<a[^>]*class="section"[^>]*>([^<]+)</a>', html)
    assert set(captions) >= {
        "组织、人员与角色",
        "评星标准",
        "星级评定",
        "通知、通报与后台任务",
        "登录保护",
        "周期任务",
        "认证和授权",
    }
    assert english_in(labels_of(html)) == set()
    assert "站点管理" in html


def test_every_admin_page_labels_its_columns_fields_and_filters_in_chinese(
    superuser_client, every_kind_of_row
):
    found: dict[str, tuple[str, str]] = {}  # English word → (a label holding it, the page)
    walked = 0
    for url in admin_pages():
        response = superuser_client.get(url)
        if response.status_code == 403:  # read-only models have no add page
            continue
        assert response.status_code == 200, url
        walked += 1
        for label in labels_of(response.content.decode()):
            for word in english_in([label]):
                found.setdefault(word, (label, url))
    assert walked > 50
    assert sorted(found) == [], "\n".join(
        f"{word}: “{label}” on {url}" for word, (label, url) in sorted(found.items())
    )


def test_the_event_actions_show_as_the_workflows_labels(superuser_client, every_kind_of_row):
    html = superuser_client.get(reverse("admin:reviews_assessmentevent_changelist")).content.decode()
    cells = [text for text in labels_of(html) if text in {"提交", "推荐上报", "审定"}]
    assert {"提交", "推荐上报", "审定"} <= set(cells)
    assert not re.search(r'class="field-action_label">(start|submit|forward|decide)<', html)

    # The filter offers the same labels and filters by the stored code.
    filtered = superuser_client.get(
        reverse("admin:reviews_assessmentevent_changelist"), {"action": "forward"}
    )
    assert (
        filtered.context["cl"].result_count == AssessmentEvent.objects.filter(action="forward").count() == 1
    )
    assert "推荐上报" in filtered.content.decode()

    appeal_events = superuser_client.get(reverse("admin:reviews_appealevent_changelist")).content.decode()
    assert "申请复核" in appeal_events and "受理复核申请" in appeal_events
    assert ">apply<" not in appeal_events and ">accept<" not in appeal_events


def test_an_event_reads_as_its_statuses_not_as_an_object_number(superuser_client, every_kind_of_row):
    event = AssessmentEvent.objects.filter(action="forward").get()
    html = superuser_client.get(
        reverse("admin:reviews_assessmentevent_change", args=[event.pk])
    ).content.decode()
    assert "object (" not in html
    assert str(event).endswith(f"{AssessmentStatus.SUBMITTED.label} → {AssessmentStatus.FORWARDED.label}")
    assert str(event).endswith("已提交 → 已推荐")
    assert str(event) in html


def test_the_bulletins_change_column_and_the_admins_change_link_mean_different_things(superuser_client):
    html = superuser_client.get(reverse("admin:index")).content.decode()
    assert "变动类型" not in html
    assert "修改" in html

    from django.utils.translation import pgettext

    assert pgettext("star level change", "Change") == "变动类型"


# --- Django's own messages ------------------------------------------------------------------


def test_a_too_short_password_is_refused_in_chinese_on_the_password_change_page(client, world):
    client.force_login(world.secretary)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "a7#kQ", "new_password2": "a7#kQ"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "密码太短。密码必须包含至少 8 个字符。" in html
    assert "too short" not in html


def test_a_common_or_numeric_password_and_a_missing_field_are_refused_in_chinese(client, world):
    client.force_login(world.secretary)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": ""},
    )
    html = response.content.decode()
    assert "这个字段是必填项。" in html
    assert "This field is required" not in html

    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
    )
    html = response.content.decode()
    assert "这个密码太常见了。" in html
    assert "密码只包含数字。" in html


def test_a_failed_sign_in_says_so_in_chinese(client, world):
    response = client.post(
        reverse("login"), {"username": world.secretary.username, "password": "wrong-password"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "请输入一个正确的" in html
    assert "Please enter a correct" not in html


def test_the_admins_own_messages_are_chinese(superuser_client):
    response = superuser_client.post(
        reverse("admin:auth_group_add"), {"name": "党务助理", "permissions": []}, follow=True
    )
    text = re.sub(r"<[^>]+>", "", response.content.decode())
    assert "成功添加了 组“党务助理”。" in text
    assert "was added successfully" not in text
    assert "Django" not in text  # the site's own name in the header and the title
