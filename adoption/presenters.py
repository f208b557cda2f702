"""How the page shows the selector's answer: the plain-language reading of a correlation, the quartile
of a rep. No figure is computed here."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# |rho| from which a correlation reads as strong, moderate, weak (below: none). Usual rules of thumb
# for rank correlations; the page states them.
STRENGTHS: tuple[tuple[float, str], ...] = ((0.7, "strong"), (0.4, "moderate"), (0.2, "weak"))
STRENGTH_LABELS: dict[str, Promise] = {
    "strong": _("strong"),
    "moderate": _("moderate"),
    "weak": _("weak"),
    "none": _("none"),
    "unknown": _("not enough data"),
}


def strength(rho: float | None) -> str:
    """``strong`` | ``moderate`` | ``weak`` | ``none``, or ``unknown`` when there is no rho."""
    if rho is None:
        return "unknown"
    return next((name for bound, name in STRENGTHS if abs(rho) >= bound), "none")


@dataclass(frozen=True)
class Reading:
    figure: str
    label: Promise
    rho: float | None
    strength: str
    strength_label: Promise
    sentence: str


def reading(figure: str, label: Promise, rho: float | None) -> Reading:
    """A correlation in words: its strength and what it says about reps."""
    kind = strength(rho)
    what = str(label).lower()
    if rho is None:
        sentence = gettext(
            "Not enough data: it needs at least 3 reps, and neither the figure nor revenue the same for all."
        )
    elif kind == "none":
        sentence = gettext("No clear link between %(figure)s and revenue.") % {"figure": what}
    elif rho > 0:
        sentence = gettext("Reps with more %(figure)s tend to bring in more revenue.") % {"figure": what}
    else:
        sentence = gettext("Reps with more %(figure)s tend to bring in less revenue.") % {"figure": what}
    return Reading(figure, label, rho, kind, STRENGTH_LABELS[kind], sentence)
