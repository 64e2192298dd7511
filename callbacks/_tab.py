"""A tab's data callbacks answered in one request instead of one request each.

When a tab's period changes, dash-renderer sends one request per callback that reads the tab's
`<tab>-query` store. Each request pays the same fixed price before any work is done (HTTP, the session
and access gate, Dash's dispatch: 2-3 ms of the server's time), and on two cores the requests do not
run faster side by side than one after another (measured: a tab's callbacks sent at once or in turn
took the same time). So a tab registers its parts as one callback with all their outputs.

Each part stays its own function (tests call them directly) and is memoised on its own
(`callbacks._memo`), and a part that fails does what a failed callback did before: its outputs stay
as they were, the error is logged and the page says so (`callbacks._errors`), and the other parts
are still shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import dash
from dash import Input, Output, no_update
from dash.exceptions import PreventUpdate

from callbacks._errors import show_callback_error
from callbacks._memo import memoised

Part = tuple[Sequence[Output], Callable]


def _as_list(value: object, count: int) -> list:
    return list(value) if count > 1 else [value]


def together(parts: Sequence[Part]) -> Callable:
    """One callback function answering every part's outputs, in order."""
    memoised_parts = [(len(outputs), memoised(update)) for outputs, update in parts]

    def update_tab(*args):
        answer = []
        for count, update in memoised_parts:
            try:
                value = update(*args)
            except PreventUpdate:
                value = (no_update,) * count if count > 1 else no_update
            except Exception as error:  # noqa: BLE001 - shown and logged, as Dash's on_error would
                show_callback_error(error)
                value = (no_update,) * count if count > 1 else no_update
            answer.extend(_as_list(value, count))
        return tuple(answer)

    return update_tab


def register_tab(app: dash.Dash, query: Input, parts: Sequence[Part]) -> None:
    """Register the parts that read `query` as one callback."""
    outputs = [output for part_outputs, _update in parts for output in part_outputs]
    app.callback(*outputs, query)(together(parts))
