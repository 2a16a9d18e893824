"""Every page of the app, as every role, on its own, a sibling's and another committee's objects.

Outside the user's scope a page answers 404, the same as for an id that does not exist; in
scope with a role too low, 403; signed out, a redirect to the sign-in page. The world the
pages are asked about is built once for the module (tests/permission_matrix.py) and every
test runs in a transaction that is rolled back, so a POST that goes through changes nothing
for the next test.

The certificate verification pages are public: they answer signed-out visitors like anyone
else (PUBLIC). A URL added to the project without a row here fails ``test_every_url_has_a_row``.
"""

from contextlib import ExitStack

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.db import transaction
from django.test import override_settings
from django.urls import resolve, reverse

from tests.permission_matrix import (
    ALLOWED_POST,
    DENIED,
    HIDDEN,
    LOGIN,
    MIRROR,
    NOT_ALLOWED,
    NOW,
    ROLES,
    build_world,
    fingerprint,
    pdf,
    project_url_names,
    status_of,
)

pytestmark = pytest.mark.django_db

ROWS = (*ROLES, "anonymous")
OWN, SIBLING, OTHER, CROSSED, NONE, PAGE = "own", "sibling", "other", "crossed", "none", "page"

# --- Which object each column means, per URL ------------------------------------------------
#
# own: B1's (the secretary's branch, under P1, in C1); sibling: B2's (also under P1);
# other: D1's (in the other committee, C2); crossed: C1's cycle with D1's object in the URL.
# Cycle pages take the committee's past cycle: own C1's, other C2's; bulletin pages the
# committee's bulletin. A notice is the branch secretary's: own is B1's secretary's (the
# secretary row's own notice), sibling B2's secretary's, other D1's secretary's.

BRANCH_OF = {OWN: "B1", SIBLING: "B2", OTHER: "D1"}
CYCLE_OF = {OWN: "C1", OTHER: "C2"}
CYCLE_AND_BRANCH_OF = {OWN: ("C1", "B1"), SIBLING: ("C1", "B2"), OTHER: ("C2", "D1"), CROSSED: ("C1", "D1")}


def page(name):
    return {PAGE: lambda w: reverse(name)}


def per_branch(name, objects, attribute="pk"):
    """``objects`` names a World dict keyed by branch code: orgs, past_assessments, …"""
    return {
        column: lambda w, code=code: reverse(name, args=[getattr(getattr(w, objects)[code], attribute)])
        for column, code in BRANCH_OF.items()
    }


def per_committee(name, objects):
    """``objects`` names a World dict keyed by committee code: past, bulletins, …"""
    return {
        column: lambda w, code=code: reverse(name, args=[getattr(w, objects)[code].pk])
        for column, code in CYCLE_OF.items()
    }


def per_cycle(name):
    return per_committee(name, "past")


def posting_committee(name):
    """One URL; the committee is named in the POST (POSTED_COMMITTEE): own C1, other C2."""
    return {column: lambda w: reverse(name) for column in CYCLE_OF}


def per_batch(name):
    """A notice batch of the committee's past cycle: its first, certified one."""
    return {
        column: lambda w, code=code: reverse(name, args=[w.past[code].pk, 1])
        for column, code in CYCLE_OF.items()
    }


def per_cycle_and(name, objects):
    return {
        column: lambda w, cycle=cycle, code=code: reverse(
            name, args=[w.past[cycle].pk, getattr(w, objects)[code].pk]
        )
        for column, (cycle, code) in CYCLE_AND_BRANCH_OF.items()
    }


def per_committee_choice(name):
    """The page with no committee chosen, then with ``?committee=`` C1 and C2."""
    return {
        NONE: lambda w: reverse(name),
        **{
            column: lambda w, code=code: f"{reverse(name)}?committee={w.orgs[code].pk}"
            for column, code in CYCLE_OF.items()
        },
    }


TARGETS = {
    "home": page("home"),
    "favicon": page("favicon"),  # a redirect to the static icon, for anyone
    "health": page("health"),  # the load balancers' check, for anyone
    # The branch's pages. Reading takes the past cycle (where the assessment-team reviewer is
    # assigned to B1), editing the current one (where the branch may still edit).
    "reviews:assessment_detail": per_branch("reviews:assessment_detail", "past_assessments"),
    "reviews:self_assessment": per_branch("reviews:self_assessment", "current_assessments"),
    "reviews:evidence_upload": per_branch("reviews:evidence_upload", "current_assessments"),
    "reviews:evidence_download": per_branch("reviews:evidence_download", "past_evidence"),
    "reviews:evidence_delete": per_branch("reviews:evidence_delete", "current_evidence"),
    # The preliminary review, the assessment team and the decision: the past cycle's rows.
    "reviews:preliminary_queue": page("reviews:preliminary_queue"),
    "reviews:preliminary_review": per_branch("reviews:preliminary_review", "past_assessments"),
    "reviews:preliminary_forward": per_branch("reviews:preliminary_forward", "past_assessments"),
    "reviews:preliminary_return": per_branch("reviews:preliminary_return", "past_assessments"),
    "reviews:team_overview": per_cycle("reviews:team_overview"),
    "reviews:auto_assign": per_cycle("reviews:auto_assign"),
    "reviews:assign_reviewers": per_branch("reviews:assign_reviewers", "past_assessments"),
    "reviews:team_scores": per_branch("reviews:team_scores", "past_assessments"),
    "reviews:my_assignments": page("reviews:my_assignments"),
    "reviews:score": per_branch("reviews:score", "past_assessments"),
    "reviews:cycle_list": page("reviews:cycle_list"),
    "reviews:cycle_open": per_committee_choice("reviews:cycle_open"),
    "reviews:cycle_detail": per_cycle("reviews:cycle_detail"),
    "reviews:cycle_decisions": per_cycle("reviews:cycle_decisions"),
    "reviews:assessment_decide": per_cycle_and("reviews:assessment_decide", "past_assessments"),
    "reviews:cycle_publicize": per_cycle("reviews:cycle_publicize"),
    "reviews:cycle_publicity": per_cycle("reviews:cycle_publicity"),
    "reviews:objection_record": per_cycle_and("reviews:objection_record", "past_assessments"),
    "reviews:objection_resolve": per_cycle_and("reviews:objection_resolve", "objections"),
    "reviews:batch_certify": per_batch("reviews:batch_certify"),
    "reviews:cycle_close": per_cycle("reviews:cycle_close"),
    "reviews:branch_detail": per_branch("reviews:branch_detail", "orgs"),
    "reviews:branch_downgrade": per_branch("reviews:branch_downgrade", "orgs"),
    "reviews:branch_revoke": per_branch("reviews:branch_revoke", "orgs"),
    # Appeals of the past results (B1 and D1 submitted, B2 being re-scored by "reviewer").
    "reviews:appeal_apply": per_branch("reviews:appeal_apply", "past_assessments"),
    "reviews:appeal_list": page("reviews:appeal_list"),
    "reviews:appeal_detail": per_branch("reviews:appeal_detail", "appeals"),
    "reviews:appeal_review": per_branch("reviews:appeal_review", "appeals"),
    "reviews:appeal_assign": per_branch("reviews:appeal_assign", "appeals"),
    "reviews:appeal_score": per_branch("reviews:appeal_score", "appeals"),
    "reviews:appeal_decide": per_branch("reviews:appeal_decide", "appeals"),
    "reviews:appeal_file": per_branch("reviews:appeal_file", "appeal_files"),
    # Notices: the user's own only.
    "reports:notice_list": page("reports:notice_list"),
    "reports:notice_detail": per_branch("reports:notice_detail", "notices"),
    "reports:notice_mark_all_read": page("reports:notice_mark_all_read"),
    # Quarterly bulletins: the committee's 2025 Q1 draft.
    "reports:bulletin_list": page("reports:bulletin_list"),
    "reports:bulletin_detail": per_committee("reports:bulletin_detail", "bulletins"),
    "reports:bulletin_publish": per_committee("reports:bulletin_publish", "bulletins"),
    "reports:bulletin_pdf": per_committee("reports:bulletin_pdf", "bulletins"),
    "reports:bulletin_xlsx": per_committee("reports:bulletin_xlsx", "bulletins"),
    # A party committee's annex to the draft: own P1's, sibling P2's (both in C1), other Q1's (C2).
    "reports:bulletin_annex_pdf": {
        column: lambda w, committee=committee, unit=unit: reverse(
            "reports:bulletin_annex_pdf", args=[w.bulletins[committee].pk, w.orgs[unit].pk]
        )
        for column, (committee, unit) in {
            OWN: ("C1", "P1"),
            SIBLING: ("C1", "P2"),
            OTHER: ("C2", "Q1"),
        }.items()
    },
    # The year bulletin (年度通报): "generate now" names the committee in the POST; the year's
    # link finds the user's committee's one (none in the world: back to the list).
    "reports:year_bulletin_generate": posting_committee("reports:year_bulletin_generate"),
    "reports:year_bulletin_of": {PAGE: lambda w: reverse("reports:year_bulletin_of", args=[2024])},
    # A branch's PDFs: the past assessment's 评定表, the certificate in force; its public check.
    "reports:assessment_pdf": per_branch("reports:assessment_pdf", "past_assessments"),
    "reports:certificate_pdf": per_branch("reports:certificate_pdf", "certificates"),
    "reports:verify": page("reports:verify"),
    "reports:verify_code": per_branch("reports:verify_code", "certificates", "verification_code"),
    # Background jobs: the runs of the world's quarterly jobs, and "generate now".
    "reports:job_list": page("reports:job_list"),
    "reports:job_generate": posting_committee("reports:job_generate"),
}

# --- exports: each list page's "Export to Excel", on the same objects as its page
EXPORTED_PAGES = {
    "reviews:cycle_list_export": "reviews:cycle_list",
    "reviews:cycle_detail_export": "reviews:cycle_detail",
    "reviews:cycle_decisions_export": "reviews:cycle_decisions",
    "reviews:cycle_publicity_export": "reviews:cycle_publicity",
    "reviews:team_overview_export": "reviews:team_overview",
    "reviews:preliminary_queue_export": "reviews:preliminary_queue",
    "reviews:preliminary_review_export": "reviews:preliminary_review",
    "reviews:my_assignments_export": "reviews:my_assignments",
    "reviews:appeal_list_export": "reviews:appeal_list",
    "reviews:branch_detail_export": "reviews:branch_detail",
    "reports:notice_list_export": "reports:notice_list",
    "reports:bulletin_list_export": "reports:bulletin_list",
    "reports:job_list_export": "reports:job_list",
}
TARGETS.update(
    {
        "reviews:cycle_list_export": page("reviews:cycle_list_export"),
        "reviews:cycle_detail_export": per_cycle("reviews:cycle_detail_export"),
        "reviews:cycle_decisions_export": per_cycle("reviews:cycle_decisions_export"),
        "reviews:cycle_publicity_export": per_cycle("reviews:cycle_publicity_export"),
        "reviews:team_overview_export": per_cycle("reviews:team_overview_export"),
        "reviews:preliminary_queue_export": page("reviews:preliminary_queue_export"),
        "reviews:preliminary_review_export": per_branch(
            "reviews:preliminary_review_export", "past_assessments"
        ),
        "reviews:my_assignments_export": page("reviews:my_assignments_export"),
        "reviews:appeal_list_export": page("reviews:appeal_list_export"),
        "reviews:branch_detail_export": per_branch("reviews:branch_detail_export", "orgs"),
        "reports:notice_list_export": page("reports:notice_list_export"),
        "reports:bulletin_list_export": page("reports:bulletin_list_export"),
        "reports:job_list_export": page("reports:job_list_export"),
    }
)
# --- end of exports

# --- The matrix ---------------------------------------------------------------------------------
#
# Rows: secretary of B1 · parent reviewer of P1 · assessment-team reviewer of C1 (assigned to
# B1's past assessment only) · approver of C1 · staff of C1 · staff of P1 (a party committee:
# B1 and B2 but not the committee's cycles) · parent reviewer of P2 (same committee, other
# subtree) · approver of C2 · a signed-in user with no role · signed out.
# Cells follow the URL's columns (TARGETS). LOGIN = redirect to the sign-in page.
# For POST_ONLY pages the cells are the answers to a POST; their GET answers 405.

MATRIX = {
    "home": {
        # columns: page
        "secretary": (200,),
        "parent": (200,),
        "reviewer": (200,),
        "approver": (200,),
        "staff": (200,),
        "p1_staff": (200,),
        "p2_parent": (200,),
        "c2_approver": (200,),
        "outsider": (200,),
        "anonymous": (LOGIN,),
    },
    "reviews:assessment_detail": {
        # columns: own, sibling, other — anyone reading in scope; a reviewer only what is assigned or re-scored on appeal (B2)
        "secretary": (200, 404, 404),
        "parent": (200, 200, 404),
        "reviewer": (200, 200, 404),
        "approver": (200, 200, 404),
        "staff": (200, 200, 404),
        "p1_staff": (200, 200, 404),
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 200),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "reviews:self_assessment": {
        # columns: own, sibling, other — only the branch's own secretary edits
        "secretary": (200, 404, 404),
        "parent": (403, 403, 404),
        "reviewer": (404, 404, 404),  # not assigned in this cycle: cannot even read it
        "approver": (403, 403, 404),
        "staff": (403, 403, 404),
        "p1_staff": (403, 403, 404),
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 403),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "reviews:evidence_upload": {
        # POST only. columns: own, sibling, other
        "secretary": (302, 404, 404),  # the file is attached, back to the form
        "parent": (403, 403, 404),
        "reviewer": (404, 404, 404),
        "approver": (403, 403, 404),
        "staff": (403, 403, 404),
        "p1_staff": (403, 403, 404),
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 403),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "reviews:evidence_download": {
        # columns: own, sibling, other — whoever may read the assessment
        "secretary": (200, 404, 404),
        "parent": (200, 200, 404),
        "reviewer": (200, 200, 404),
        "approver": (200, 200, 404),
        "staff": (200, 200, 404),
        "p1_staff": (200, 200, 404),
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 200),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "reviews:evidence_delete": {
        # columns: own, sibling, other — only the branch's own secretary, while editable
        "secretary": (200, 404, 404),
        "parent": (403, 403, 404),
        "reviewer": (404, 404, 404),
        "approver": (403, 403, 404),
        "staff": (403, 403, 404),
        "p1_staff": (403, 403, 404),
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 403),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "reviews:preliminary_queue": {
        # columns: page — the parent reviewers' queue
        "secretary": (403,),
        "parent": (200,),
        "reviewer": (403,),
        "approver": (403,),
        "staff": (403,),
        "p1_staff": (403,),
        "p2_parent": (200,),
        "c2_approver": (403,),
        "outsider": (403,),
        "anonymous": (LOGIN,),
    },
    "reviews:preliminary_review": {
        # columns: own, sibling, other — the parent organization's reviewer
        "secretary": (403, 404, 404),
        "parent": (200, 200, 404),
        "reviewer": (403, 403, 404),
        "approver": (403, 403, 404),
        "staff": (403, 403, 404),
        "p1_staff": (403, 403, 404),
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 403),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "reviews:preliminary_forward": {
        # POST only. columns: own, sibling, other — certified long ago, so the state refuses
        "secretary": (403, 404, 404),
        "parent": (409, 409, 404),
        "reviewer": (403, 403, 404),
        "approver": (403, 403, 404),
        "staff": (403, 403, 404),
        "p1_staff": (403, 403, 404),
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 403),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "reviews:preliminary_return": {
        # POST only. columns: own, sibling, other
        "secretary": (403, 404, 404),
        "parent": (409, 409, 404),
        "reviewer": (403, 403, 404),
        "approver": (403, 403, 404),
        "staff": (403, 403, 404),
        "p1_staff": (403, 403, 404),
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 403),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "reviews:team_overview": {
        # columns: own, other — the committee's approvers and staff; the cycle is the committee's
        "secretary": (404, 404),
        "parent": (404, 404),
        "reviewer": (403, 404),
        "approver": (200, 404),
        "staff": (200, 404),
        "p1_staff": (404, 404),
        "p2_parent": (404, 404),
        "c2_approver": (404, 200),
        "outsider": (404, 404),
        "anonymous": (LOGIN, LOGIN),
    },
    "reviews:auto_assign": {
        # POST only. columns: own, other — nothing is left to assign, back to the overview
        "secretary": (404, 404),
        "parent": (404, 404),
        "reviewer": (403, 404),
        "approver": (302, 404),
        "staff": (302, 404),
        "p1_staff": (404, 404),
        "p2_parent": (404, 404),
        "c2_approver": (404, 302),
        "outsider": (404, 404),
        "anonymous": (LOGIN, LOGIN),
    },
    "reviews:assign_reviewers": {
        # columns: own, sibling, other
        "secretary": (403, 404, 404),
        "parent": (403, 403, 404),
        "reviewer": (403, 403, 404),
        "approver": (200, 200, 404),
        "staff": (200, 200, 404),
        "p1_staff": (403, 403, 404),
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 200),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "reviews:team_scores": {
        # columns: own, sibling, other
        "secretary": (403, 404, 404),
        "parent": (403, 403, 404),
        "reviewer": (403, 403, 404),
        "approver": (200, 200, 404),
        "staff": (200, 200, 404),
        "p1_staff": (403, 403, 404),
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 200),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "reviews:my_assignments": {
        # columns: page
        "secretary": (403,),
        "parent": (403,),
        "reviewer": (200,),
        "approver": (403,),
        "staff": (403,),
        "p1_staff": (403,),
        "p2_parent": (403,),
        "c2_approver": (403,),
        "outsider": (403,),
        "anonymous": (LOGIN,),
    },
    "reviews:score": {
        # columns: own, sibling, other — the URL names the user's own score sheet, which
        # nobody but the assigned reviewer has: 404 for everyone else, as for a missing row
        "secretary": (404, 404, 404),
        "parent": (404, 404, 404),
        "reviewer": (200, 404, 404),
        "approver": (404, 404, 404),
        "staff": (404, 404, 404),
        "p1_staff": (404, 404, 404),
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 404),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "reviews:cycle_list": {
        # columns: page — everyone sees the cycles in their scope (maybe none)
        "secretary": (200,),
        "parent": (200,),
        "reviewer": (200,),
        "approver": (200,),
        "staff": (200,),
        "p1_staff": (200,),
        "p2_parent": (200,),
        "c2_approver": (200,),
        "outsider": (200,),
        "anonymous": (LOGIN,),
    },
    "reviews:cycle_open": {
        # columns: none chosen, ?committee=C1, ?committee=C2
        "secretary": (403, 404, 404),
        "parent": (403, 404, 404),
        "reviewer": (403, 403, 404),
        "approver": (200, 200, 404),
        "staff": (200, 200, 404),
        "p1_staff": (403, 404, 404),
        "p2_parent": (403, 404, 404),
        "c2_approver": (200, 404, 200),
        "outsider": (403, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "reviews:cycle_detail": {
        # columns: own, other
        "secretary": (404, 404),
        "parent": (404, 404),
        "reviewer": (200, 404),
        "approver": (200, 404),
        "staff": (200, 404),
        "p1_staff": (404, 404),
        "p2_parent": (404, 404),
        "c2_approver": (404, 200),
        "outsider": (404, 404),
        "anonymous": (LOGIN, LOGIN),
    },
    "reviews:cycle_decisions": {
        # columns: own, other
        "secretary": (404, 404),
        "parent": (404, 404),
        "reviewer": (403, 404),
        "approver": (200, 404),
        "staff": (200, 404),
        "p1_staff": (404, 404),
        "p2_parent": (404, 404),
        "c2_approver": (404, 200),
        "outsider": (404, 404),
        "anonymous": (LOGIN, LOGIN),
    },
    "reviews:assessment_decide": {
        # columns: own, sibling, other, crossed (C1's cycle, D1's assessment)
        "secretary": (404, 404, 404, 404),
        "parent": (404, 404, 404, 404),
        "reviewer": (403, 403, 404, 403),  # refused on the cycle, before the assessment is looked up
        "approver": (200, 200, 404, 404),
        "staff": (200, 200, 404, 404),
        "p1_staff": (404, 404, 404, 404),
        "p2_parent": (404, 404, 404, 404),
        "c2_approver": (404, 404, 200, 404),
        "outsider": (404, 404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN, LOGIN),
    },
    "reviews:cycle_publicize": {
        # columns: own, other
        "secretary": (404, 404),
        "parent": (404, 404),
        "reviewer": (403, 404),
        "approver": (200, 404),
        "staff": (200, 404),
        "p1_staff": (404, 404),
        "p2_parent": (404, 404),
        "c2_approver": (404, 200),
        "outsider": (404, 404),
        "anonymous": (LOGIN, LOGIN),
    },
    "reviews:cycle_publicity": {
        # columns: own, other
        "secretary": (404, 404),
        "parent": (404, 404),
        "reviewer": (200, 404),
        "approver": (200, 404),
        "staff": (200, 404),
        "p1_staff": (404, 404),
        "p2_parent": (404, 404),
        "c2_approver": (404, 200),
        "outsider": (404, 404),
        "anonymous": (LOGIN, LOGIN),
    },
    "reviews:objection_record": {
        # columns: own, sibling, other, crossed
        "secretary": (404, 404, 404, 404),
        "parent": (404, 404, 404, 404),
        "reviewer": (403, 403, 404, 404),
        "approver": (200, 200, 404, 404),
        "staff": (200, 200, 404, 404),
        "p1_staff": (404, 404, 404, 404),
        "p2_parent": (404, 404, 404, 404),
        "c2_approver": (404, 404, 200, 404),
        "outsider": (404, 404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN, LOGIN),
    },
    "reviews:objection_resolve": {
        # columns: own, sibling, other, crossed — only approvers rule on objections
        "secretary": (404, 404, 404, 404),
        "parent": (404, 404, 404, 404),
        "reviewer": (403, 403, 404, 404),
        "approver": (200, 200, 404, 404),
        "staff": (403, 403, 404, 404),
        "p1_staff": (404, 404, 404, 404),
        "p2_parent": (404, 404, 404, 404),
        "c2_approver": (404, 404, 200, 404),
        "outsider": (404, 404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN, LOGIN),
    },
    "reviews:batch_certify": {
        # columns: own, other — only approvers certify
        "secretary": (404, 404),
        "parent": (404, 404),
        "reviewer": (403, 404),
        "approver": (200, 404),
        "staff": (403, 404),
        "p1_staff": (404, 404),
        "p2_parent": (404, 404),
        "c2_approver": (404, 200),
        "outsider": (404, 404),
        "anonymous": (LOGIN, LOGIN),
    },
    "reviews:cycle_close": {
        # columns: own, other — only approvers close a cycle
        "secretary": (404, 404),
        "parent": (404, 404),
        "reviewer": (403, 404),
        "approver": (200, 404),
        "staff": (403, 404),
        "p1_staff": (404, 404),
        "p2_parent": (404, 404),
        "c2_approver": (404, 200),
        "outsider": (404, 404),
        "anonymous": (LOGIN, LOGIN),
    },
    "reviews:branch_detail": {
        # columns: own, sibling, other
        "secretary": (200, 404, 404),
        "parent": (200, 200, 404),
        "reviewer": (200, 200, 404),
        "approver": (200, 200, 404),
        "staff": (200, 200, 404),
        "p1_staff": (200, 200, 404),
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 200),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "reviews:branch_downgrade": {
        # columns: own, sibling, other — only approvers lower a star
        "secretary": (403, 404, 404),
        "parent": (403, 403, 404),
        "reviewer": (403, 403, 404),
        "approver": (200, 200, 404),
        "staff": (403, 403, 404),
        "p1_staff": (403, 403, 404),
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 200),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "reviews:branch_revoke": {
        # columns: own, sibling, other — only approvers revoke
        "secretary": (403, 404, 404),
        "parent": (403, 403, 404),
        "reviewer": (403, 403, 404),
        "approver": (200, 200, 404),
        "staff": (403, 403, 404),
        "p1_staff": (403, 403, 404),
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 200),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "reviews:appeal_apply": {
        # columns: own, sibling, other — the branch's secretary; B1's past result is appealed already (409)
        "secretary": (409, 404, 404),
        "parent": (403, 403, 404),
        "reviewer": (403, 403, 404),
        "approver": (403, 403, 404),
        "staff": (403, 403, 404),
        "p1_staff": (403, 403, 404),
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 403),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "reviews:appeal_list": {
        # columns: page — the committee's approvers and staff, and re-reviewers
        "secretary": (403,),
        "parent": (403,),
        "reviewer": (200,),
        "approver": (200,),
        "staff": (200,),
        "p1_staff": (200,),
        "p2_parent": (403,),
        "c2_approver": (200,),
        "outsider": (403,),
        "anonymous": (LOGIN,),
    },
    "reviews:appeal_detail": {
        # columns: own, sibling, other — whoever reads the result in the tree, and its re-reviewers
        "secretary": (200, 404, 404),
        "parent": (200, 200, 404),
        "reviewer": (404, 200, 404),
        "approver": (200, 200, 404),
        "staff": (200, 200, 404),
        "p1_staff": (200, 200, 404),
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 200),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "reviews:appeal_review": {
        # columns: own, sibling, other — only approvers accept or reject
        "secretary": (403, 404, 404),
        "parent": (403, 403, 404),
        "reviewer": (404, 403, 404),
        "approver": (200, 200, 404),
        "staff": (403, 403, 404),
        "p1_staff": (403, 403, 404),
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 200),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "reviews:appeal_assign": {
        # columns: own, sibling, other — the committee's approvers and staff
        "secretary": (403, 404, 404),
        "parent": (403, 403, 404),
        "reviewer": (404, 403, 404),
        "approver": (200, 200, 404),
        "staff": (200, 200, 404),
        "p1_staff": (403, 403, 404),
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 200),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "reviews:appeal_score": {
        # columns: own, sibling, other — the user's own re-scoring sheet: the assigned re-reviewer only
        "secretary": (404, 404, 404),
        "parent": (404, 404, 404),
        "reviewer": (404, 200, 404),
        "approver": (404, 404, 404),
        "staff": (404, 404, 404),
        "p1_staff": (404, 404, 404),
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 404),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "reviews:appeal_decide": {
        # columns: own, sibling, other — only approvers decide the outcome
        "secretary": (403, 404, 404),
        "parent": (403, 403, 404),
        "reviewer": (404, 403, 404),
        "approver": (200, 200, 404),
        "staff": (403, 403, 404),
        "p1_staff": (403, 403, 404),
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 200),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "reviews:appeal_file": {
        # columns: own, sibling, other — whoever may read the appeal
        "secretary": (200, 404, 404),
        "parent": (200, 200, 404),
        "reviewer": (404, 200, 404),
        "approver": (200, 200, 404),
        "staff": (200, 200, 404),
        "p1_staff": (200, 200, 404),
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 200),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "reports:notice_list": {
        # columns: page — everyone has a notices page, with their own notices only
        "secretary": (200,),
        "parent": (200,),
        "reviewer": (200,),
        "approver": (200,),
        "staff": (200,),
        "p1_staff": (200,),
        "p2_parent": (200,),
        "c2_approver": (200,),
        "outsider": (200,),
        "anonymous": (LOGIN,),
    },
    "reports:notice_detail": {
        # columns: own, sibling, other — only the recipient opens a notice (and marks it read)
        "secretary": (200, 404, 404),
        "parent": (404, 404, 404),
        "reviewer": (404, 404, 404),
        "approver": (404, 404, 404),
        "staff": (404, 404, 404),
        "p1_staff": (404, 404, 404),
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 404),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "reports:notice_mark_all_read": {
        # POST only. columns: page — marks the user's own notices read, back to the list
        "secretary": (302,),
        "parent": (302,),
        "reviewer": (302,),
        "approver": (302,),
        "staff": (302,),
        "p1_staff": (302,),
        "p2_parent": (302,),
        "c2_approver": (302,),
        "outsider": (302,),
        "anonymous": (LOGIN,),
    },
    "reports:bulletin_list": {
        # columns: page — staff and approvers of a committee; any other role is too low
        "secretary": (403,),
        "parent": (403,),
        "reviewer": (403,),
        "approver": (200,),
        "staff": (200,),
        "p1_staff": (403,),
        "p2_parent": (403,),
        "c2_approver": (200,),
        "outsider": (403,),
        "anonymous": (LOGIN,),
    },
    "reports:bulletin_detail": {
        # columns: own, other — staff and approvers of the committee; other roles in its tree 403
        "secretary": (403, 404),
        "parent": (403, 404),
        "reviewer": (403, 404),
        "approver": (200, 404),
        "staff": (200, 404),
        "p1_staff": (403, 404),
        "p2_parent": (403, 404),
        "c2_approver": (404, 200),
        "outsider": (404, 404),
        "anonymous": (LOGIN, LOGIN),
    },
    "reports:bulletin_publish": {
        # POST only. columns: own, other — the draft is published, back to the bulletin
        "secretary": (403, 404),
        "parent": (403, 404),
        "reviewer": (403, 404),
        "approver": (302, 404),
        "staff": (302, 404),
        "p1_staff": (403, 404),
        "p2_parent": (403, 404),
        "c2_approver": (404, 302),
        "outsider": (404, 404),
        "anonymous": (LOGIN, LOGIN),
    },
    "reports:bulletin_pdf": {
        # columns: own, other
        "secretary": (403, 404),
        "parent": (403, 404),
        "reviewer": (403, 404),
        "approver": (200, 404),
        "staff": (200, 404),
        "p1_staff": (403, 404),
        "p2_parent": (403, 404),
        "c2_approver": (404, 200),
        "outsider": (404, 404),
        "anonymous": (LOGIN, LOGIN),
    },
    "reports:bulletin_xlsx": {
        # columns: own, other
        "secretary": (403, 404),
        "parent": (403, 404),
        "reviewer": (403, 404),
        "approver": (200, 404),
        "staff": (200, 404),
        "p1_staff": (403, 404),
        "p2_parent": (403, 404),
        "c2_approver": (404, 200),
        "outsider": (404, 404),
        "anonymous": (LOGIN, LOGIN),
    },
    "reports:bulletin_annex_pdf": {
        # columns: own, sibling, other — staff and approvers of the committee read every annex of
        # the draft; a party committee's own people only their own, once published (404 before)
        "secretary": (404, 404, 404),
        "parent": (404, 404, 404),
        "reviewer": (404, 404, 404),
        "approver": (200, 200, 404),
        "staff": (200, 200, 404),
        "p1_staff": (404, 404, 404),
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 200),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "reports:assessment_pdf": {
        # columns: own, sibling, other — the 评定表: whoever may read the assessment (as assessment_detail)
        "secretary": (200, 404, 404),
        "parent": (200, 200, 404),
        "reviewer": (200, 200, 404),
        "approver": (200, 200, 404),
        "staff": (200, 200, 404),
        "p1_staff": (200, 200, 404),
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 200),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "reports:certificate_pdf": {
        # columns: own, sibling, other — anyone who can see the branch (as branch_detail)
        "secretary": (200, 404, 404),
        "parent": (200, 200, 404),
        "reviewer": (200, 200, 404),
        "approver": (200, 200, 404),
        "staff": (200, 200, 404),
        "p1_staff": (200, 200, 404),
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 200),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    },
    "health": {
        # columns: page — public: the services' state as JSON, no sign-in, for load balancers
        "secretary": (200,),
        "parent": (200,),
        "reviewer": (200,),
        "approver": (200,),
        "staff": (200,),
        "p1_staff": (200,),
        "p2_parent": (200,),
        "c2_approver": (200,),
        "outsider": (200,),
        "anonymous": (200,),
    },
    "favicon": {
        # columns: page — public: the redirect to the static favicon.ico
        "secretary": (302,),
        "parent": (302,),
        "reviewer": (302,),
        "approver": (302,),
        "staff": (302,),
        "p1_staff": (302,),
        "p2_parent": (302,),
        "c2_approver": (302,),
        "outsider": (302,),
        "anonymous": (302,),
    },
    "reports:verify": {
        # columns: page — public: no sign-in needed
        "secretary": (200,),
        "parent": (200,),
        "reviewer": (200,),
        "approver": (200,),
        "staff": (200,),
        "p1_staff": (200,),
        "p2_parent": (200,),
        "c2_approver": (200,),
        "outsider": (200,),
        "anonymous": (200,),
    },
    "reports:verify_code": {
        # columns: own, sibling, other (the certificates' codes) — public: anyone may check any code
        "secretary": (200, 200, 200),
        "parent": (200, 200, 200),
        "reviewer": (200, 200, 200),
        "approver": (200, 200, 200),
        "staff": (200, 200, 200),
        "p1_staff": (200, 200, 200),
        "p2_parent": (200, 200, 200),
        "c2_approver": (200, 200, 200),
        "outsider": (200, 200, 200),
        "anonymous": (200, 200, 200),
    },
    "reports:job_list": {
        # columns: page — staff and approvers of a committee (a party committee's staff is not)
        "secretary": (403,),
        "parent": (403,),
        "reviewer": (403,),
        "approver": (200,),
        "staff": (200,),
        "p1_staff": (403,),
        "p2_parent": (403,),
        "c2_approver": (200,),
        "outsider": (403,),
        "anonymous": (LOGIN,),
    },
    "reports:year_bulletin_generate": {
        # POST only. columns: committee C1, C2 in the form — 2024's checks are not published, so
        # the committee's managers are sent back with the reason; without the role 403 either way
        "secretary": (403, 403),
        "parent": (403, 403),
        "reviewer": (403, 403),
        "approver": (302, 404),
        "staff": (302, 404),
        "p1_staff": (403, 403),
        "p2_parent": (403, 403),
        "c2_approver": (404, 302),
        "outsider": (403, 403),
        "anonymous": (LOGIN, LOGIN),
    },
    "reports:year_bulletin_of": {
        # columns: page — staff and approvers of a committee (to its year bulletin, or the list)
        "secretary": (403,),
        "parent": (403,),
        "reviewer": (403,),
        "approver": (302,),
        "staff": (302,),
        "p1_staff": (403,),
        "p2_parent": (403,),
        "c2_approver": (302,),
        "outsider": (403,),
        "anonymous": (LOGIN,),
    },
    "reports:job_generate": {
        # POST only. columns: committee C1, C2 in the form — without a job role 403 whichever committee
        "secretary": (403, 403),
        "parent": (403, 403),
        "reviewer": (403, 403),
        "approver": (302, 404),
        "staff": (302, 404),
        "p1_staff": (403, 403),
        "p2_parent": (403, 403),
        "c2_approver": (404, 302),
        "outsider": (403, 403),
        "anonymous": (LOGIN, LOGIN),
    },
}

# --- exports: an export answers every role exactly as the list page it exports
MATRIX.update({export: MATRIX[listed] for export, listed in EXPORTED_PAGES.items()})
# --- end of exports

# Pages that take only POST: the matrix gives the POST answers.
POST_ONLY = frozenset(
    {
        "reviews:evidence_upload",
        "reviews:preliminary_forward",
        "reviews:preliminary_return",
        "reviews:auto_assign",
        "reports:notice_mark_all_read",
        "reports:bulletin_publish",
        "reports:job_generate",
        "reports:year_bulletin_generate",
    }
)
# Pages that show a form on GET and change something on POST. The POST answer is the GET
# answer where the GET is refused; where it is allowed, one of ALLOWED_POST.
ALSO_POST = frozenset(
    {
        "reviews:self_assessment",
        "reviews:evidence_delete",
        "reviews:assign_reviewers",
        "reviews:score",
        "reviews:cycle_open",
        "reviews:assessment_decide",
        "reviews:cycle_publicize",
        "reviews:objection_record",
        "reviews:objection_resolve",
        "reviews:batch_certify",
        "reviews:cycle_close",
        "reviews:branch_downgrade",
        "reviews:branch_revoke",
        "reviews:appeal_apply",
        "reviews:appeal_review",
        "reviews:appeal_assign",
        "reviews:appeal_score",
        "reviews:appeal_decide",
        "reports:bulletin_list",  # "generate now"
    }
)
# Pages a signed-out visitor may use: their anonymous cells are answers, not LOGIN.
PUBLIC = frozenset({"favicon", "health", "reports:verify", "reports:verify_code"})
# Pages whose GET writes (opening a notice marks it read): a refused GET must change nothing too.
GET_WRITES = frozenset({"reports:notice_detail"})

# Where a role may look at the form but not send it: the POST answers differ from the GET's.
POST_REFUSED = {
    "reviews:assessment_decide": {"staff": (403, 403, 404, 404)},  # staff see the scores; approvers decide
}

# What is posted: a complete, valid request, so that a refusal is a refusal and not a
# form that failed to validate. Pages not listed get an empty POST.
POST_DATA = {
    "reviews:self_assessment": lambda w: {
        "action": "save",
        f"score_{w.item.pk}": "0.5",
        f"explanation_{w.item.pk}": "改写",
    },
    "reviews:evidence_upload": lambda w: {"item": w.item.pk, f"evidence_{w.item.pk}": pdf("改写.pdf")},
    "reviews:preliminary_forward": lambda w: {"recommendation": "同意推荐。"},
    "reviews:preliminary_return": lambda w: {"reason": "材料不全，请补充。"},
    "reviews:assign_reviewers": lambda w: {"reviewers": [w.users["second_reviewer"].pk]},
    "reviews:score": lambda w: {
        "action": "save",
        f"score_{w.item.pk}": "0.5",
        f"comment_{w.item.pk}": "改写",
    },
    "reviews:cycle_open": lambda w: {
        "name": "2026年度星级认定",
        "standard": w.standard.pk,
        "self_assessment_deadline": "2026-05-31",
        "preliminary_deadline": "2026-06-15",
        "scoring_deadline": "2026-06-30",
        "validity_months": "24",
        "publicity_days": "5",
        "reviewers_per_branch": "3",
        "disagreement_fraction": "0.333",
    },
    "reviews:assessment_decide": lambda w: {"stars": "4", "reason": "复核后调整。"},
    "reviews:objection_record": lambda w: {"received_from": "群众来信", "content": "有异议。"},
    "reviews:objection_resolve": lambda w: {"resolution": "改判。"},
    "reviews:branch_downgrade": lambda w: {
        "to_stars": "3",
        "violation": "违反组织纪律",
        "reason": "经查属实。",
        "confirm": "on",
    },
    "reviews:branch_revoke": lambda w: {"violation": "违反组织纪律", "reason": "经查属实。", "confirm": "on"},
    "reviews:appeal_apply": lambda w: {"reason": "申请复核。", "items": [w.item.pk]},
    "reviews:appeal_review": lambda w: {"decision": "reject", "reason": "扣分依据充分。"},
    "reviews:appeal_assign": lambda w: {"reviewers": [w.users["second_reviewer"].pk]},
    "reviews:appeal_score": lambda w: {
        "action": "save",
        f"score_{w.item.pk}": "0.5",
        f"comment_{w.item.pk}": "复核",
    },
    "reviews:appeal_decide": lambda w: {"stars": "4", "reason": "复核后调整。"},
    "reports:bulletin_publish": lambda w: {"confirm": "yes"},
    # A quarter with no bulletin yet; the form offers C1 and C2 each only to their own people,
    # so the approver of C2 sending C1 gets the form back with an error (400).
    "reports:bulletin_list": lambda w: {"committee": w.orgs["C1"].pk, "quarter": "2024-4"},
}
# Pages whose object is named in the POST rather than in the URL: the payload per column.
POSTED_COMMITTEE = {
    "reports:year_bulletin_generate": lambda w, code: {"committee": w.orgs[code].pk, "year": "2024"},
    "reports:job_generate": lambda w, code: {
        "committee": w.orgs[code].pk,
        "year": "2024",
        "quarter": "4",
        "jobs": ["notices"],
    },
}

# --- directory import: staff of a working committee (and superusers) only. The pages of an
# upload name a token that was never uploaded: 404 for whoever may import, 403 for the rest.
IMPORT_NO_UPLOAD = "x" * 32
TARGETS.update(
    {
        "directory:import": page("directory:import"),
        "directory:import_template": page("directory:import_template"),
        **{
            name: {PAGE: lambda w, name=name: reverse(name, args=[IMPORT_NO_UPLOAD])}
            for name in (
                "directory:import_preview",
                "directory:import_confirm",
                "directory:import_result",
                "directory:import_passwords",
            )
        },
    }
)


def _import_row(staff):
    return {
        role: ((staff,) if role == "staff" else (LOGIN,) if role == "anonymous" else (403,)) for role in ROWS
    }


MATRIX.update(
    {
        "directory:import": _import_row(200),  # an empty POST is the form again with its error (400)
        "directory:import_template": _import_row(200),
        "directory:import_preview": _import_row(404),
        "directory:import_confirm": _import_row(404),  # POST only
        "directory:import_result": _import_row(404),
        "directory:import_passwords": _import_row(404),
    }
)
POST_ONLY = POST_ONLY | {"directory:import_confirm"}
ALSO_POST = ALSO_POST | {"directory:import"}
# --- end of directory import


# --- the progress page of a large cycle-wide operation: only the session that started the job
# knows its token (tests/reviews/test_bulk_jobs.py); any other token is 404 to whoever signs in.
TARGETS["reports:bulk_job"] = {PAGE: lambda w: reverse("reports:bulk_job", args=["x" * 32])}
MATRIX["reports:bulk_job"] = {role: ((LOGIN,) if role == "anonymous" else (404,)) for role in ROWS}
# --- end of the bulk job page


# --- publicity reader: the 公示 for every member of a committee's tree. The world has no result
# under public notice (its past batches are certified), so every objection page answers 404, the
# same as for a result that never was published; tests/reviews/test_publicity_reader.py covers
# a running notice, its readers and the outsiders.
TARGETS.update(
    {
        "reviews:public_notice": page("reviews:public_notice"),
        "reviews:public_notice_export": page("reviews:public_notice_export"),
        "reviews:objection_lodge": per_branch("reviews:objection_lodge", "past_assessments"),
    }
)
MATRIX.update(
    {
        "reviews:public_notice": {
            role: ((LOGIN,) if role == "anonymous" else (200,)) for role in ROWS
        },  # an empty list for whoever reaches no committee
        "reviews:objection_lodge": {
            role: ((LOGIN,) * 3 if role == "anonymous" else (404,) * 3) for role in ROWS
        },  # columns: own, sibling, other — certified results take no objection
    }
)
MATRIX["reviews:public_notice_export"] = MATRIX["reviews:public_notice"]
ALSO_POST = ALSO_POST | {"reviews:objection_lodge"}
POST_DATA["reviews:objection_lodge"] = lambda w: {"content": "有异议。", "contact": "13800000000"}
# --- end of publicity reader


# --- directory: organizations, people and roles, search, the audit trail. Staff manage their
# subtree (p1_staff: P1's); outside it 404, a lower role in scope 403. A person's columns are
# the branch secretaries of B1 (own), B2 (sibling) and D1 (other); non-staff look after nobody,
# so every person page answers them 404. The audit trail is for staff of a working committee.
PERSON_OF = {OWN: "secretary", SIBLING: "b2_secretary", OTHER: "d1_secretary"}


def per_person(name):
    return {
        column: lambda w, who=who: reverse(name, args=[w.users[who].pk]) for column, who in PERSON_OF.items()
    }


def per_assignment(name):
    def url(w, who):
        from branches.models import RoleAssignment

        return reverse(name, args=[RoleAssignment.objects.get(user=w.users[who]).pk])

    return {column: lambda w, who=who: url(w, who) for column, who in PERSON_OF.items()}


TARGETS.update(
    {
        "directory:org_tree": page("directory:org_tree"),
        "directory:org_create": page("directory:org_create"),
        "directory:org_export": page("directory:org_export"),
        "directory:org_detail": per_branch("directory:org_detail", "orgs"),
        "directory:org_edit": per_branch("directory:org_edit", "orgs"),
        "directory:org_deactivate": per_branch("directory:org_deactivate", "orgs"),
        "directory:org_reactivate": per_branch("directory:org_reactivate", "orgs"),
        "directory:person_list": page("directory:person_list"),
        "directory:person_create": page("directory:person_create"),
        "directory:person_export": page("directory:person_export"),
        "directory:person_detail": per_person("directory:person_detail"),
        "directory:person_edit": per_person("directory:person_edit"),
        "directory:person_deactivate": per_person("directory:person_deactivate"),
        "directory:person_reactivate": per_person("directory:person_reactivate"),
        "directory:person_reset_password": per_person("directory:person_reset_password"),
        "directory:role_grant": per_person("directory:role_grant"),
        "directory:role_revoke": per_assignment("directory:role_revoke"),
        "directory:search": page("directory:search"),
        "directory:audit": page("directory:audit"),
        "directory:audit_export": page("directory:audit_export"),
    }
)


def _staff_page(staff=200):
    """A page of the staff: staff of C1 and of P1 get ``staff``, everyone else 403."""
    return {
        role: ((staff,) if role in ("staff", "p1_staff") else (LOGIN,) if role == "anonymous" else (403,))
        for role in ROWS
    }


def _staff_person(own, sibling=None):
    """A person page: staff of C1 and P1 reach B1's and B2's secretaries, nobody D1's from here."""
    sibling = own if sibling is None else sibling
    return {
        role: (
            (own, sibling, 404)
            if role in ("staff", "p1_staff")
            else (LOGIN,) * 3
            if role == "anonymous"
            else (404, 404, 404)
        )
        for role in ROWS
    }


def _staff_org(staff):
    """An organization's own page (own B1, sibling B2, other D1): in scope but not staff → 403."""
    return {
        "secretary": (403, 404, 404),
        "parent": (403, 403, 404),
        "reviewer": (403, 403, 404),
        "approver": (403, 403, 404),
        "staff": staff,
        "p1_staff": staff,
        "p2_parent": (404, 404, 404),
        "c2_approver": (404, 404, 403),
        "outsider": (404, 404, 404),
        "anonymous": (LOGIN, LOGIN, LOGIN),
    }


MATRIX.update(
    {
        "directory:org_tree": _staff_page(),
        "directory:org_create": _staff_page(),
        "directory:org_export": _staff_page(),
        "directory:org_detail": _staff_org((200, 200, 404)),
        "directory:org_edit": _staff_org((200, 200, 404)),
        # POST only: B1 and B2 have a draft in the open current cycle, so deactivating is refused (409).
        "directory:org_deactivate": _staff_org((409, 409, 404)),
        "directory:org_reactivate": _staff_org((302, 302, 404)),
        "directory:person_list": _staff_page(),
        "directory:person_create": _staff_page(),
        "directory:person_export": _staff_page(),
        "directory:person_detail": _staff_person(200),
        "directory:person_edit": _staff_person(200),
        "directory:person_deactivate": _staff_person(302),  # POST only
        "directory:person_reactivate": _staff_person(302),  # POST only
        "directory:person_reset_password": _staff_person(302),  # POST only
        "directory:role_grant": _staff_person(200),
        "directory:role_revoke": _staff_person(302),  # POST only
        "directory:search": {
            role: (
                (200,)
                if role in ("parent", "approver", "staff", "p1_staff", "p2_parent", "c2_approver")
                else (LOGIN,)
                if role == "anonymous"
                else (403,)
            )
            for role in ROWS
        },
        "directory:audit": {
            role: ((200,) if role == "staff" else (LOGIN,) if role == "anonymous" else (403,))
            for role in ROWS
        },
        "directory:audit_export": {
            role: ((200,) if role == "staff" else (LOGIN,) if role == "anonymous" else (403,))
            for role in ROWS
        },
    }
)
POST_ONLY = POST_ONLY | {
    "directory:org_deactivate",
    "directory:org_reactivate",
    "directory:person_deactivate",
    "directory:person_reactivate",
    "directory:person_reset_password",
    "directory:role_revoke",
}
ALSO_POST = ALSO_POST | {
    "directory:org_create",
    "directory:org_edit",
    "directory:person_create",
    "directory:person_edit",
    "directory:role_grant",
}
POST_DATA.update(
    {
        "directory:org_create": lambda w: {
            "name": "矩阵新支部",
            "code": "MX1",
            "kind": "branch",
            "parent": w.orgs["P1"].pk,
            "stage": "basic",
            "sort_order": "0",
        },
        # B1's own values but the name: a change for B1; for B2 the code is taken (400).
        "directory:org_edit": lambda w: {
            "name": "矩阵改名支部",
            "code": "B1",
            "kind": "branch",
            "parent": w.orgs["P1"].pk,
            "stage": "basic",
            "sort_order": "0",
        },
        "directory:person_create": lambda w: {"username": "matrix_new", "real_name": "矩阵新人"},
        "directory:person_edit": lambda w: {"real_name": "矩阵改名", "phone": "13800000000", "email": ""},
        "directory:role_grant": lambda w: {"role": "parent_reviewer", "organization": w.orgs["P1"].pk},
    }
)
# --- end of directory


# --- checks: quarterly checks (季度考核), monthly checks, year results, downgrade proposals. Each
# committee's 2025 Q2 round is open with every sheet still to score (so publishing and returning
# answer 409); B1, B2 and D1 each have a monthly check with a violation and a file, a flag and
# the downgrade proposal that check made. A round is visible to everyone holding a role in its
# committee; a sheet, a check, a file or a flag to whoever reaches its branch; proposals to the
# committee's approvers and staff. Scoring is the parent reviewer's, the self-report the
# secretary's, the flag's action the parent reviewer's, the decision the approver's.


def _everyone(answer):
    return {role: ((LOGIN,) if role == "anonymous" else (answer,)) for role in ROWS}


def _managers_page(answer=200):
    """A page of the committees' approvers and staff (C1's and C2's); the others 403."""
    return {
        role: (
            (LOGIN,)
            if role == "anonymous"
            else (answer,)
            if role in ("approver", "staff", "c2_approver")
            else (403,)
        )
        for role in ROWS
    }


def _committee_round(own, other_for_c2=None, *, managers=None):
    """own/other: C1's and C2's round, seen by each row (everyone with a role in the committee)."""
    managers = managers or {}
    c2 = other_for_c2 if other_for_c2 is not None else own
    row = {}
    for role in ROWS:
        if role == "anonymous":
            row[role] = (LOGIN, LOGIN)
        elif role == "outsider":
            row[role] = (404, 404)
        elif role == "c2_approver":
            row[role] = (404, c2)
        else:
            row[role] = (managers.get(role, own), 404)
    return row


def _branch_cells(cells, c2):
    """Per branch (B1, B2, D1): ``cells`` for the C1 rows; C2's approver gets (404, 404, c2)."""
    row = {role: cells.get(role, (404, 404, 404)) for role in ROWS}
    row["c2_approver"] = (404, 404, c2)
    row["anonymous"] = (LOGIN, LOGIN, LOGIN)
    return row


# Whoever reaches the branch through the tree, and is refused (403) an action not theirs.
_TREE_REFUSED = {
    "secretary": (403, 404, 404),
    "parent": (403, 403, 404),
    "approver": (403, 403, 404),
    "staff": (403, 403, 404),
    "p1_staff": (403, 403, 404),
}
_TREE_READ = {
    "secretary": (200, 404, 404),
    "parent": (200, 200, 404),
    "approver": (200, 200, 404),
    "staff": (200, 200, 404),
    "p1_staff": (200, 200, 404),
}

TARGETS.update(
    {
        "checks:round_list": page("checks:round_list"),
        "checks:round_open": page("checks:round_open"),
        "checks:round_detail": per_committee("checks:round_detail", "check_rounds"),
        "checks:round_publish": per_committee("checks:round_publish", "check_rounds"),
        "checks:round_export": per_committee("checks:round_export", "check_rounds"),
        "checks:sheet_score": per_branch("checks:sheet_score", "check_sheets"),
        "checks:sheet_self_report": per_branch("checks:sheet_self_report", "check_sheets"),
        "checks:sheet_return": per_branch("checks:sheet_return", "check_sheets"),
        "checks:entry_list": page("checks:entry_list"),
        "checks:entry_new": page("checks:entry_new"),
        "checks:entry_detail": per_branch("checks:entry_detail", "check_entries"),
        "checks:check_file": per_branch("checks:check_file", "check_files"),
        "checks:year_results": page("checks:year_results"),
        "checks:year_results_export": page("checks:year_results_export"),
        "checks:five_good_list": page("checks:five_good_list"),
        "checks:flag_action": per_branch("checks:flag_action", "flags"),
        "checks:proposal_list": page("checks:proposal_list"),
        "checks:proposal_decide": per_branch("checks:proposal_decide", "proposals"),
        "checks:round_list_export": page("checks:round_list_export"),
        "checks:entry_list_export": page("checks:entry_list_export"),
        "checks:five_good_list_export": page("checks:five_good_list_export"),
        "checks:proposal_list_export": page("checks:proposal_list_export"),
    }
)

MATRIX.update(
    {
        "checks:round_list": _everyone(200),
        # Staff of P1 manage no committee; C2's approver may open C2's rounds.
        "checks:round_open": _managers_page(),
        # columns: C1's round, C2's round — anyone with a role in the committee
        "checks:round_detail": _committee_round(200),
        "checks:round_export": _committee_round(200),
        # POST only: sheets still to score → 409 for the committee's approver and staff
        "checks:round_publish": _committee_round(403, 409, managers={"approver": 409, "staff": 409}),
        # columns: B1, B2, D1 — the parent reviewer scores; the others in scope 403
        # The committee's approver and staff (staff of P1 too) read the scores; the parent reviewer writes them
        "checks:sheet_score": _branch_cells({**_TREE_READ, "secretary": (403, 404, 404)}, 200),
        # The scorer and the committee's people read the self-report; the branch writes it
        "checks:sheet_self_report": _branch_cells(_TREE_READ, 200),
        # POST only: the committee's approver and staff; nothing submitted yet → 409
        "checks:sheet_return": _branch_cells(
            {**_TREE_REFUSED, "approver": (409, 409, 404), "staff": (409, 409, 404)}, 409
        ),
        "checks:entry_list": _everyone(200),
        # The parent reviewers (of P1, of P2) record monthly checks
        "checks:entry_new": {
            role: ((LOGIN,) if role == "anonymous" else (200,) if role in ("parent", "p2_parent") else (403,))
            for role in ROWS
        },
        "checks:entry_detail": _branch_cells(_TREE_READ, 200),
        "checks:check_file": _branch_cells(_TREE_READ, 200),
        "checks:year_results": _everyone(200),
        "checks:year_results_export": _everyone(200),
        "checks:five_good_list": _everyone(200),
        "checks:flag_action": _branch_cells({**_TREE_REFUSED, "parent": (200, 200, 404)}, 403),
        "checks:proposal_list": _managers_page(),
        # Proposals are seen by approvers and staff (staff of P1 too, for B1 and B2); decided by approvers
        "checks:proposal_decide": _branch_cells(
            {"approver": (200, 200, 404), "staff": (403, 403, 404), "p1_staff": (403, 403, 404)}, 200
        ),
    }
)
# Each list's export answers every role exactly as its list page.
MATRIX.update(
    {
        f"checks:{listed}_export": MATRIX[f"checks:{listed}"]
        for listed in ("round_list", "entry_list", "five_good_list", "proposal_list")
    }
)
POST_ONLY = POST_ONLY | {"checks:round_publish", "checks:sheet_return"}
_READS_ONLY = {
    "approver": (403, 403, 404),
    "staff": (403, 403, 404),
    "p1_staff": (403, 403, 404),
    "c2_approver": (404, 404, 403),
}
POST_REFUSED = POST_REFUSED | {
    "checks:sheet_score": _READS_ONLY,
    "checks:sheet_self_report": {**_READS_ONLY, "parent": (403, 403, 404)},
}
ALSO_POST = ALSO_POST | {
    "checks:round_open",
    "checks:sheet_score",
    "checks:sheet_self_report",
    "checks:entry_new",
    "checks:flag_action",
    "checks:proposal_decide",
}
POST_DATA.update(
    {
        # C2's approver sending C1 gets the form back: C1 is not among the choices (400).
        "checks:round_open": lambda w: {"committee": w.orgs["C1"].pk, "year": "2025", "quarter": "3"},
        "checks:sheet_score": lambda w: {
            "action": "save",
            f"score_{w.check_item.pk}": "2",
            "comment": "改写",
        },
        "checks:sheet_self_report": lambda w: {f"report_{w.check_item.pk}": "本季度按时召开支委会。"},
        "checks:sheet_return": lambda w: {"reason": "请复核。"},
        # P2's parent reviewer sending B1 gets the form back: B1 is not among the choices (400).
        "checks:entry_new": lambda w: {
            "branch": w.orgs["B1"].pk,
            "checked_on": "2025-06-19",
            "items": [w.check_item.pk],
            "findings": "党费收缴台账齐全。",
        },
        "checks:flag_action": lambda w: {
            "action_taken": "支部委员会换届，选举新书记。",
            "action_on": "2025-06-19",
        },
        "checks:proposal_decide": lambda w: {"decision": "dismiss", "reason": "已整改到位。"},
    }
)
# --- end of checks


# --- supervision: liaison branches, visits, stage applications. B1's liaison is the "reviewer"
# row, B2's the second reviewer, D1's C2's reviewer; each recorded a visit of its branch (with
# findings and a photo); each branch's secretary has a stage application waiting. Visits are read
# by whoever reaches the branch with any role; stage applications through the tree (TREE_READERS).
# Committee members (approver, staff, team reviewers of the committee itself) record visits and
# see their liaison branches; approvers and staff give them; who went or the committee's
# approver or staff open a task from a finding; the secretary applies and withdraws; the approver decides.

_MEMBERS = ("reviewer", "approver", "staff", "c2_approver")


def _roles_page(allowed):
    return {
        role: ((LOGIN,) if role == "anonymous" else (200,) if role in allowed else (403,)) for role in ROWS
    }


_VISIT_READ = {**_TREE_READ, "reviewer": (200, 200, 404)}

TARGETS.update(
    {
        "supervision:visit_list": page("supervision:visit_list"),
        "supervision:visit_list_export": page("supervision:visit_list_export"),
        "supervision:visit_new": page("supervision:visit_new"),
        "supervision:visit_detail": per_branch("supervision:visit_detail", "visits"),
        "supervision:visit_open_task": per_branch("supervision:visit_open_task", "visits"),
        "supervision:visit_photo": per_branch("supervision:visit_photo", "visit_photos"),
        "supervision:liaison_list": page("supervision:liaison_list"),
        "supervision:liaison_list_export": page("supervision:liaison_list_export"),
        "supervision:liaison_assign": page("supervision:liaison_assign"),
        "supervision:liaison_remove": per_branch("supervision:liaison_remove", "liaisons"),
        "supervision:stage_list": page("supervision:stage_list"),
        "supervision:stage_list_export": page("supervision:stage_list_export"),
        "supervision:stage_apply": page("supervision:stage_apply"),
        "supervision:stage_detail": per_branch("supervision:stage_detail", "stage_applications"),
        "supervision:stage_decide": per_branch("supervision:stage_decide", "stage_applications"),
        "supervision:stage_withdraw": per_branch("supervision:stage_withdraw", "stage_applications"),
        "supervision:stage_file": per_branch("supervision:stage_file", "stage_files"),
    }
)
MATRIX.update(
    {
        "supervision:visit_list": _everyone(200),
        "supervision:visit_list_export": _everyone(200),
        "supervision:visit_new": _roles_page(_MEMBERS),
        # columns: B1, B2, D1 — whoever reaches the branch, the committee's team reviewers too
        "supervision:visit_detail": _branch_cells(_VISIT_READ, 200),
        "supervision:visit_photo": _branch_cells(_VISIT_READ, 200),
        # who recorded it (the reviewer, B1's), or the committee's approver and staff
        "supervision:visit_open_task": _branch_cells(
            {
                **_TREE_REFUSED,
                "reviewer": (200, 403, 404),
                "approver": (200, 200, 404),
                "staff": (200, 200, 404),
            },
            200,
        ),
        "supervision:liaison_list": _roles_page(_MEMBERS),
        "supervision:liaison_list_export": _roles_page(_MEMBERS),
        "supervision:liaison_assign": _roles_page(("approver", "staff", "c2_approver")),
        # a liaison is seen by the committee's approver and staff, and by its member (who may not remove it)
        "supervision:liaison_remove": _branch_cells(
            {"reviewer": (403, 404, 404), "approver": (200, 200, 404), "staff": (200, 200, 404)}, 200
        ),
        "supervision:stage_list": _everyone(200),
        "supervision:stage_list_export": _everyone(200),
        "supervision:stage_apply": _roles_page(("secretary",)),
        "supervision:stage_detail": _branch_cells(_TREE_READ, 200),
        "supervision:stage_file": _branch_cells(_TREE_READ, 200),
        "supervision:stage_decide": _branch_cells({**_TREE_REFUSED, "approver": (200, 200, 404)}, 200),
        "supervision:stage_withdraw": _branch_cells({**_TREE_REFUSED, "secretary": (200, 404, 404)}, 403),
    }
)
ALSO_POST = ALSO_POST | {
    "supervision:visit_new",
    "supervision:visit_open_task",
    "supervision:liaison_assign",
    "supervision:liaison_remove",
    "supervision:stage_apply",
    "supervision:stage_decide",
    "supervision:stage_withdraw",
}
POST_DATA.update(
    {
        # C2's approver sending B1 gets the form back: B1 is not among the choices (400).
        "supervision:visit_new": lambda w: {
            "branch": w.orgs["B1"].pk,
            "visited_on": "2025-06-19",
            "members": [w.users["reviewer"].pk],
            "checked": "查阅党费收缴台账。",
            "findings": "",
        },
        # Owner: B1's secretary (for B2 and D1 not among the choices: 400).
        "supervision:visit_open_task": lambda w: {
            "title": "整改会议记录",
            "requirement": "补齐会议记录。",
            "owner": w.users["secretary"].pk,
            "deadline": "2025-07-20",
        },
        # C2's approver sending C1 gets the form back: C1 is not among the choices (400).
        "supervision:liaison_assign": lambda w: {
            "committee": w.orgs["C1"].pk,
            "member": w.users["reviewer"].pk,
            "branches": [w.orgs["B2"].pk],
        },
        # B1 has an application waiting already: the form says so (400).
        "supervision:stage_apply": lambda w: {
            "branch": w.orgs["B1"].pk,
            "name": "品牌",
            "description": "说明",
        },
        "supervision:stage_decide": lambda w: {"decision": "approve", "reason": "特色鲜明，同意。"},
    }
)
# --- end of supervision


# --- rectification: by branch (B1, B2, D1) a task reported with a file (accept, send back), one
# open (report) and one proposed (confirm, dismiss). Whoever reaches the branch through the tree
# reads its tasks; its parent reviewer, the committee's approver and staff (staff of P1 too) decide;
# the secretary reports. Team reviewers see no tasks (the list 403, a task 404).
_RECT_OVERSEE = {
    "secretary": (403, 404, 404),
    "parent": (200, 200, 404),
    "approver": (200, 200, 404),
    "staff": (200, 200, 404),
    "p1_staff": (200, 200, 404),
}
_RECT_READERS = ("secretary", "parent", "approver", "staff", "p1_staff", "p2_parent", "c2_approver")
_RECT_OPENERS = ("parent", "approver", "staff", "p1_staff", "p2_parent", "c2_approver")


def _rect_page(allowed):
    return {
        role: ((LOGIN,) if role == "anonymous" else (200,) if role in allowed else (403,)) for role in ROWS
    }


TARGETS.update(
    {
        "rectification:task_list": page("rectification:task_list"),
        "rectification:task_list_export": page("rectification:task_list_export"),
        "rectification:task_new": page("rectification:task_new"),
        "rectification:task_detail": per_branch("rectification:task_detail", "rect_tasks"),
        "rectification:task_file": per_branch("rectification:task_file", "rect_files"),
        "rectification:task_confirm": per_branch("rectification:task_confirm", "rect_proposed"),
        "rectification:task_dismiss": per_branch("rectification:task_dismiss", "rect_proposed"),
        "rectification:task_report": per_branch("rectification:task_report", "rect_open"),
        "rectification:task_send_back": per_branch("rectification:task_send_back", "rect_tasks"),
        "rectification:task_accept": per_branch("rectification:task_accept", "rect_tasks"),
    }
)
MATRIX.update(
    {
        "rectification:task_list": _rect_page(_RECT_READERS),
        "rectification:task_list_export": _rect_page(_RECT_READERS),
        "rectification:task_new": _rect_page(_RECT_OPENERS),
        "rectification:task_detail": _branch_cells(_TREE_READ, 200),
        "rectification:task_file": _branch_cells(_TREE_READ, 200),
        "rectification:task_confirm": _branch_cells(_RECT_OVERSEE, 200),
        "rectification:task_dismiss": _branch_cells(_RECT_OVERSEE, 200),
        "rectification:task_report": _branch_cells(
            {
                "secretary": (200, 404, 404),
                "parent": (403, 403, 404),
                "approver": (403, 403, 404),
                "staff": (403, 403, 404),
                "p1_staff": (403, 403, 404),
            },
            403,
        ),
        "rectification:task_send_back": _branch_cells(_RECT_OVERSEE, 200),
        "rectification:task_accept": _branch_cells(_RECT_OVERSEE, 200),
    }
)
ALSO_POST = ALSO_POST | {
    "rectification:task_new",
    "rectification:task_confirm",
    "rectification:task_dismiss",
    "rectification:task_report",
    "rectification:task_send_back",
    "rectification:task_accept",
}
POST_DATA.update(
    {
        # P2's parent reviewer or C2's approver sending B1 gets the form back (not among the choices).
        "rectification:task_new": lambda w: {
            "branch": w.orgs["B1"].pk,
            "title": "组织生活整改",
            "requirement": "按月召开组织生活会。",
            "deadline": "2025-07-31",
        },
        "rectification:task_confirm": lambda w: {
            "owner": w.users["secretary"].pk,
            "deadline": "2025-07-31",
            "requirement": "查找失分原因并整改。",
        },
        "rectification:task_dismiss": lambda w: {"reason": "已当场纠正。"},
        "rectification:task_report": lambda w: {"text": "已按要求整改。"},
        "rectification:task_send_back": lambda w: {"reason": "材料不全。"},
        "rectification:task_accept": lambda w: {"confirm": "on"},
    }
)
# --- end of rectification


# --- official documents (公文): by committee, the past cycle's commendation (a draft) and its
# results notice to P1 / Q1 (issued). Reading pages take own: C1's notice to P1, sibling: C1's
# draft, other: C2's notice to Q1; editing pages own: C1's draft, other: C2's draft.


def per_document(name, columns):
    return {
        column: lambda w, key=key: reverse(name, args=[w.documents[key].pk])
        for column, key in columns.items()
    }


_DOC_READ = {OWN: "C1_notice", SIBLING: "C1_draft", OTHER: "C2_notice"}
_DOC_EDIT = {OWN: "C1_draft", OTHER: "C2_draft"}
TARGETS.update(
    {
        "reports:document_list": page("reports:document_list"),
        "reports:document_list_export": page("reports:document_list_export"),
        "reports:document_detail": per_document("reports:document_detail", _DOC_READ),
        "reports:document_docx": per_document("reports:document_docx", _DOC_READ),
        "reports:document_edit": per_document("reports:document_edit", _DOC_EDIT),
        "reports:document_issue": per_document("reports:document_issue", _DOC_EDIT),
        "reports:document_from_bulletin": per_committee("reports:document_from_bulletin", "bulletins"),
        "reports:cycle_documents": per_cycle("reports:cycle_documents"),
        "reports:issuer_edit": {
            column: lambda w, code=code: reverse("reports:issuer_edit", args=[w.orgs[code].pk])
            for column, code in CYCLE_OF.items()
        },
    }
)
_DOC_READ_CELLS = {
    # columns: own (issued, to P1), sibling (C1's draft), other (C2's, to Q1) — the committee's
    # managers everything of it; P1's readers its issued notice; a draft only the managers
    "secretary": (403, 403, 404),
    "parent": (200, 403, 404),
    "reviewer": (403, 403, 404),
    "approver": (200, 200, 404),
    "staff": (200, 200, 404),
    "p1_staff": (200, 403, 404),
    "p2_parent": (404, 403, 404),
    "c2_approver": (404, 404, 200),
    "outsider": (404, 404, 404),
    "anonymous": (LOGIN, LOGIN, LOGIN),
}
_DOC_EDIT_CELLS = {
    # columns: own, other — the committee's staff and approver
    "secretary": (403, 404),
    "parent": (403, 404),
    "reviewer": (403, 404),
    "approver": (200, 404),
    "staff": (200, 404),
    "p1_staff": (403, 404),
    "p2_parent": (403, 404),
    "c2_approver": (404, 200),
    "outsider": (404, 404),
    "anonymous": (LOGIN, LOGIN),
}
MATRIX.update(
    {
        "reports:document_list": {  # what each may open; an empty list for the others
            role: ((LOGIN,) if role == "anonymous" else (200,)) for role in ROWS
        },
        "reports:document_detail": _DOC_READ_CELLS,
        "reports:document_docx": _DOC_READ_CELLS,
        "reports:document_edit": _DOC_EDIT_CELLS,
        "reports:document_issue": _DOC_EDIT_CELLS,
        # POST only. columns: own, other — the world's bulletin is a draft: the managers are sent
        # back to it with the reason; as the bulletin's pages otherwise
        "reports:document_from_bulletin": MATRIX["reports:bulletin_publish"],
        "reports:cycle_documents": MATRIX["reviews:cycle_decisions"],
        "reports:issuer_edit": {
            # columns: committee C1, C2 — found in the user's scope (404 else), then the managers
            "secretary": (404, 404),
            "parent": (404, 404),
            "reviewer": (403, 404),
            "approver": (200, 404),
            "staff": (200, 404),
            "p1_staff": (404, 404),
            "p2_parent": (404, 404),
            "c2_approver": (404, 200),
            "outsider": (404, 404),
            "anonymous": (LOGIN, LOGIN),
        },
    }
)
MATRIX["reports:document_list_export"] = MATRIX["reports:document_list"]
POST_ONLY = POST_ONLY | {"reports:document_from_bulletin"}
ALSO_POST = ALSO_POST | {
    "reports:document_edit",
    "reports:document_issue",
    "reports:cycle_documents",
    "reports:issuer_edit",
}
POST_DATA.update(
    {
        "reports:document_edit": lambda w: {"title": "改写的标题", "lead": "改写的导语。", "closing": ""},
        "reports:document_issue": lambda w: {"confirm": "on"},
        "reports:cycle_documents": lambda w: {"kind": "results_notice", "batch": ""},
        "reports:issuer_edit": lambda w: {"organ_name": "改写的机关", "code": "改写"},
    }
)
# The 整改通知 of a task (POST only; columns: own, sibling, other — B1's, B2's, D1's open task):
# whoever cannot open the task gets its answer; of those who can, the committee's managers make
# the draft (302 to it), the others are too low (403).
TARGETS["reports:document_from_task"] = per_branch("reports:document_from_task", "rect_open")
POST_ONLY = POST_ONLY | {"reports:document_from_task"}
_DOC_MAKERS = {"approver", "staff", "c2_approver"}


def _from_task_row():
    detail = MATRIX["rectification:task_detail"]
    return {
        role: tuple((302 if role in _DOC_MAKERS else 403) if cell == 200 else cell for cell in detail[role])
        for role in ROWS
    }


LIST_PAGES_DOCUMENTS = {"reports:document_list": ""}
# --- end of official documents

# --- the dashboard (数据看板): own C1, other C2 (a party committee's is its preliminary reviewers')
_DASHBOARD_PAGES = (
    "reports:dashboard",
    "reports:dashboard_screen",
    "reports:dashboard_pdf",
    "reports:dashboard_branches",
    "reports:dashboard_branches_export",
)
TARGETS.update(
    {
        "reports:dashboard_home": page("reports:dashboard_home"),
        **{
            name: {
                column: lambda w, code=code, name=name: reverse(name, args=[w.orgs[code].pk])
                for column, code in CYCLE_OF.items()
            }
            for name in _DASHBOARD_PAGES
        },
    }
)
MATRIX.update(
    {
        "reports:dashboard_home": {
            # columns: page — to the user's first dashboard (302), 403 for a role without one
            "secretary": (403,),
            "parent": (302,),
            "reviewer": (403,),
            "approver": (302,),
            "staff": (302,),
            "p1_staff": (302,),
            "p2_parent": (302,),
            "c2_approver": (302,),
            "outsider": (403,),
            "anonymous": (LOGIN,),
        },
        **{
            name: {
                # columns: own C1, other C2 — the committee's managers; a team reviewer is in its
                # scope with a role too low; the party committees' people do not reach C1 itself
                "secretary": (404, 404),
                "parent": (404, 404),
                "reviewer": (403, 404),
                "approver": (200, 404),
                "staff": (200, 404),
                "p1_staff": (404, 404),
                "p2_parent": (404, 404),
                "c2_approver": (404, 200),
                "outsider": (404, 404),
                "anonymous": (LOGIN, LOGIN),
            }
            for name in _DASHBOARD_PAGES
        },
    }
)
# --- end of the dashboard


MATRIX["reports:document_from_task"] = _from_task_row()  # after the rectification rows
# --- end of official documents (整改通知)


# --- The world, once for the module -------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once and rolled back at the end; each test runs in a savepoint inside it."""
    with ExitStack() as stack:
        stack.enter_context(django_db_blocker.unblock())
        stack.enter_context(override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))))
        stack.enter_context(time_machine.travel(NOW, tick=False))
        stack.enter_context(transaction.atomic())
        yield build_world()
        transaction.set_rollback(True)


def payload(world, name, column):
    if name in POSTED_COMMITTEE:
        return POSTED_COMMITTEE[name](world, CYCLE_OF[column])
    return POST_DATA.get(name, lambda w: {})(world)


def send(client, url, method, data=None):
    response = client.post(url, data or {}) if method == "post" else client.get(url)
    if response.streaming:
        # Read to the end: the client's wrapper then closes the file the download holds open.
        b"".join(response.streaming_content)
    return response


def sign_in(client, world, role):
    if role != "anonymous":
        client.force_login(world.users[role])


def ask(client, world, name, role, column, method):
    sign_in(client, world, role)
    url = TARGETS[name][column](world)
    return url, send(client, url, method, payload(world, name, column))


def cells(names, overrides=None):
    for name in names:
        for role in ROWS:
            row = (overrides or {}).get(name, {}).get(role, MATRIX[name][role])
            for column, expected in zip(TARGETS[name], row, strict=True):
                yield pytest.param(name, role, column, expected, id=f"{name}-{role}-{column}")


# --- The matrix is complete ---------------------------------------------------------------------


def test_the_url_walk_finds_namespaced_and_unnamed_urls_but_not_djangos_own():
    from django.contrib import admin
    from django.contrib.auth import views as auth_views
    from django.urls import include, path

    def view(request):
        raise AssertionError

    patterns = [
        path("", view, name="home"),
        path("a/", include(([path("b/", view, name="b"), path("c/", view)], "outer"))),
        path("d/", include(([path("e/", include(([path("f/", view, name="f")], "inner")))], "outer2"))),
        path("login/", auth_views.LoginView.as_view(), name="login"),
        path("admin/", admin.site.urls),
    ]
    assert project_url_names(patterns) == ["home", "outer:b", "<unnamed outer:c/>", "outer2:inner:f"]


def test_every_url_has_a_row():
    urls = project_url_names()
    unmapped = [name for name in urls if name not in MATRIX]
    stale = sorted(set(MATRIX) - set(urls))
    assert not unmapped, f"URLs without a row in tests/test_permissions.py MATRIX and TARGETS: {unmapped}"
    assert not stale, f"MATRIX rows for URLs that no longer exist: {stale}"


def test_every_row_has_a_cell_for_every_role_and_column():
    assert set(TARGETS) == set(MATRIX)
    for name, rows in MATRIX.items():
        assert tuple(rows) == ROWS, f"{name}: rows must be exactly {ROWS}"
        for role, row in rows.items():
            assert len(row) == len(TARGETS[name]), (
                f"{name} / {role}: one cell per column {tuple(TARGETS[name])}"
            )
    assert set(MATRIX) >= POST_ONLY | ALSO_POST
    assert set(POST_DATA) | set(POSTED_COMMITTEE) <= POST_ONLY | ALSO_POST
    assert set(POST_REFUSED) <= ALSO_POST
    assert set(POSTED_COMMITTEE) <= {name for name in MATRIX if tuple(TARGETS[name]) == (OWN, OTHER)}
    assert set(MATRIX) >= PUBLIC | GET_WRITES


# --- The cells ----------------------------------------------------------------------------------
#
# A job is sent to the worker only once the request's transaction commits, and the tests'
# transactions never do: a refused request must not even have left one waiting for the commit.


@pytest.mark.parametrize(("name", "role", "column", "expected"), list(cells(MATRIX)))
def test_page_answers_as_the_matrix_says(
    client, world, django_capture_on_commit_callbacks, name, role, column, expected
):
    method = "post" if name in POST_ONLY else "get"
    writes = method == "post" or name in GET_WRITES
    before = fingerprint() if writes and expected in DENIED else None
    with django_capture_on_commit_callbacks() as after_commit:
        url, response = ask(client, world, name, role, column, method)
    assert status_of(response) == expected, f"{method.upper()} {url} as {role}"
    if before is not None:
        assert fingerprint() == before, f"a refused {method.upper()} {url} as {role} changed something"
        assert not after_commit, f"a refused {method.upper()} {url} as {role} queued a job"


@pytest.mark.parametrize(("name", "role", "column", "expected"), list(cells(sorted(ALSO_POST), POST_REFUSED)))
def test_a_post_is_refused_where_the_page_is_and_changes_nothing(
    client, world, django_capture_on_commit_callbacks, name, role, column, expected
):
    before = fingerprint() if expected in DENIED else None
    with django_capture_on_commit_callbacks() as after_commit:
        url, response = ask(client, world, name, role, column, "post")
    if expected in DENIED:
        assert status_of(response) == expected, f"POST {url} as {role}"
        assert fingerprint() == before, f"a refused POST {url} as {role} changed something"
        assert not after_commit, f"a refused POST {url} as {role} queued a job"
    else:
        assert status_of(response) in ALLOWED_POST, f"POST {url} as {role}"


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("reviews:self_assessment", "secretary"),
        ("reviews:evidence_upload", "secretary"),
        ("reviews:evidence_delete", "secretary"),
        ("reviews:cycle_open", "approver"),
        ("reviews:branch_downgrade", "approver"),
        ("reviews:branch_revoke", "approver"),
        ("reports:notice_mark_all_read", "secretary"),
        ("reports:bulletin_publish", "staff"),
        ("reports:bulletin_list", "approver"),
        ("reports:job_generate", "staff"),
        ("checks:round_open", "approver"),  # --- checks
        ("checks:sheet_score", "parent"),
        ("checks:sheet_self_report", "secretary"),
        ("checks:entry_new", "parent"),
        ("checks:flag_action", "parent"),
        ("checks:proposal_decide", "approver"),  # --- end of checks
        ("supervision:visit_new", "reviewer"),  # --- supervision
        ("supervision:visit_open_task", "reviewer"),
        ("supervision:liaison_assign", "staff"),
        ("supervision:liaison_remove", "staff"),
        ("supervision:stage_decide", "approver"),
        ("supervision:stage_withdraw", "secretary"),  # --- end of supervision
        ("rectification:task_new", "parent"),  # --- rectification
        ("rectification:task_report", "secretary"),
        ("rectification:task_accept", "parent"),
        ("rectification:task_confirm", "approver"),  # --- end of rectification
        ("reports:document_edit", "staff"),  # --- official documents
        ("reports:document_issue", "approver"),
        ("reports:issuer_edit", "staff"),
        ("reports:document_from_task", "approver"),  # --- end of official documents
    ],
)
def test_the_same_post_from_the_right_role_does_change_something(
    client, world, django_capture_on_commit_callbacks, name, role
):
    """So the refusals above are refusals: the payloads work, and the fingerprint sees it.

    The jobs a page queues for after the commit are run here, so what they write counts too.
    """
    before = fingerprint()
    with django_capture_on_commit_callbacks(execute=True):
        url, response = ask(client, world, name, role, OWN if OWN in TARGETS[name] else PAGE, "post")
    assert status_of(response) == 302, f"POST {url} as {role}"
    assert fingerprint() != before


def test_opening_ones_own_notice_marks_it_read(client, world):
    """The refused GETs of GET_WRITES are fingerprinted; here is the one that does write."""
    before = fingerprint()
    url, response = ask(client, world, "reports:notice_detail", "secretary", OWN, "get")
    assert status_of(response) == 200, f"GET {url}"
    assert fingerprint() != before


@pytest.mark.parametrize("role", ROWS)
@pytest.mark.parametrize("name", sorted(POST_ONLY))
def test_a_post_only_page_answers_get_with_405(client, world, name, role):
    url, response = ask(client, world, name, role, next(iter(TARGETS[name])), "get")
    assert status_of(response) == (LOGIN if role == "anonymous" else NOT_ALLOWED), f"GET {url} as {role}"


def mirrored_cells():
    for name in MATRIX:
        if OWN in TARGETS[name] and OTHER in TARGETS[name]:
            own = list(TARGETS[name]).index(OWN)
            for role, twin in MIRROR.items():
                yield pytest.param(name, twin, MATRIX[name][role][own], id=f"{name}-{twin}")


@pytest.mark.parametrize(("name", "twin", "expected"), list(mirrored_cells()))
def test_the_other_committee_answers_its_own_people_as_ours_answer_us(client, world, name, twin, expected):
    """C2 is built like C1, so its 404s in the matrix are about scope, not a missing object."""
    method = "post" if name in POST_ONLY else "get"
    url, response = ask(client, world, name, twin, OTHER, method)
    assert status_of(response) == expected, f"{method.upper()} {url} as {twin}"


# --- Missing ids: the same 404 as "not yours" ---------------------------------------------------

OBJECT_PAGES = [name for name in MATRIX if OWN in TARGETS[name] and name not in POSTED_COMMITTEE]
# A row that does not exist, and an id beyond any integer column of either database.
MISSING_IDS = (10**6, 2**63)


def missing_url(world, name, missing):
    path, _, query = TARGETS[name][OWN](world).partition("?")
    if query:  # ?committee=<pk>
        return f"{path}?{query.partition('=')[0]}={missing}"
    return reverse(name, kwargs=dict.fromkeys(resolve(path).kwargs, missing))


@pytest.mark.parametrize("role", ROWS)
@pytest.mark.parametrize("name", OBJECT_PAGES)
def test_an_id_that_does_not_exist_answers_404_whatever_the_role(client, world, name, role):
    sign_in(client, world, role)
    for missing in MISSING_IDS:
        url = missing_url(world, name, missing)
        response = send(client, url, "post" if name in POST_ONLY else "get", payload(world, name, OWN))
        assert status_of(response) == (LOGIN if role == "anonymous" and name not in PUBLIC else 404), url


@pytest.mark.parametrize("role", ROWS)
@pytest.mark.parametrize("name", sorted(POSTED_COMMITTEE))
def test_a_posted_committee_that_does_not_exist_answers_as_one_out_of_scope(client, world, name, role):
    """404 for whoever reaches the lookup; a role refused before it (403) is refused the same."""
    sign_in(client, world, role)
    row = MATRIX[name][role]
    expected = HIDDEN if HIDDEN in row else row[0]
    for missing in MISSING_IDS:
        data = {**payload(world, name, OWN), "committee": missing}
        response = send(client, TARGETS[name][OWN](world), "post", data)
        assert status_of(response) == expected, f"committee={missing} as {role}"


# --- List pages name nothing outside the user's scope ----------------------------------------

# What each row may see named: its subtree, and the organizations above it.
IN_SCOPE = {
    "secretary": {"C1", "P1", "B1"},
    "parent": {"C1", "P1", "B1", "B2"},
    "reviewer": {"C1", "P1", "P2", "B1", "B2", "B3"},
    "approver": {"C1", "P1", "P2", "B1", "B2", "B3"},
    "staff": {"C1", "P1", "P2", "B1", "B2", "B3"},
    "p1_staff": {"C1", "P1", "B1", "B2"},
    "p2_parent": {"C1", "P2", "B3"},
    "c2_approver": {"C2", "Q1", "D1"},
    "outsider": set(),
}
LIST_PAGES = {
    "home": "",
    "reviews:cycle_list": "",
    "reviews:preliminary_queue": "?state=done",
    "reviews:my_assignments": "",
    "reports:notice_list": "",
    "reports:bulletin_list": "",
    "reports:job_list": "",
    "reviews:appeal_list": "",
}
# --- directory: its lists name nothing outside the scope either.
LIST_PAGES.update(
    {
        "directory:org_tree": "",
        "directory:person_list": "",
        "directory:search": "?q=支部",
        "directory:audit": "",
    }
)
# --- end of directory lists
LIST_PAGES.update(  # --- supervision
    {"supervision:visit_list": "", "supervision:liaison_list": "", "supervision:stage_list": ""}
)
LIST_PAGES["rectification:task_list"] = "?state=all"  # --- rectification
LIST_PAGES.update(LIST_PAGES_DOCUMENTS)  # --- official documents


def list_cells():
    for name, query in LIST_PAGES.items():
        for role in ROLES:
            if MATRIX[name][role] == (200,):
                yield pytest.param(name, query, role, id=f"{name}-{role}")


@pytest.mark.parametrize(("name", "query", "role"), list(list_cells()))
def test_a_list_page_names_nothing_outside_the_users_scope(client, world, name, query, role):
    client.force_login(world.users[role])
    text = client.get(reverse(name) + query).content.decode()
    named = sorted(
        code for code, org in world.orgs.items() if org.name in text and code not in IN_SCOPE[role]
    )
    assert not named, f"{name} as {role} names {named}"


def test_the_list_pages_do_show_what_is_in_scope(client, world):
    """The check above would pass on an empty page; these rows are there to be seen."""
    client.force_login(world.users["parent"])
    text = client.get(reverse("reviews:preliminary_queue") + "?state=done").content.decode()
    assert world.orgs["B1"].name in text and world.orgs["B2"].name in text
    client.force_login(world.users["reviewer"])
    assert world.orgs["B1"].name in client.get(reverse("reviews:my_assignments")).content.decode()
    client.force_login(world.users["secretary"])
    notices = client.get(reverse("reports:notice_list")).context["page"]
    assert [notice.pk for notice in notices] == [world.notices["B1"].pk]
    client.force_login(world.users["staff"])
    bulletins = client.get(reverse("reports:bulletin_list")).context["page"]
    assert [bulletin.pk for bulletin in bulletins] == [world.bulletins["C1"].pk]
    runs = client.get(reverse("reports:job_list")).context["page"]
    assert len(runs) == 2 and {run.committee_pk for run in runs} == {world.orgs["C1"].pk}


def test_the_world_is_as_the_matrix_assumes(world):
    """If a service changes what it leaves behind, say so here rather than in 1,500 odd cells."""

    from reports.models import Bulletin, BulletinStatus, JobRun, JobStatus
    from reviews.models import AssessmentStatus, CertificateStatus, CycleStatus
    from reviews.selectors import current_certificate

    for code in ("C1", "C2"):
        # The past cycle's batch is certified. C1 has branches outside the crew that never
        # started, so its cycle stays open until the approver closes it; C2's only branch is
        # certified, so its cycle closed by itself.
        assert world.past[code].status == {"C1": CycleStatus.OPEN, "C2": CycleStatus.CLOSED}[code]
        assert world.past[code].notice_batches.get().certified_at is not None
        assert world.current[code].status == CycleStatus.OPEN
    for code in ("B1", "B2", "D1"):
        assert world.past_assessments[code].status == AssessmentStatus.CERTIFIED
        assert world.current_assessments[code].status == AssessmentStatus.DRAFT
        assert world.objections[code].resolved_at is not None
        certificate = current_certificate(world.orgs[code])
        assert certificate.status == CertificateStatus.VALID and certificate.stars == 5
    assigned = {a.reviewer.username for a in world.past_assessments["B1"].assignments.all()}
    assert assigned == {"reviewer"}
    for code in ("B1", "B2", "D1"):
        assert world.certificates[code] == current_certificate(world.orgs[code])
        assert world.notices[code].read_at is None
    for code in ("C1", "C2"):
        bulletin = world.bulletins[code]
        assert bulletin.status == BulletinStatus.DRAFT and bulletin.pdf and bulletin.xlsx, bulletin.error
        assert default_storage.exists(bulletin.pdf.name)
        assert not Bulletin.objects.filter(committee=world.orgs[code], year=2024, quarter=4).exists()
    assert set(JobRun.objects.values_list("status", flat=True)) == {JobStatus.SUCCEEDED}
    assert JobRun.objects.count() == 4
