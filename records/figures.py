"""How the records' figures are written (API.md "CRM records"): amounts as 2-decimal strings in the
base currency, ``_pct`` with 1 decimal, ratios with 2, rho with 3, ``None`` on a 0 divisor. Money is
kept in whole cents and rounded half up, once, after summing (a weighted sum, an average)."""

from __future__ import annotations

from babel.numbers import format_currency

from tenancy.models import Workspace


def cents_text(cents: int | None) -> str | None:
    """``123456`` → ``"1234.56"`` (None stays None: a missing amount)."""
    if cents is None:
        return None
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def div_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up (away from zero) to a whole number, exactly."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def weighted_cents(cents_times_probability: int) -> int:
    """Σ amount × probability / 100 (Σ kept in cents × percent), rounded half up to cents."""
    return div_half_up(cents_times_probability, 100)


def pct(numerator: float, denominator: float) -> float | None:
    """numerator ÷ denominator × 100 with 1 decimal; None when the divisor is 0."""
    return round(numerator / denominator * 100, 1) if denominator else None


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator ÷ denominator with 2 decimals; None when the divisor is 0."""
    return round(numerator / denominator, 2) if denominator else None


def money(cents: int | None, workspace: Workspace, language: str = "en") -> str:
    """An amount for a page: the workspace's currency as the reader's language writes it ("—" when missing)."""
    if cents is None:
        return "—"
    locale = "zh_Hans_CN" if language.lower().startswith("zh") else "en_US"
    return format_currency(cents / 100, workspace.currency, locale=locale)
