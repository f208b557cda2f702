"""Declarative CRM records for the Sales tests: short builders for the batch items of API.md, and the
HTTP helpers every Sales test file uses."""

from __future__ import annotations

from typing import Any

from tests.conftest import crm_records, crm_users

API = "/api/v1/workspaces/{slug}/sales/{name}"


def account(external_id: str, name: str | None = None, owner: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"external_id": external_id, "name": name or f"Account {external_id}", "owner": owner,
            "created_at": "2024-01-01", **extra}  # fmt: skip


def deal(
    external_id: str,
    state: str,
    amount: str | None,
    close: str | None,
    owner: str | None = None,
    account_id: str = "A1",
    **extra: Any,
) -> dict[str, Any]:
    item = {"external_id": external_id, "account": account_id, "name": f"Deal {external_id}", "owner": owner,
            "amount": amount, "stage": extra.pop("stage", "Proposal"), "state": state, "close_date": close,
            "created_at": extra.pop("created_at", "2024-06-01")}  # fmt: skip
    return {**item, **extra}


def activity(external_id: str, kind: str, owner: str, occurred_at: str, **extra: Any) -> dict[str, Any]:
    return {"external_id": external_id, "kind": kind, "owner": owner, "occurred_at": occurred_at, **extra}


def seed(workspace: Any, users: list[str], **kinds: list[dict[str, Any]]) -> None:
    """CRM users, then each kind of records in the order a CRM sends them."""
    crm_users(workspace, [{"external_id": u, "name": f"Name of {u}"} for u in users])
    for kind in ("accounts", "deals", "activities", "targets"):
        if kinds.get(kind):
            crm_records(workspace, kind, kinds[kind])


def get(client: Any, workspace: Any, name: str, **params: Any) -> Any:
    """The JSON of a Sales endpoint (asserting 200)."""
    response = client.get(API.format(slug=workspace.slug, name=name), params)
    assert response.status_code == 200, response.content
    return response.json()
