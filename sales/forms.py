"""The Sales tab's toolbars: inputs only (``core.forms``); ``sales.queries`` says what the values mean
and whether they are valid. The period dashboards use the shared ``PeriodForm``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.forms import QueryForm, date_input


class AsOfForm(QueryForm):
    as_of = date_input(_("As of"), _("The day the figures are counted to; default today."))


class OpenPipelineForm(AsOfForm):
    start = date_input(_("Closing from"), _("Only deals closing on or after this day (optional)."))
    end = date_input(_("Closing to"), _("Only deals closing on or before this day (optional)."))
