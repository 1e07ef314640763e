"""Documents in the admin: who owns and edits each, its size, and a compaction action. The text itself is
edited only through the editor (collab.services), never as a form field."""

from django.contrib import admin

from collab import services
from collab.models import Document


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "public", "size", "pending", "updated_at")
    list_filter = ("public",)
    search_fields = ("title", "owner__username")
    filter_horizontal = ("editors",)
    readonly_fields = ("size", "pending", "created_at", "updated_at", "text")
    actions = ["compact"]

    @admin.display(description="Text (read only)")
    def text(self, document):
        return services.text_of(document)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change:  # editors or public changed here: open sockets re-check their rights
            services.document_share(document=form.instance, by=form.instance.owner)

    def delete_model(self, request, document):  # its open sockets get `removed`
        services.document_delete(document=document, by=document.owner)

    def delete_queryset(self, request, queryset):
        for document in queryset.select_related("owner"):
            services.document_delete(document=document, by=document.owner)

    @admin.action(description="Merge stored updates into the snapshot now")
    def compact(self, request, queryset):
        for document in queryset:
            services.compact(document_id=document.pk)
