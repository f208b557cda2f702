"""The Celery application: configuration comes from Django settings (``CELERY_*``)."""

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_usage.settings")

app = Celery("crm_usage")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _load_the_text_analysis(**kwargs: object) -> None:
    """Load jieba's dictionary as each worker process starts (about a second), not in its first task."""
    from records.text_analysis import warm_up

    warm_up()
