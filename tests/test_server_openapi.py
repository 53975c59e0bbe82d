"""The served /openapi.json is a valid OpenAPI 3 document whose schemas are the library's models: one
contract with the CLI's --json."""

from __future__ import annotations

import json

import pytest
from openapi_spec_validator import validate

from gitsnap import Store, models
from tests.http_service import GitsnapServer


@pytest.fixture(scope="module")
def document(tmp_path_factory):
    repo = tmp_path_factory.mktemp("openapi") / "gitsnap.git"
    Store.init(repo)
    server = GitsnapServer(repo, tmp_path_factory.mktemp("home"))
    try:
        return server.http.get("/openapi.json").json()
    finally:
        server.stop()


def test_the_document_is_valid_openapi_3(document):
    assert document["openapi"].startswith("3.")
    validate(document)


def test_the_endpoints_are_exactly_designs_table(document):
    operations = {(method.upper(), path) for path, methods in document["paths"].items() for method in methods}
    assert operations == {
        ("POST", "/api/org-snapshots"), ("GET", "/api/org-snapshots"), ("GET", "/api/org-snapshots/{id}"),
        ("DELETE", "/api/org-snapshots/{id}"), ("POST", "/api/org-snapshots/{id}/apply"),
        ("PUT", "/api/orgs/{orgId}"), ("GET", "/api/orgs"), ("GET", "/api/orgs/{orgId}"),
        ("POST", "/api/prompts/{promptId}/versions"), ("GET", "/api/prompts/{promptId}/versions"),
        ("GET", "/api/prompts/{promptId}/versions/{n}"), ("POST", "/api/prompts/{promptId}/versions/{n}/restore"),
        ("GET", "/api/prompts/{promptId}/aliases"), ("PUT", "/api/prompts/{promptId}/aliases/{alias}"),
        ("DELETE", "/api/prompts/{promptId}/aliases/{alias}"), ("GET", "/api/prompts/{promptId}/aliases/{alias}/history"),
        ("POST", "/api/stubs/{stubref}/snapshots"), ("GET", "/api/stubs/{stubref}/snapshots"),
        ("POST", "/api/stubs/{stubref}/snapshots/{type}/{name}/restore"), ("GET", "/healthz")}


def test_the_results_are_the_librarys_models_in_their_json_shape(document):
    schemas = document["components"]["schemas"]
    for model in (models.SnapshotResult, models.PromptVersionResult, models.PromptVersionSnapshot,
                  models.StubSnapshot, models.StubSnapshotResult, models.ApplyResult, models.ImportResult):
        assert set(schemas[model.__name__]["properties"]) == models.json_keys(model), model.__name__
    assert set(schemas["PromptVersionResult"]["properties"]) == {"message", "skipped", "version", "versionId",
                                                                 "versionSnapshot"}
    assert "_id" in schemas["PromptVersionSnapshot"]["properties"]
    created = document["paths"]["/api/prompts/{promptId}/versions"]["post"]["responses"]["201"]
    assert created["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/PromptVersionResult"}


def test_the_bodies_are_the_seeds(document):
    schemas = document["components"]["schemas"]
    assert set(schemas["SnapshotCreate"]["properties"]) == {"name", "description", "sourceOrgId", "sourceUserId"}
    assert set(schemas["SnapshotCreate"]["required"]) == {"name", "sourceOrgId", "sourceUserId"}
    assert schemas["SnapshotCreate"]["additionalProperties"] is False
    assert set(schemas["PromptVersionCreate"]["properties"]) == {"prompt", "label", "displayVersion", "title",
                                                                 "description", "source"}
    assert "additionalProperties" not in schemas["PromptVersionCreate"]  # seed 001's body is open
    assert set(schemas["StubSnapshotCreate"]["properties"]) == {"snapshot_type", "snapshot_name", "chat_name",
                                                                "snapshot_gpt_chat_tasks", "child_snapshots"}
    put = document["paths"]["/api/orgs/{orgId}"]["put"]["requestBody"]
    assert put["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/OrgExport"}


def test_every_error_is_documented_as_the_envelope_and_never_as_detail(document):
    text = json.dumps(document)
    assert '"detail"' not in text and "HTTPValidationError" not in text and '"422"' not in text
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if path != "/healthz":
                assert operation["security"] == [{"bearerAuth": []}], (method, path)
                assert operation["responses"]["401"]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorEnvelope"}
    assert document["components"]["securitySchemes"]["bearerAuth"]["bearerFormat"] == "JWT"
