from django.contrib import admin

from media_jobs.models import AnimatedImage, AnimatedImageTemplate, Task, Video, Workflow, WorkflowStep


class WorkflowStepInline(admin.TabularInline):
    model = WorkflowStep
    extra = 1


@admin.register(AnimatedImageTemplate)
class AnimatedImageTemplateAdmin(admin.ModelAdmin):
    list_display = ("definition", "name", "kind", "format", "width", "height", "fps")
    list_filter = ("kind", "format")
    search_fields = ("name",)


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    list_display = ("name", "comment", "created_at")
    inlines = [WorkflowStepInline]


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = ("title", "status", "duration", "width", "height", "size", "created_at")
    list_filter = ("status",)
    search_fields = ("title",)


class AnimatedImageInline(admin.TabularInline):
    model = AnimatedImage
    extra = 0
    fields = ("definition", "template_name", "status", "progress", "error_code", "file", "frames", "size")
    readonly_fields = fields


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("task_id", "video", "origin", "status", "result", "created_at", "finished_at")
    list_filter = ("status", "origin", "result")
    inlines = [AnimatedImageInline]
