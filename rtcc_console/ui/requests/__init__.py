"""Footage requests in the console: the request form (area drawn on the map, window,
message, case number, preview) and the Requests panel (live per-owner states)."""

from rtcc_console.ui.requests.form import RequestForm, RequestSeed
from rtcc_console.ui.requests.panel import RequestsPanel

__all__ = ["RequestForm", "RequestSeed", "RequestsPanel"]
