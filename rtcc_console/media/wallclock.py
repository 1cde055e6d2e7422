"""Capture wall-clock time carried in-band as an H.264/H.265 SEI "user data unregistered".

Cameras that stamp frames with their capture time let the console show honest latency.
The simulator prepends such an SEI to every access unit it serves (cost: a few bytes);
FFmpeg hands it to us as frame side data. Streams without it report latency as unknown.
"""

from __future__ import annotations

# 16 bytes, no zero bytes (so no emulation-prevention escaping is ever needed).
WALLCLOCK_UUID = bytes.fromhex("52544343b1a57e11c0ffee5a17c10c4b")
_PREFIX = b"wallclock="


def sei_payload(unix_time: float) -> bytes:
    """The user-data-unregistered payload: UUID + ASCII seconds since the epoch."""
    return WALLCLOCK_UUID + _PREFIX + f"{unix_time:.6f}".encode("ascii")


def _sei_body(unix_time: float) -> bytes:
    payload = sei_payload(unix_time)
    size = len(payload)
    size_bytes = b"\xff" * (size // 255) + bytes([size % 255])
    return b"\x05" + size_bytes + payload + b"\x80"  # type 5, size, payload, rbsp stop bit


def h264_sei_nal(unix_time: float) -> bytes:
    """An Annex B H.264 SEI NAL unit (type 6) carrying ``unix_time``."""
    return b"\x00\x00\x00\x01\x06" + _sei_body(unix_time)


def hevc_sei_nal(unix_time: float) -> bytes:
    """An Annex B H.265 prefix-SEI NAL unit (type 39) carrying ``unix_time``."""
    return b"\x00\x00\x00\x01\x4e\x01" + _sei_body(unix_time)


def wallclock_from_sei(data: bytes) -> float | None:
    """The capture time from a SEI_UNREGISTERED side-data blob, or None if not ours."""
    if not data.startswith(WALLCLOCK_UUID + _PREFIX):
        return None
    try:
        return float(data[len(WALLCLOCK_UUID) + len(_PREFIX) :].decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
