import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_usage.settings")
application = get_wsgi_application()

# Import every view now (the URLconf imports them), then take everything loaded so far out of the
# garbage collector's sight. A request that builds a few thousand rows (a users table, a filter
# set) triggers full collections, and each would walk the hundreds of thousands of objects of
# Django and the app: measured at 10M events, the filter set's p95 fell from 139 to 95 ms (p50 81
# to 79 ms). Objects created later are collected as usual.
get_resolver().url_patterns  # noqa: B018 - evaluated for its import side effect
gc.freeze()
