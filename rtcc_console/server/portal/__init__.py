"""The owner portal: server-rendered pages under ``/portal/`` (issue 12)."""
