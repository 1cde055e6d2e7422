"""RTCC Console: a real-time crime center workstation and its backend."""

__version__ = "0.1.0"
