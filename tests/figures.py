"""Figures as the callbacks return them (plain Plotly JSON), checked the way a go.Figure would be."""

from __future__ import annotations

import plotly.graph_objects as go


def _differences(ours: object, plotlys: object, path: str = "") -> list[str]:
    if isinstance(ours, dict) and isinstance(plotlys, dict):
        found = []
        for key in ours.keys() | plotlys.keys():
            if key not in plotlys or key not in ours:
                found.append(f"{path}.{key}: ours {ours.get(key)!r:.80}, Plotly's {plotlys.get(key)!r:.80}")
            else:
                found += _differences(ours[key], plotlys[key], f"{path}.{key}")
        return found
    if isinstance(ours, list) and isinstance(plotlys, list) and len(ours) == len(plotlys):
        pairs = enumerate(zip(ours, plotlys, strict=True))
        return [found for i, (a, b) in pairs for found in _differences(a, b, f"{path}[{i}]")]
    if ours == plotlys and type(ours) is type(plotlys):
        return []
    return [f"{path}: ours {ours!r:.80}, Plotly's {plotlys!r:.80}"]


def as_figure(figure: dict | go.Figure) -> go.Figure:
    """The figure, validated: Plotly reads it (no unknown property, no bad value) and writes it back
    unchanged (it is already in Plotly's JSON form: no `marker_color`, no title given as a string)."""
    if isinstance(figure, go.Figure):
        return figure  # checked already
    assert isinstance(figure, dict), type(figure)
    checked = go.Figure(figure)
    differences = _differences(figure, checked.to_plotly_json())
    assert not differences, differences[:5]
    return checked
