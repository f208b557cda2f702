"""Saved segments of the Accounts tab in the Perception tab: the ``segment`` filter on every metric and
voice read, the breakdown by segment (each segment counted on its own), who may use which segment, and
the pages' picker and drill-down links; two workspaces with the same external ids throughout. The
figures are those of the hand-checked scenarios of test_metrics.py and test_voice.py."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from records.aggregates import figures_refresh_dirty
from tenancy.models import Membership
from tests.perception import test_voice
from tests.perception.test_metrics import PERIOD, seed_scenario

pytestmark = pytest.mark.django_db

API = "/api/v1/workspaces/{slug}/{path}"


def save_segment(client, workspace, name, filters, visibility="workspace"):
    response = client.post(
        API.format(slug=workspace.slug, path="segments/"),
        {"name": name, "filters": filters, "visibility": visibility},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


@pytest.fixture
def scenario(make_workspace, member_client):
    """The metrics scenario in acme and other; segments saved in both by their admins; a viewer of acme."""
    acme = make_workspace("acme", tz="Asia/Shanghai")[0]
    other = make_workspace("other", tz="Asia/Shanghai")[0]
    seed_scenario(acme)
    seed_scenario(other, renewal_of_k3="renewed", r1_amount="620.00")
    admin = member_client(acme, Membership.Role.ADMIN, username="boss")
    ids = {
        "tech": save_segment(admin, acme, "Tech accounts", {"industry": ["Tech"]}),
        "rep2": save_segment(admin, acme, "Beta and Epsilon", {"owner": ["rep2"]}),
        "mine": save_segment(admin, acme, "Boss only", {"owner": ["rep1"]}, visibility="private"),
        "other": save_segment(member_client(other, Membership.Role.ADMIN, username="boss"), other, "X", {}),
    }
    return acme, ids, member_client(acme, username="viewer"), admin


def get(client, path, expect=200, **params):
    response = client.get(API.format(slug="acme", path=f"perception/{path}"), {**PERIOD, **params})
    assert response.status_code == expect, response.content
    return response.json()


def values(answer):
    return {name: metric["value"] for name, metric in answer["metrics"].items()}


def test_a_segment_filters_the_metrics_as_its_filters_do(scenario):
    _acme, ids, viewer, _admin = scenario
    tech = get(viewer, "summary", segment=ids["tech"])
    # test_metrics' hand-checked Tech figures (A1, A2): the segment is those two accounts.
    assert values(tech) == {
        "nps": 66.7, "ces": 5.5, "csat_pct": 100.0, "customer_churn_pct": 50.0, "revenue_churn_pct": 37.5,
        "renewal_rate_pct": 50.0, "retention_cost": "30.00", "revenue_per_retained": "554.84",
    }  # fmt: skip
    assert tech == get(viewer, "summary", industry="Tech")
    assert get(viewer, "trend", segment=ids["rep2"]) == get(viewer, "trend", owner="rep2")
    # Filters combine: Tech ∩ rep2 is A2 alone, as industry=Tech&owner=rep2.
    assert get(viewer, "summary", segment=ids["tech"], owner="rep2") == get(
        viewer, "summary", industry="Tech", owner="rep2"
    )
    churned = get(viewer, "accounts", segment=ids["tech"], status="churned")
    assert [row["external_id"] for row in churned["results"]] == ["A2"]


def test_the_breakdown_by_segment_counts_each_on_its_own(scenario):
    _acme, ids, viewer, _admin = scenario
    groups = get(viewer, "breakdown", by="segment")["groups"]
    # The viewer's segments by name (not the admin's private one, not the other workspace's); A2 is in both.
    assert [(g["segment"], g["group"]) for g in groups] == [
        (ids["rep2"], "Beta and Epsilon"),
        (ids["tech"], "Tech accounts"),
    ]
    assert {k: v for k, v in groups[1].items() if k not in ("group", "segment")} == values(
        get(viewer, "summary", industry="Tech")
    )
    assert {k: v for k, v in groups[0].items() if k not in ("group", "segment")} == values(
        get(viewer, "summary", owner="rep2")
    )
    # Within a segment filter, each group is the intersection.
    within = get(viewer, "breakdown", by="segment", segment=ids["tech"])["groups"]
    # Tech ∩ rep2 is A2 alone: at start and churned; one passive (S3, 7): NPS 0.0.
    assert within[0]["customer_churn_pct"] == 100.0 and within[0]["nps"] == 0.0
    assert {k: v for k, v in within[0].items() if k not in ("group", "segment")} == values(
        get(viewer, "summary", industry="Tech", owner="rep2")
    )
    assert within[1] == groups[1]
    # The admin also sees their private segment; the CSV names each segment's id.
    boss = get(scenario[3], "breakdown", by="segment")
    assert [g["group"] for g in boss["groups"]] == ["Beta and Epsilon", "Boss only", "Tech accounts"]
    exported = scenario[3].get(
        API.format(slug="acme", path="perception/breakdown"), {**PERIOD, "by": "segment", "format": "csv"}
    )
    header, first = exported.content.decode("utf-8-sig").splitlines()[:2]
    assert header.startswith("segment,group,nps") and first.startswith(f"{ids['rep2']},Beta and Epsilon,")


@pytest.mark.parametrize("which", ["mine", "other", "missing"])
@pytest.mark.parametrize("path", ["summary", "breakdown", "voice", "keywords", "feedback"])
def test_a_segment_the_viewer_cannot_see_is_a_400_naming_it(scenario, which, path):
    _acme, ids, viewer, _admin = scenario
    answer = get(viewer, path, expect=400, segment=ids.get(which, 999_999))
    assert "segment" in answer


def test_a_segment_whose_filters_no_longer_hold_is_a_400_saying_so(scenario):
    acme, ids, viewer, _admin = scenario
    from accounts.models import Segment

    Segment.objects.filter(pk=ids["tech"]).update(filters={"owner": ["gone"]})
    answer = get(viewer, "summary", expect=400, segment=ids["tech"])
    assert "no longer hold" in answer["segment"][0]
    assert [g["group"] for g in get(viewer, "breakdown", by="segment")["groups"]] == ["Beta and Epsilon"]


def test_the_voice_reads_narrow_to_the_segment(make_workspace, member_client):
    acme, other = make_workspace("acme")[0], make_workspace("other")[0]
    test_voice.store(acme, test_voice.ITEMS)
    test_voice.store(other, test_voice.ITEMS)
    for workspace in (acme, other):  # the day aggregates current: a segment must still read the rows
        figures_refresh_dirty(workspace=workspace)
    crm_a2 = save_segment(member_client(acme, Membership.Role.ADMIN, username="boss"), acme, "A2", {"search": "A2"})
    viewer = member_client(acme, username="viewer")

    def read(path, **params):
        return get(viewer, path, **{**test_voice.PERIOD, **params})

    # As the account filter: A2's labelled items in March are F4 alone (F7 deleted, F8 waiting).
    for path in ("voice", "keywords", "competitor-mentions", "feedback"):
        assert read(path, segment=crm_a2) == read(path, account="A2"), path
    assert read("voice", segment=crm_a2)["units"] == 1
    assert read("voice", segment=crm_a2, by="accounts")["units"] == 1


def test_the_pages_pick_a_segment_and_link_each_group_to_its_accounts(client, scenario):
    acme, ids, _viewer, _admin = scenario
    user = get_user_model().objects.get(username="viewer")
    client.force_login(user)
    html = client.get("/w/acme/perception/", {**PERIOD, "by": "segment"}).content.decode()
    assert f'<option value="{ids["tech"]}">Tech accounts</option>' in html
    assert "Boss only" not in html and ">X<" not in html
    assert f"segment={ids['tech']}" in html and "status=at_start" in html
    page = client.get("/w/acme/perception/accounts/", {**PERIOD, "segment": ids["tech"], "status": "churned"})
    assert page.status_code == 200 and "A2" in page.content.decode()
    voice = client.get("/w/acme/perception/voice/", {**PERIOD, "segment": ids["rep2"]})
    assert voice.status_code == 200
    bad = client.get("/w/acme/perception/", {**PERIOD, "segment": ids["mine"]})
    assert bad.status_code == 400 and "segment" in bad.content.decode().lower()
