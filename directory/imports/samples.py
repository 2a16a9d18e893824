"""Generated committees as import files, for the tests and ``manage.py bench_import_org``.

A committee (工委) with its party committees (党委), the branches spread evenly over them and
one person per branch as its secretary; then a preliminary reviewer on each party committee
(who is also party-affairs staff there: two rows of one person) and, for the rest of the
people, assessment-team reviewers on the committee. With ``committee`` (the code of an existing
working committee) the party committees go under that one instead of a new one: the file that
party-affairs staff of a committee, who may not create a committee, can import.
"""

from branches.spreadsheets import Sheet, write_workbook

from .workbook import NOTES_SHEET, ORG_HEADERS, ORG_SHEET, PEOPLE_HEADERS, PEOPLE_SHEET


def generated_committee_sheets(
    *,
    prefix: str = "T",
    branches: int = 830,
    party_committees: int = 8,
    people: int = 1000,
    committee: str | None = None,
) -> list[Sheet]:
    """The two sheets of a generated committee; codes and user names start with ``prefix``."""
    existing_committee = committee is not None
    committee = committee or f"{prefix}GW"
    parents = [f"{prefix}DW{index:03d}" for index in range(1, party_committees + 1)]

    def organizations():
        if not existing_committee:
            yield [committee, f"{prefix}市直机关工委", "工委", "", "", 1]
        for index, code in enumerate(parents, start=1):
            yield [code, f"{prefix}第{index}机关党委", "党委", committee, "", index]
        for index in range(1, branches + 1):
            parent = parents[(index - 1) % party_committees]
            stage = ("基础", "特色", "示范")[index % 3]
            yield [f"{prefix}ZB{index:06d}", f"{prefix}第{index}党支部", "党支部", parent, stage, index]

    def persons():
        number = 0

        def person(role: str, org: str):
            nonlocal number
            number += 1
            username = f"{prefix.lower()}user{number:06d}"
            return [
                username,
                f"{prefix}同志{number}",
                f"138{number:08d}",
                f"{username}@example.cn",
                role,
                org,
            ]

        for index in range(1, min(branches, people) + 1):
            yield person("支部书记", f"{prefix}ZB{index:06d}")
        for code in parents[: max(0, people - branches)]:
            row = person("初审人", code)
            yield row
            yield [*row[:4], "党务工作者", code]
        while number < people:
            yield person("考核组成员", committee)

    return [
        Sheet(ORG_SHEET, list(ORG_HEADERS), organizations()),
        Sheet(PEOPLE_SHEET, list(PEOPLE_HEADERS), persons()),
        Sheet(NOTES_SHEET, ["说明"], [[f"{branches} branches, {people} people"]]),
    ]


def write_generated_committee(target, **options) -> None:
    """Write a generated committee's import file to ``target`` (a path or a binary file)."""
    write_workbook(generated_committee_sheets(**options), target)
