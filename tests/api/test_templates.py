"""Templates and workflows through the API: the console's validation, presets read-only, conflicts."""

from __future__ import annotations

import pytest

from media_jobs.forms import TemplateForm
from media_jobs.models import AnimatedImageTemplate, Workflow
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


def test_templates_list_by_type_with_offset_and_limit(api) -> None:  # noqa: ANN001
    presets = AnimatedImageTemplate.objects.filter(kind="Preset").count()
    assert api.post("/api/v1/templates", {"name": "mine", "width": 240}).status_code == 201
    body = api.get("/api/v1/templates", {"type": "preset", "limit": 2, "offset": 1}).json()
    assert body["total_count"] == presets and body["limit"] == 2 and body["offset"] == 1
    assert [t["type"] for t in body["items"]] == ["Preset", "Preset"]
    assert body["items"][0]["definition"] == 20001
    custom = api.get("/api/v1/templates", {"type": "Custom"}).json()
    assert custom["total_count"] == 1 and custom["items"][0]["name"] == "mine"
    assert api.get("/api/v1/templates").json()["total_count"] == presets + 1
    assert_error(api.get("/api/v1/templates", {"type": "other"}), 400, "InvalidParameter", "type")
    assert_error(api.get("/api/v1/templates", {"limit": 101}), 400, "InvalidParameter", "limit")
    assert_error(api.get("/api/v1/templates", {"offset": -1}), 400, "InvalidParameter", "offset")


def test_get_by_definition_and_404(api) -> None:  # noqa: ANN001
    body = api.get("/api/v1/templates/20000").json()
    assert (body["definition"], body["type"], body["format"]) == (20000, "Preset", "gif")
    assert_error(api.get("/api/v1/templates/123456"), 404, "ResourceNotFound")


def test_create_fills_defaults_and_returns_the_new_definition(api) -> None:  # noqa: ANN001
    response = api.post("/api/v1/templates", {"name": "webp 320", "format": "webp", "width": 320, "fps": 12,
                                               "start": -3, "duration": 2, "quality": 60})
    assert response.status_code == 201
    body = response.json()
    assert body["definition"] >= 100000 and body["type"] == "Custom"
    assert (body["resolution_adaptive"], body["colors"], body["dither"], body["end"]) == (True, 256, "bayer", None)
    stored = AnimatedImageTemplate.objects.get(definition=body["definition"])
    assert (stored.format, stored.width, stored.fps, stored.start, stored.duration) == ("webp", 320, 12, -3, 2)


@pytest.mark.parametrize("payload, field", [
    ({"name": "bad", "width": 5}, "width"),
    ({"name": "bad", "fps": 500}, "fps"),
    ({"name": "bad", "format": "avi"}, "format"),
    ({"name": "bad", "end": 4, "duration": 2}, "duration"),
    ({"name": "bad", "colors": 1}, "colors"),
    ({"name": "x" * 65}, "name"),
])
def test_a_rule_gives_the_console_forms_message(api, payload: dict, field: str) -> None:  # noqa: ANN001
    body = assert_error(api.post("/api/v1/templates", payload), 400, "InvalidParameter")
    form = TemplateForm(data={**{k: getattr(AnimatedImageTemplate(), k) for k in TemplateForm.Meta.fields}, **payload})
    assert not form.is_valid()
    assert body["field"] == field and list(form.errors) == [field]
    assert body["message"] == f"{field}: {form.errors[field][0]}"
    assert not AnimatedImageTemplate.objects.filter(name="bad").exists()


def test_type_errors_unknown_fields_and_missing_names_are_named(api) -> None:  # noqa: ANN001
    assert_error(api.post("/api/v1/templates", {"name": "t", "width": "wide"}), 400, "InvalidParameter", "width")
    assert_error(api.post("/api/v1/templates", {"name": "t", "widht": 200}), 400, "InvalidParameter", "widht")
    assert_error(api.post("/api/v1/templates", {"width": 200}), 400, "MissingParameter", "name")
    response = api.client.post("/api/v1/templates", "{not json", content_type="application/json",
                               headers=api._headers(None))
    assert_error(response, 400, "InvalidParameter")


def test_a_duplicate_name_is_a_conflict(api) -> None:  # noqa: ANN001
    assert api.post("/api/v1/templates", {"name": "twice"}).status_code == 201
    assert_error(api.post("/api/v1/templates", {"name": "twice"}), 409, "Conflict", "name")


def test_update_changes_only_the_fields_given(api) -> None:  # noqa: ANN001
    definition = api.post("/api/v1/templates", {"name": "edit me", "width": 200, "fps": 8}).json()["definition"]
    response = api.patch(f"/api/v1/templates/{definition}", {"fps": 15, "comment": "faster"})
    assert response.status_code == 200
    body = response.json()
    assert (body["width"], body["fps"], body["comment"], body["name"]) == (200, 15, "faster", "edit me")
    assert_error(api.patch(f"/api/v1/templates/{definition}", {"quality": 0}), 400, "InvalidParameter", "quality")
    assert AnimatedImageTemplate.objects.get(definition=definition).quality == 75


def test_presets_cannot_be_edited_or_deleted_but_can_be_copied(api) -> None:  # noqa: ANN001
    assert_error(api.patch("/api/v1/templates/20000", {"fps": 5}), 403, "OperationDenied")
    assert_error(api.delete("/api/v1/templates/20000"), 403, "OperationDenied")
    response = api.post("/api/v1/templates/20000/copy", {"name": "my gif"})
    assert response.status_code == 201
    copy = response.json()
    preset = api.get("/api/v1/templates/20000").json()
    assert copy["type"] == "Custom" and copy["definition"] >= 100000
    assert {k: copy[k] for k in ("format", "fps", "width", "height")} == {k: preset[k] for k in ("format", "fps", "width", "height")}
    assert_error(api.post("/api/v1/templates/20000/copy", {"name": "my gif"}), 409, "Conflict", "name")
    assert_error(api.post("/api/v1/templates/7/copy", {"name": "nope"}), 404, "ResourceNotFound")


def test_delete_is_refused_while_a_workflow_uses_the_template(api) -> None:  # noqa: ANN001
    definition = api.post("/api/v1/templates", {"name": "in use"}).json()["definition"]
    workflow = api.post("/api/v1/workflows", {"name": "wf", "steps": [{"definition": definition}]}).json()
    body = assert_error(api.delete(f"/api/v1/templates/{definition}"), 409, "Conflict")
    assert "wf" in body["message"]
    assert api.delete(f"/api/v1/workflows/{workflow['id']}").status_code == 204
    assert api.delete(f"/api/v1/templates/{definition}").status_code == 204
    assert_error(api.get(f"/api/v1/templates/{definition}"), 404, "ResourceNotFound")


def test_workflows_create_get_list_replace_delete(api) -> None:  # noqa: ANN001
    response = api.post("/api/v1/workflows", {"name": "previews", "comment": "two", "steps": [
        {"definition": 20000}, {"definition": 20001, "start_time_offset": -5, "end_time_offset": 0}]})
    assert response.status_code == 201
    wf = response.json()
    assert [s["definition"] for s in wf["steps"]] == [20000, 20001]
    assert wf["steps"][1]["start_time_offset"] == -5
    assert api.get(f"/api/v1/workflows/{wf['id']}").json() == wf
    assert api.get("/api/v1/workflows").json()["total_count"] == 1
    replaced = api.put(f"/api/v1/workflows/{wf['id']}", {"name": "previews 2", "steps": [{"definition": 20001}]}).json()
    assert replaced["name"] == "previews 2" and [s["definition"] for s in replaced["steps"]] == [20001]
    assert Workflow.objects.get().steps.count() == 1
    assert api.delete(f"/api/v1/workflows/{wf['id']}").status_code == 204
    assert_error(api.get(f"/api/v1/workflows/{wf['id']}"), 404, "ResourceNotFound")
    assert_error(api.get("/api/v1/workflows/not-a-uuid"), 404, "ResourceNotFound")


def test_workflow_errors_name_their_field(api) -> None:  # noqa: ANN001
    assert_error(api.post("/api/v1/workflows", {"name": "w", "steps": []}), 400, "MissingParameter", "steps")
    assert_error(api.post("/api/v1/workflows", {"name": "w", "steps": [{"definition": 20000}, {"definition": 5}]}),
                 400, "InvalidParameter", "steps[1].definition")
    assert_error(api.post("/api/v1/workflows", {"name": " ", "steps": [{"definition": 20000}]}),
                 400, "MissingParameter", "name")
    assert_error(api.post("/api/v1/workflows", {"steps": [{"definition": 20000}]}), 400, "MissingParameter", "name")
    assert api.post("/api/v1/workflows", {"name": "w", "steps": [{"definition": 20000}]}).status_code == 201
    assert_error(api.post("/api/v1/workflows", {"name": "w", "steps": [{"definition": 20000}]}), 409, "Conflict", "name")
    assert Workflow.objects.count() == 1
