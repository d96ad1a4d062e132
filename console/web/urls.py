"""The HTML console's pages (URL names carry the `console-` prefix)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from console.web import language
from console.web.views import callbacks, embed, library, overview, player, preview, tasks, templates, workflows

urlpatterns = [
    path("", overview.overview, name="console-home"),
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="console-login"),
    path("logout/", auth_views.LogoutView.as_view(), name="console-logout"),
    path("language/", language.set_language, name="console-language"),
    # Media library and each video's tabs
    path("videos/", library.library, name="console-library"),
    path("videos/upload/", library.upload, name="console-upload"),
    path("videos/<uuid:public_id>/", library.video_info, name="console-video"),
    path("videos/<uuid:public_id>/processing/", library.video_processing, name="console-video-processing"),
    path("videos/<uuid:public_id>/animated-images/", library.video_images, name="console-video-images"),
    path("videos/<uuid:public_id>/status.json", library.video_status, name="console-video-status"),
    path("preview/", preview.preview, name="console-preview"),
    path("videos/<uuid:public_id>/play/", player.video_play, name="console-video-play"),
    path("videos/<uuid:public_id>/rename/", library.video_rename, name="console-video-rename"),
    path("videos/<uuid:public_id>/delete/", library.video_delete, name="console-video-delete"),
    path("animated-images/<uuid:public_id>/cover/", library.image_cover, name="console-image-cover"),
    path("animated-images/<uuid:public_id>/retry/", library.image_retry, name="console-image-retry"),
    path("animated-images/<uuid:public_id>/delete/", library.image_delete, name="console-image-delete"),
    path("animated-images/<uuid:public_id>/gif-twin/", embed.image_gif_twin, name="console-image-gif-twin"),
    # Templates and workflows
    path("templates/", templates.template_list, name="console-templates"),
    path("templates/new/", templates.template_create, name="console-template-create"),
    path("templates/<int:definition>/edit/", templates.template_edit, name="console-template-edit"),
    path("templates/<int:definition>/copy/", templates.template_copy, name="console-template-copy"),
    path("templates/<int:definition>/delete/", templates.template_delete, name="console-template-delete"),
    path("presets/", templates.preset_catalog, name="console-presets"),
    path("workflows/", workflows.workflow_list, name="console-workflows"),
    path("workflows/new/", workflows.workflow_create, name="console-workflow-create"),
    path("workflows/<uuid:public_id>/edit/", workflows.workflow_edit, name="console-workflow-edit"),
    path("workflows/<uuid:public_id>/delete/", workflows.workflow_delete, name="console-workflow-delete"),
    # Tasks
    path("tasks/", tasks.task_list, name="console-tasks"),
    path("tasks/<uuid:task_id>/", tasks.task_detail, name="console-task"),
    path("tasks/<uuid:task_id>/retry/", tasks.task_retry, name="console-task-retry"),
    path("tasks/<uuid:task_id>/abort/", tasks.task_abort, name="console-task-abort"),
    # Notifications: push subscriptions, their delivery logs, the event log
    path("notifications/", callbacks.subscription_list, name="console-notifications"),
    path("notifications/new/", callbacks.subscription_create, name="console-subscription-create"),
    path("notifications/events/", callbacks.event_list, name="console-events"),
    path("notifications/events/<uuid:event_id>/", callbacks.event_detail, name="console-event"),
    path("notifications/deliveries/<uuid:public_id>/redeliver/", callbacks.delivery_redeliver,
         name="console-delivery-redeliver"),
    path("notifications/<uuid:public_id>/", callbacks.subscription_detail, name="console-subscription"),
    path("notifications/<uuid:public_id>/edit/", callbacks.subscription_edit, name="console-subscription-edit"),
    path("notifications/<uuid:public_id>/delete/", callbacks.subscription_delete, name="console-subscription-delete"),
    path("notifications/<uuid:public_id>/rotate/", callbacks.subscription_rotate, name="console-subscription-rotate"),
    path("notifications/<uuid:public_id>/redeliver-failed/", callbacks.subscription_redeliver_failed,
         name="console-subscription-redeliver-failed"),
]
