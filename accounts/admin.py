from django.contrib import admin

from accounts.models import Segment
from tenancy.admin import SavedConfigAdmin


@admin.register(Segment)
class SegmentAdmin(SavedConfigAdmin):
    list_display = ["name", "workspace", "owner", "visibility", "updated_at"]
    list_filter = [("workspace", admin.RelatedOnlyFieldListFilter), "visibility"]
    search_fields = ["name", "owner__username"]
    autocomplete_fields = ["owner"]
