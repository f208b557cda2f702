"""The server-rendered Funnels tab through the real URL routes: list, builder, results, permissions."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from funnels.models import Funnel, FunnelResult
from tenancy.models import Membership
from tests.conftest import crm_users, journeys

pytestmark = pytest.mark.django_db

STEPS = [
    {"feature": "Leads", "action": "create", "detail": ""},
    {"feature": "Leads", "action": "view", "detail": "detail_view"},
    {"feature": "Leads", "action": "convert", "detail": ""},
]


@pytest.fixture
def leads(workspace):
    crm_users(workspace, [{"external_id": "u1", "country": "CN"}, {"external_id": "u2", "country": "IN"}])
    journeys(
        workspace,
        [
            ("u1", "2025-03-03T09:00:00+00:00", "Leads", "create", "form"),
            ("u1", "2025-03-03T09:02:00+00:00", "Leads", "view", "detail_view"),
            ("u1", "2025-03-03T10:02:00+00:00", "Leads", "convert"),
            ("u2", "2025-03-04T09:00:00+00:00", "Leads", "create", "form"),
            ("u2", "2025-03-04T09:06:00+00:00", "Leads", "view", "detail_view"),
            ("u2", "2025-03-10T09:00:00+00:00", "Leads", "create", "form"),  # outside the saved range
        ],
    )
    return workspace


def login(client: Client, workspace, username="ana", role=Membership.Role.ANALYST):
    user = get_user_model().objects.create_user(username=username, password="pw-not-used")
    if workspace is not None:
        Membership.objects.create(workspace=workspace, user=user, role=role)
    client.force_login(user)
    return user


def make_funnel(workspace, owner, **extra):
    defaults = {
        "name": "Lead process",
        "steps": STEPS,
        "range_start": date(2025, 3, 3),
        "range_end": date(2025, 3, 9),
        "breakdown": "country",
    }
    return Funnel.objects.create(workspace=workspace, owner=owner, **{**defaults, **extra})


def text(response) -> str:
    """The page's visible text, whitespace collapsed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def tab_url(slug="acme"):
    return reverse("funnels-tab", kwargs={"slug": slug})


def detail_url(funnel):
    return reverse("funnels-detail", kwargs={"slug": funnel.workspace.slug, "pk": funnel.pk})


def builder_post(**overrides):
    data = {
        "name": "From the page",
        "unit": "user",
        "window_days": "14",
        "order": "ordered",
        "start": "2025-03-03",
        "end": "2025-03-09",
        "range_days": "30",
        "breakdown": "",
        "visibility": "workspace",
    }
    for n, step in enumerate(STEPS):
        for part, value in step.items():
            data[f"steps-{n}-{part}"] = value
    data.update(overrides)
    return data


# --- the list ----------------------------------------------------------------------------------------


def test_the_tab_is_enabled_and_lists_mine_and_shared(client, leads):
    ana = login(client, leads)
    bob = get_user_model().objects.create_user("bob")
    Membership.objects.create(workspace=leads, user=bob, role=Membership.Role.ANALYST)
    make_funnel(leads, ana, name="Ana's funnel")
    make_funnel(leads, bob, name="Bob's shared funnel", visibility="workspace")
    make_funnel(leads, bob, name="Bob's private funnel")
    response = client.get(tab_url())
    assert response.status_code == 200
    page = text(response)
    assert "My funnels" in page and "Ana's funnel" in page
    assert "Shared with the workspace" in page and "Bob's shared funnel" in page
    assert "Bob's private funnel" not in page
    assert 'aria-current="page"' in response.content.decode()  # the active tab
    home = client.get(reverse("home-tab", kwargs={"slug": "acme"}))
    assert f'href="{tab_url()}' in home.content.decode()


def test_the_list_shows_the_last_results(client, leads, django_capture_on_commit_callbacks):
    from funnels import services

    ana = login(client, leads)
    with django_capture_on_commit_callbacks(execute=True):
        services.funnel_create(
            workspace=leads,
            owner=ana,
            data={
                "name": "Lead process",
                "steps": STEPS,
                "range_start": date(2025, 3, 3),
                "range_end": date(2025, 3, 9),
            },
        )
    page = text(client.get(tab_url()))
    assert re.search(r"Lead process .* 2 50\.0%", page), page


def test_empty_states(client, leads, make_workspace):
    login(client, leads)
    page = text(client.get(tab_url()))
    assert "No funnels yet" in page and "Build your first funnel" in page
    empty = make_workspace("empty")[0]
    Membership.objects.create(workspace=empty, user=get_user_model().objects.get(username="ana"))
    assert "No events yet" in text(client.get(tab_url("empty")))


def test_scoping(client, leads, make_workspace):
    assert client.get(tab_url()).status_code == 302  # anonymous: to the login page
    login(client, make_workspace("other")[0])
    assert client.get(tab_url()).status_code == 404


# --- the builder -------------------------------------------------------------------------------------


def test_the_builder_offers_the_catalog(client, leads):
    login(client, leads)
    response = client.get(reverse("funnels-new", kwargs={"slug": "acme"}))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<option value="Leads">Leads</option>' in html
    assert 'data-catalog-url="/api/v1/workspaces/acme/features"' in html
    assert html.count("data-step>") + html.count("data-step ") >= 2
    assert "<script>" not in html  # no inline scripts


def test_a_viewer_cannot_open_the_builder(client, leads):
    login(client, leads, role=Membership.Role.VIEWER)
    assert client.get(reverse("funnels-new", kwargs={"slug": "acme"})).status_code == 403
    assert "New funnel" not in text(client.get(tab_url()))


def test_saving_from_the_builder(client, leads, django_capture_on_commit_callbacks):
    ana = login(client, leads)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("funnels-new", kwargs={"slug": "acme"}), builder_post(breakdown="country"))
    funnel = Funnel.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(funnel)
    assert funnel.owner == ana and funnel.visibility == "workspace" and funnel.breakdown == "country"
    assert funnel.steps == STEPS and (funnel.range_start, funnel.range_end) == (date(2025, 3, 3), date(2025, 3, 9))
    assert FunnelResult.objects.filter(funnel=funnel).exists()


def test_the_builder_shows_the_apis_messages_next_to_the_fields(client, leads):
    login(client, leads)
    response = client.post(
        reverse("funnels-new", kwargs={"slug": "acme"}),
        builder_post(**{"name": "", "window_days": "0", "steps-1-action": "fly"}),
    )
    assert response.status_code == 400
    page = text(response)
    assert "The funnel was not saved" in page
    assert "This field may not be blank." in page  # name
    assert "Ensure this value is greater than or equal to 1." in page  # window
    assert "No 'fly' action was seen for Leads." in page
    assert not Funnel.objects.exists()
    # The checks across fields come once each field is right.
    response = client.post(reverse("funnels-new", kwargs={"slug": "acme"}), builder_post(end=""))
    assert response.status_code == 400 and "Give both start and end" in text(response)


def test_steps_can_be_added_and_removed_without_javascript(client, leads):
    login(client, leads)
    url = reverse("funnels-new", kwargs={"slug": "acme"})
    response = client.post(url, builder_post(add_step="1"))
    assert response.status_code == 200 and 'name="steps-3-feature"' in response.content.decode()
    response = client.post(url, builder_post(remove_step="0"))
    html = response.content.decode()
    assert 'name="steps-2-feature"' not in html and not Funnel.objects.exists()
    assert re.search(r'name="steps-0-action".*?<option value="view" selected>', html, re.S)


def test_preview_returns_results_or_messages_by_field(client, leads):
    login(client, leads, role=Membership.Role.VIEWER)  # previewing is reading
    url = reverse("funnels-preview", kwargs={"slug": "acme"})
    response = client.post(url, builder_post(breakdown="country"))
    assert response.status_code == 200
    body = response.json()
    assert [s["count"] for s in body["steps"]] == [2, 2, 1]
    assert body["chart"]["datasets"][0]["data"] == [2, 2, 1]
    assert body["chart"]["conversion_pct"] == [100.0, 100.0, 50.0]
    assert [g["group"] for g in body["breakdown"]] == ["CN", "IN"]

    response = client.post(url, builder_post(**{"steps-1-action": "fly", "window_days": "366", "start": "x"}))
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["steps-1-action"] == ["No 'fly' action was seen for Leads."]
    assert "window_days" in errors and "start" in errors

    one_step = {k: v for k, v in builder_post().items() if not k.startswith(("steps-1", "steps-2"))}
    assert "steps" in client.post(url, one_step).json()["errors"]


# --- a funnel's page ---------------------------------------------------------------------------------


def test_the_page_shows_the_numbers(client, leads):
    ana = login(client, leads)
    funnel = make_funnel(leads, ana)
    response = client.get(detail_url(funnel))
    assert response.status_code == 200
    page = text(response)
    assert re.search(r"1 Leads · create 2 100\.0% — —", page), page
    assert re.search(r"2 Leads · view · detail_view 2 100\.0% 0\.0% 4 min 00 s", page), page
    assert re.search(r"3 Leads · convert 1 50\.0% 50\.0% 1 h 00 min", page), page
    assert re.search(r"CN 1 1 100\.0% 1 100\.0% 100\.0%", page), page
    assert "computed now" in page or "computed 0" in page or "seconds ago" in page
    html = response.content.decode()
    assert f'href="/api/v1/workspaces/acme/funnels/{funnel.pk}/results?format=csv"' in html
    assert "data-chart=" in html and 'value="2025-03-03"' in html
    # Cached: the second visit reads the stored result.
    stored = FunnelResult.objects.get(funnel=funnel)
    stored.payload["steps"][0]["count"] = 7
    stored.save()
    assert re.search(r"1 Leads · create 7 ", text(client.get(detail_url(funnel))))


def test_another_range_is_computed_on_demand(client, leads):
    ana = login(client, leads)
    funnel = make_funnel(leads, ana)
    response = client.get(detail_url(funnel), {"start": "2025-03-04", "end": "2025-03-10"})
    page = text(response)
    assert "computed now for this range" in page
    assert re.search(r"1 Leads · create 1 100\.0%", page) and re.search(r"3 Leads · convert 0 ", page)
    assert "start=2025-03-04&amp;end=2025-03-10" in response.content.decode()  # the CSV link follows
    response = client.get(detail_url(funnel), {"start": "2025-02-30", "end": "2025-03-10"})
    assert response.status_code == 400 and "Enter a date as YYYY-MM-DD." in text(response)
    response = client.get(detail_url(funnel), {"start": "2025-03-10", "end": "2025-03-01"})
    assert response.status_code == 400 and "Must not be after end." in text(response)


def test_the_period_picker_presets_and_user_filters(client, leads):
    ana = login(client, leads)
    funnel = make_funnel(leads, ana)
    # A preset that names the saved range is the saved range: the stored result, the saved links.
    response = client.get(detail_url(funnel), {"period": "last_7_days", "as_of": "2025-03-09"})
    assert response.status_code == 200 and "computed now for this range" not in text(response)
    assert f'href="/api/v1/workspaces/acme/funnels/{funnel.pk}/results?format=csv"' in response.content.decode()
    # Another period and a user filter: computed now; the CSV and the chart ask for the same.
    asked = {"period": "last_7_days", "as_of": "2025-03-10", "country": "IN"}
    response = client.get(detail_url(funnel), asked)
    page = text(response)
    assert "computed now for this range" in page and "Last 7 days" in page
    # (Each row ends with its people links: who reached the step, who dropped there.)
    assert re.search(r"1 Leads · create 1 100\.0% — — reached 2 Leads · view · detail_view 1 100\.0% 0\.0%", page), page
    csv_query = "period=last_7_days&amp;as_of=2025-03-10&amp;country=IN&amp;format=csv"
    assert f"/api/v1/workspaces/acme/funnels/{funnel.pk}/results?{csv_query}" in response.content.decode()
    chart = client.get(reverse("funnels-chart", kwargs={"slug": "acme", "pk": funnel.pk}), asked)
    assert chart.json()["datasets"][0]["data"] == [1, 1, 0]
    assert client.get(detail_url(funnel), {"period": "next_week"}).status_code == 400


def test_nobody_entered(client, leads):
    ana = login(client, leads)
    funnel = make_funnel(leads, ana, range_start=date(2024, 1, 1), range_end=date(2024, 1, 31))
    assert "Nobody did “Leads · create” in this range" in text(client.get(detail_url(funnel)))


def test_chart_json(client, leads):
    ana = login(client, leads)
    funnel = make_funnel(leads, ana)
    url = reverse("funnels-chart", kwargs={"slug": "acme", "pk": funnel.pk})
    body = client.get(url).json()
    assert body["labels"] == ["Leads · create", "Leads · view · detail_view", "Leads · convert"]
    assert body["datasets"][0]["data"] == [2, 2, 1] and body["datasets"][1]["data"] == [0, 0, 1]
    assert body["dropoff_pct"] == [0.0, 0.0, 50.0]
    assert client.get(url, {"start": "nope"}).status_code == 400


def test_refresh_recomputes(client, leads):
    ana = login(client, leads)
    funnel = make_funnel(leads, ana)
    client.get(detail_url(funnel))
    FunnelResult.objects.filter(funnel=funnel).update(payload={"steps": [], "breakdown": []})
    response = client.post(reverse("funnels-refresh", kwargs={"slug": "acme", "pk": funnel.pk}))
    assert response.status_code == 302
    assert [s["count"] for s in FunnelResult.objects.get(funnel=funnel).payload["steps"]] == [2, 2, 1]
    assert client.get(reverse("funnels-refresh", kwargs={"slug": "acme", "pk": funnel.pk})).status_code == 405


def test_private_funnels_of_others_are_404_and_shared_ones_read_only(client, leads):
    bob = get_user_model().objects.create_user("bob")
    private = make_funnel(leads, bob)
    shared = make_funnel(leads, bob, visibility="workspace")
    login(client, leads)  # an analyst, not the owner
    assert client.get(detail_url(private)).status_code == 404
    for name in ("funnels-edit", "funnels-refresh", "funnels-delete", "funnels-chart"):
        url = reverse(name, kwargs={"slug": "acme", "pk": private.pk})
        assert (
            client.post(url) if name in ("funnels-refresh", "funnels-delete") else client.get(url)
        ).status_code == 404
    response = client.get(detail_url(shared))
    assert response.status_code == 200 and "Delete…" not in text(response)
    assert client.get(reverse("funnels-edit", kwargs={"slug": "acme", "pk": shared.pk})).status_code == 403
    assert client.post(reverse("funnels-delete", kwargs={"slug": "acme", "pk": shared.pk})).status_code == 403
    assert Funnel.objects.filter(pk=shared.pk).exists()


def test_owner_edits_and_deletes(client, leads, django_capture_on_commit_callbacks):
    ana = login(client, leads)
    funnel = make_funnel(leads, ana)
    edit = reverse("funnels-edit", kwargs={"slug": "acme", "pk": funnel.pk})
    html = client.get(edit).content.decode()
    assert 'value="Lead process"' in html and re.search(r'name="steps-2-action".*?value="convert" selected', html, re.S)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(edit, builder_post(name="Renamed", window_days="3", unit="record"))
    assert response.status_code == 302
    funnel.refresh_from_db()
    assert (funnel.name, funnel.window_days, funnel.unit, funnel.owner) == ("Renamed", 3, "record", ana)
    response = client.post(reverse("funnels-delete", kwargs={"slug": "acme", "pk": funnel.pk}))
    assert response.status_code == 302 and response["Location"] == tab_url()
    assert not Funnel.objects.exists()


def test_a_workspace_admin_edits_a_shared_funnel(client, leads):
    bob = get_user_model().objects.create_user("bob")
    shared = make_funnel(leads, bob, visibility="workspace")
    login(client, leads, username="adm", role=Membership.Role.ADMIN)
    assert client.get(reverse("funnels-edit", kwargs={"slug": "acme", "pk": shared.pk})).status_code == 200
    assert "Delete…" in text(client.get(detail_url(shared)))
