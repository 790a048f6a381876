"""One time zone, labelled, on every CLI face (issue 13 item 4): local time with the zone named for
people, ISO 8601 with the local offset and milliseconds for machines. Each check runs the CLI in a
fresh process with TZ set, as a user in New York (or on a UTC server) would."""

from __future__ import annotations

import csv
import io
import json
import re
import time

import pytest

from modeldesk.core.text import fmt_time, iso_time, local_zone, to_unix, zone_name
from support import times

NY_SUMMER = "2026-07-02 09:46:40 EDT"   # times.SUMMER in New York
NY_WINTER = "2026-01-16 07:00:00 EST"
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")


@pytest.fixture
def timed(md, project_path):
    return times.build(md, project_path)


@pytest.fixture
def zone(monkeypatch):
    def use(name: str) -> None:
        times.set_zone(monkeypatch, name)
    yield use
    monkeypatch.undo()
    time.tzset()


def test_the_formatter_names_the_zone_and_follows_daylight_saving(zone):
    zone("America/New_York")
    assert fmt_time(times.SUMMER) == NY_SUMMER and fmt_time(times.WINTER) == NY_WINTER
    assert fmt_time(times.SUMMER, "min") == "2026-07-02 09:46 EDT"
    assert fmt_time(times.SUMMER + 0.25, "ms") == "2026-07-02 09:46:40.250 EDT"
    assert fmt_time(times.SUMMER, "clock") == "09:46:40 EDT" and fmt_time(times.SUMMER, "date") == "2026-07-02"
    assert iso_time(times.SUMMER + 0.25) == "2026-07-02T09:46:40.250-04:00"
    assert iso_time(times.WINTER) == "2026-01-16T07:00:00.000-05:00"
    # every input a record may hold means the same instant
    for same in ("2026-07-02T13:46:40Z", "2026-07-02T13:46:40.000000Z", "2026-07-02T09:46:40-04:00",
                 __import__("pandas").Timestamp(times.SUMMER, unit="s", tz="UTC")):
        assert to_unix(same) == times.SUMMER and fmt_time(same) == NY_SUMMER
    assert fmt_time(None) == "—" and iso_time(None) is None and fmt_time(float("nan")) == "—"
    zone("UTC")
    assert fmt_time(times.SUMMER) == "2026-07-02 13:46:40 UTC" and iso_time(times.SUMMER).endswith("+00:00")
    zone("Etc/GMT-3")          # a zone the system names only by its offset ("+03")
    assert fmt_time(times.SUMMER) == "2026-07-02 16:46:40 UTC+03:00" and local_zone() == "UTC+03:00"
    assert zone_name(__import__("datetime").datetime.fromtimestamp(times.SUMMER).astimezone()) == "UTC+03:00"


def test_every_cli_face_shows_the_same_time_in_new_york(timed, md, zone):
    from modeldesk.core.registry.versions import get_version

    zone("America/New_York")
    started = fmt_time(md.get_run(timed.run_id).start_time)
    registered = fmt_time(get_version(md.get_project(), "churn", 1).created_at)
    assert started.startswith("2026-07-02 09:4") and started.endswith(" EDT")
    assert registered.startswith("2026-01-16 07:0") and registered.endswith(" EST")
    ny = "America/New_York"
    p = ("--project", timed.path)
    runs_table = times.cli_in_zone(ny, *p, "runs", "list")
    assert started in runs_table and "UTC" not in runs_table
    assert f"started {started}" in times.cli_in_zone(ny, *p, "runs", "show", timed.run_id)
    assert registered in times.cli_in_zone(ny, *p, "models", "list")
    assert f"at {registered}" in times.cli_in_zone(ny, *p, "models", "show", "churn")
    assert f"registered by ana at {registered}" in times.cli_in_zone(ny, *p, "models", "show", "churn", "1")
    audit_table = times.cli_in_zone(ny, *p, "audit", "list")
    assert audit_table.splitlines()[0].split()[:3] == ["seq", "time", "actor"]
    assert audit_table.count(registered) == 2      # model.create and version.register, the same second
    artifacts = times.cli_in_zone(ny, *p, "runs", "artifacts", timed.run_id)
    assert started[:13] in artifacts and "EDT" in artifacts


def test_machine_formats_are_iso_8601_with_the_offset_in_milliseconds(timed):
    ny = "America/New_York"
    p = ("--project", timed.path)
    row = next(csv.DictReader(io.StringIO(times.cli_in_zone(ny, *p, "runs", "list", "--format", "csv"))))
    as_json = json.loads(times.cli_in_zone(ny, *p, "runs", "list", "--format", "json"))[0]
    shown = json.loads(times.cli_in_zone(ny, *p, "runs", "show", timed.run_id, "--format", "json"))
    assert row["start_time"] == as_json["start_time"] == shown["start_time"]
    assert row["end_time"] == as_json["end_time"] == shown["end_time"]
    for value in (row["start_time"], row["end_time"]):
        assert ISO_MS.match(value) and value.endswith("-04:00") and value.startswith("2026-07-02T09:4")
    model = json.loads(times.cli_in_zone(ny, *p, "models", "list", "--format", "json"))[0]
    assert ISO_MS.match(model["created_at"]) and model["created_at"].startswith("2026-01-16T07:0")
    assert model["created_at"].endswith("-05:00")
    version = json.loads(times.cli_in_zone(ny, *p, "models", "show", "churn", "1", "--format", "json"))
    assert version["version"]["created_at"] == model["created_at"] and ISO_MS.match(version["run"]["start_time"])
    entries = json.loads(times.cli_in_zone(ny, *p, "audit", "list", "--format", "json"))
    assert {e["time"][:19] for e in entries} == {model["created_at"][:19]}
    assert all(ISO_MS.match(e["time"]) and e["time"].endswith("-05:00") for e in entries)
    # the same instants from a machine on UTC: other text, the same moment
    utc = json.loads(times.cli_in_zone("UTC", *p, "runs", "list", "--format", "json"))[0]
    assert utc["start_time"].endswith("+00:00") and to_unix(utc["start_time"]) == to_unix(as_json["start_time"])
