// Keyboard and screen-reader fixes for what Dash's own components render, and the grids' Enter key.
// Each fix says which axe-core rule (or which mouse-only action) it answers; tests/test_browser_a11y.py checks them.
(function () {
    function fix() {
        // dcc.Dropdown (Dash 4.4) makes an aria-hidden input its tab stop, which hands focus on to the real
        // button (axe: aria-hidden-focus). The button, named by its label, becomes the tab stop; the input inert.
        document.querySelectorAll(".dash-dropdown-focus-target:not([inert])").forEach(function (input) {
            input.inert = true;
            const button = input.nextElementSibling;
            if (button && button.tagName === "BUTTON" && !button.disabled) {
                button.tabIndex = 0;
            }
        });
        // dcc.DatePickerRange's wrapper <div> says aria-expanded with no role that allows it (axe:
        // aria-allowed-attr, critical): it groups the two date fields, so it is a group.
        document.querySelectorAll(".dash-datepicker-input-wrapper:not([role])").forEach(function (wrapper) {
            wrapper.setAttribute("role", "group");
            wrapper.setAttribute("aria-label", "Dates");
        });
    }
    new MutationObserver(fix).observe(document.documentElement, {childList: true, subtree: true});
    fix();
})();

// Called by dash-ag-grid's eventListeners (layouts/users.py), by name, no eval.
window.dashAgGridFunctions = Object.assign({}, window.dashAgGridFunctions, {
    // Users: Enter opens a person as a click or Space does (a selected row opens the panel).
    selectRowOnEnter: function (params) {
        if (params.event && params.event.key === "Enter" && params.node) {
            params.node.setSelected(true);
        }
    },
});

// AG Grid hands the focus from a grid's last cell (Tab) to its pager with preventScroll: the page stayed put and
// the focused "Page Size" below the window. Brought into view, as the browser does for any other focus.
document.addEventListener("focusin", function (event) {
    if (event.target.closest && event.target.closest(".ag-paging-panel")) {
        event.target.scrollIntoView({block: "nearest"});
    }
});
