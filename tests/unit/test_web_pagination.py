"""Page links for long tables (wholeplace.web.pagination) and the template filters."""

from __future__ import annotations

from datetime import date, datetime

from starlette.datastructures import URL

from wholeplace.web.pagination import page_range, pagination
from wholeplace.web.templating import basename, month, number, percent, stamp

URL_WITH_FILTER = URL("http://testserver/data?dataset=police&quarantine_page=5")


def test_one_page_needs_no_links():
    assert pagination(url=URL_WITH_FILTER, param="quarantine_page", page=1, total=25, anchor="q") is None


def test_links_keep_other_filters_and_show_first_last_and_neighbours():
    params = pagination(url=URL_WITH_FILTER, param="quarantine_page", page=5, total=250, anchor="quarantined-rows")
    assert params is not None
    numbers = [item.get("number") for item in params["items"] if not item.get("ellipsis")]
    assert numbers == [1, 4, 5, 6, 10]
    assert sum(1 for item in params["items"] if item.get("ellipsis")) == 2
    assert [item["current"] for item in params["items"] if item.get("number") == 5 and "href" in item] == [True]
    assert params["previous"]["href"] == "/data?dataset=police&quarantine_page=4#quarantined-rows"
    assert params["next"]["href"] == "/data?dataset=police&quarantine_page=6#quarantined-rows"


def test_last_page_has_no_next_link():
    params = pagination(url=URL_WITH_FILTER, param="quarantine_page", page=3, total=60, anchor="q")
    assert params is not None and "next" not in params and "previous" in params


def test_page_range_text():
    assert page_range(page=2, total=60) == "Showing 26 to 50 of 60"
    assert page_range(page=3, total=60) == "Showing 51 to 60 of 60"
    assert page_range(page=1, total=0) == "None"


def test_filters_write_numbers_months_and_files_as_people_read_them():
    assert number(1234567) == "1,234,567" and number(None) == "—"
    assert month(date(2021, 1, 1)) == "January 2021" and month("2021-02") == "February 2021"
    assert percent(0.4567) == "45.7%" and percent(None) == "—"
    assert basename("/tmp/x/2021-01-street.csv") == "2021-01-street.csv"
    assert stamp(datetime(2026, 11, 22, 4, 14, 59)) == "2026-11-22 04:14" and stamp(None) == "—"
