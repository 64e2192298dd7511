"""Real Dash callback payloads, built from what /_dash-dependencies says, for HTTP tests."""

from __future__ import annotations

import re

from tests.conftest import ORIGIN

CALLBACK_URL = "/_dash-update-component"


def _outputs(output: str) -> list[dict]:
    parts = output.strip(".").split("...") if output.startswith("..") else [output]
    found = []
    for part in parts:
        component, _, prop = part.rpartition(".")
        found.append({"id": component, "property": prop})
    return found


def payload(dependency: dict, values: dict | None = None) -> dict:
    """A request body as dash-renderer sends it; `values` maps 'id.property' to a value."""
    values = values or {}
    outputs = _outputs(dependency["output"])
    return {
        "output": dependency["output"],
        "outputs": outputs if dependency["output"].startswith("..") else outputs[0],
        "inputs": [{**item, "value": values.get(f"{item['id']}.{item['property']}")} for item in dependency["inputs"]],
        "state": [{**item, "value": values.get(f"{item['id']}.{item['property']}")} for item in dependency["state"]],
        "changedPropIds": [f"{item['id']}.{item['property']}" for item in dependency["inputs"]],
    }


def find(dependencies: list[dict], output_pattern: str) -> dict:
    return next(d for d in dependencies if re.search(output_pattern, d["output"]))


def post(client, body: dict, origin: str = ORIGIN):
    return client.post(CALLBACK_URL, json=body, headers={"Origin": origin})
