"""The retained event log: every event published on ``danbyte:events`` is also appended to
a Redis Stream, and its stream id (``event_id``) is put into the event itself, so a
subscriber that lost its connection (a rolling restart, a network blip) resumes with
``object_changed(after: "<last event_id>")`` and gets every event it missed, then the live
ones, none twice (docs/scaling.md).

One Lua script appends and publishes atomically, so the order of ids is the order of
publication and no event is published without being retained (or the reverse). The
stream keeps about DANBYTE_EVENT_RETENTION entries (``MAXLEN ~``)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

STREAM = "danbyte:events:log"
# KEYS: stream, channel. ARGV: retention, then one JSON object per event. The id goes in
# as the first member of each object: '{"event_id":"<id>",' + the rest of the object.
PUBLISH_SCRIPT = """
local ids = {}
for i = 2, #ARGV do
  local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[i])
  local body = string.sub(ARGV[i], 2)
  if body ~= '}' then body = ',' .. body end
  redis.call('PUBLISH', KEYS[2], '{"event_id":"' .. id .. '"' .. body)
  ids[#ids + 1] = id
end
return ids
"""
_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
PAGE = 1000


class EventsExpired(Exception):
    """The events after the cursor are no longer all retained."""


def valid_id(value: str) -> bool:
    return bool(_ID.match(value))


def id_key(value: str) -> tuple[int, int]:
    ms, seq = value.split("-")
    return int(ms), int(seq)


def script_args(events: list[dict[str, Any]], retention: int) -> list[Any]:
    return [max(1, retention), *(json.dumps(event, default=str) for event in events)]


def _decode(entry_id: Any, fields: dict[Any, Any]) -> dict[str, Any]:
    raw = fields[b"e"] if b"e" in fields else fields["e"]
    event = json.loads(raw)
    return {"event_id": entry_id.decode() if isinstance(entry_id, bytes) else entry_id, **event}


async def replay(client: Any, after: str, retention: int) -> AsyncIterator[dict[str, Any]]:
    """The retained events after ``after`` (an event id), oldest first, read a page at a
    time (a long replay holds one page in memory, and stops when its reader does). Raises
    ``EventsExpired`` when some may have been trimmed away since."""
    oldest = await client.xrange(STREAM, "-", "+", count=1)
    if oldest:
        first = oldest[0][0].decode() if isinstance(oldest[0][0], bytes) else oldest[0][0]
        # Trimming starts once the stream is full: an older cursor may have lost events.
        if id_key(first) > id_key(after) and await client.xlen(STREAM) >= retention:
            raise EventsExpired(first)
    cursor = after
    while True:
        page = await client.xrange(STREAM, f"({cursor}", "+", count=PAGE)
        for entry_id, fields in page:
            event = _decode(entry_id, fields)
            cursor = event["event_id"]
            yield event
        if len(page) < PAGE:
            return
