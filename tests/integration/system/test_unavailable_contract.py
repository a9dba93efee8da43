"""The API document promises what an outage answers: 503 with the one error body."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient

pytestmark = pytest.mark.integration


def test_every_api_operation_documents_503(client: TestClient[Litestar]) -> None:
    document = client.get("/schema/openapi.json").json()
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        if path.startswith("/api/")
        for method, operation in item.items()
    ]
    assert len(operations) > 20
    for path, method, operation in operations:
        response = operation["responses"].get("503")
        assert response is not None, (method, path)
        assert "Retry-After" in response["description"]
        schema = response["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path)
