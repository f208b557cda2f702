from django.contrib import admin

from tenancy.admin import SavedConfigAdmin
from useranalysis.models import FilterSet


@admin.register(FilterSet)
class FilterSetAdmin(SavedConfigAdmin):
    list_display = ["name", "workspace", "owner", "visibility", "group_by", "updated_at"]
    list_filter = [("workspace", admin.RelatedOnlyFieldListFilter), "visibility"]
    search_fields = ["name", "owner__username"]
    autocomplete_fields = ["owner"]
