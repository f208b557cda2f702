"""Chinese number formats with a thousands separator, as the charts (Chart.js) already print them."""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
