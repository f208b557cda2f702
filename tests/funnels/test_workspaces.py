"""Two workspaces with funnels of the same names, and a member of both: each workspace's list, funnel
pages, charts, results and queries (pages and API) show only that workspace's funnels and figures."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from funnels.models import Funnel
from tenancy.models import Membership
from tests.conftest import journeys

pytestmark = pytest.mark.django_db

STEPS = [
    {"feature": "Leads", "action": "create", "detail": ""},
    {"feature": "Leads", "action": "convert", "detail": ""},
]
RANGE = {"range_start": date(2025, 3, 3), "range_end": date(2025, 3, 9)}


@pytest.fixture
def both(make_workspace):
    """acme: three users create a lead, one converts; globex: one creates and converts. Ana is an
    analyst of both and has a shared and a private funnel of the same names in each."""
    acme, globex = make_workspace("acme")[0], make_workspace("globex")[0]
    journeys(
        acme,
        [
            ("a1", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("a1", "2025-03-03T10:00:00+00:00", "Leads", "convert"),
            ("a2", "2025-03-04T09:00:00+00:00", "Leads", "create"),
            ("a3", "2025-03-05T09:00:00+00:00", "Leads", "create"),
        ],
    )
    journeys(
        globex,
        [
            ("g1", "2025-03-03T09:00:00+00:00", "Leads", "create"),
            ("g1", "2025-03-03T09:30:00+00:00", "Leads", "convert"),
        ],
    )
    ana = get_user_model().objects.create_user("ana")
    funnels = {}
    for workspace in (acme, globex):
        Membership.objects.create(workspace=workspace, user=ana, role=Membership.Role.ANALYST)
        shared = Funnel.objects.create(
            workspace=workspace, owner=ana, name="Lead process", steps=STEPS, visibility="workspace", **RANGE
        )
        private = Funnel.objects.create(workspace=workspace, owner=ana, name="Mine only", steps=STEPS, **RANGE)
        funnels[workspace.slug] = (shared, private)
    return funnels


def counts(body) -> list[int]:
    return [s["count"] for s in body["steps"]]


def test_each_list_page_shows_only_its_workspaces_funnels(client: Client, both):
    client.force_login(get_user_model().objects.get(username="ana"))
    for slug, other in (("acme", "globex"), ("globex", "acme")):
        html = client.get(reverse("funnels-tab", kwargs={"slug": slug})).content.decode()
        links = set(re.findall(r'href="/w/([\w-]+)/funnels/(\d+)/"', html))
        assert links == {(slug, str(f.pk)) for f in both[slug]}
        assert not any(str(f.pk) == pk for f in both[other] for _s, pk in links)


def test_a_funnel_of_the_other_workspace_is_404_on_every_page(client: Client, both):
    client.force_login(get_user_model().objects.get(username="ana"))
    for slug, other in (("acme", "globex"), ("globex", "acme")):
        for funnel in both[other]:
            kwargs = {"slug": slug, "pk": funnel.pk}
            for name in ("funnels-detail", "funnels-edit", "funnels-chart"):
                assert client.get(reverse(name, kwargs=kwargs)).status_code == 404, (name, slug)
            for name in ("funnels-refresh", "funnels-delete"):
                assert client.post(reverse(name, kwargs=kwargs)).status_code == 404, (name, slug)
    assert Funnel.objects.count() == 4


def test_each_funnel_page_and_chart_count_their_own_workspace(client: Client, both):
    client.force_login(get_user_model().objects.get(username="ana"))
    expected = {"acme": [3, 1], "globex": [1, 1]}
    for slug, (shared, _private) in both.items():
        kwargs = {"slug": slug, "pk": shared.pk}
        page = re.sub(
            r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(reverse("funnels-detail", kwargs=kwargs)).content.decode())
        )
        first, second = expected[slug]
        assert re.search(rf"1 Leads · create {first} 100\.0%", page), (slug, page)
        assert re.search(rf"2 Leads · convert {second} ", page), (slug, page)
        chart = client.get(reverse("funnels-chart", kwargs=kwargs), {"start": "2025-03-03", "end": "2025-03-05"})
        assert chart.json()["datasets"][0]["data"] == expected[slug], slug


def test_the_api_lists_reads_and_computes_within_its_workspace(both, member_client):
    ana = member_client(None, username="ana")  # already a member of both
    expected = {"acme": [3, 1], "globex": [1, 1]}
    two_days = {"acme": [2, 1], "globex": [1, 1]}  # Mar 3–4: a3 created hers on Mar 5
    for slug, other in (("acme", "globex"), ("globex", "acme")):
        base = f"/api/v1/workspaces/{slug}/funnels"
        listed = ana.get(f"{base}/").json()["results"]
        assert sorted(f["id"] for f in listed) == sorted(f.pk for f in both[slug])
        assert [f["name"] for f in listed] == ["Lead process", "Mine only"]
        for funnel in both[slug]:
            assert counts(ana.get(f"{base}/{funnel.pk}/results").json()) == expected[slug]
            other_range = ana.get(f"{base}/{funnel.pk}/results", {"start": "2025-03-03", "end": "2025-03-04"})
            assert counts(other_range.json()) == two_days[slug]
        for funnel in both[other]:
            for path in (f"{base}/{funnel.pk}", f"{base}/{funnel.pk}/results"):
                assert ana.get(path).status_code == 404, path
            assert ana.patch(f"{base}/{funnel.pk}", {"name": "taken"}, format="json").status_code == 404
            assert ana.delete(f"{base}/{funnel.pk}").status_code == 404
        query = ana.post(f"{base}/query", {"steps": STEPS, "start": "2025-03-03", "end": "2025-03-09"}, format="json")
        assert counts(query.json()) == expected[slug]
    assert set(Funnel.objects.values_list("name", flat=True)) == {"Lead process", "Mine only"}
