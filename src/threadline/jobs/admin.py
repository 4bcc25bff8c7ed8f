from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from threadline.core.time import now
from threadline.jobs.models import Job, SchedulerLock


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Dead letters are visible here (filter by state) and can be queued again."""

    list_display = ("id", "task", "state", "attempts", "run_after", "last_error")
    list_filter = ("state", "task")
    search_fields = ("task", "unique_key")
    actions = ["requeue"]

    @admin.action(description="Queue the selected jobs again")
    def requeue(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        queryset.update(state=Job.State.QUEUED, run_after=now(), locked_by="", lease_until=None, attempts=0)


admin.site.register(SchedulerLock)
