"""Reading a NetBox ``manage.py dumpdata`` export as a stream of records.

An export is one JSON list of ``{"model": "app.model", "pk": …, "fields": {…}}`` objects,
plain or gzipped (told apart by the gzip magic bytes, not the file name). It is parsed
incrementally with ijson, one object at a time, so memory holds one record whatever the
export's size. Numbers that are not integers come back as ``Decimal``, exact as written
(coordinates, lengths, weights); integers as ``int``.

Both flavours of export are read:

- with ``--natural-primary --natural-foreign`` (NetBox's demo data): content types,
  users, groups, permissions and tags carry no ``pk``, and references to them are natural
  keys: ``"termination_type": ["dcim", "interface"]``, ``"user": ["admin"]``;
- without: every record has its ``pk`` and a content type is an integer, the id of a
  ``contenttypes.contenttype`` record of the same export.

``ContentTypes`` turns either form into NetBox's label, ``"dcim.interface"``, and
``Usernames`` into the username: they learn the integer ids from the export's own
records (``learn`` as they pass, or ``from_export`` for a first look). Malformed input
raises ``ExportError`` naming the object (its number, counted from 1, and the last good
record before it), never a parser's traceback.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Protocol

import ijson

GZIP_MAGIC = b"\x1f\x8b"
CONTENT_TYPE = "contenttypes.contenttype"
# What dumpdata writes as a record's model: Django's lower-case "app_label.model_name".
LABEL = re.compile(r"[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*")
_WHITESPACE = b" \t\r\n"
# Deeper than any NetBox JSON field holds (config context data nests a few levels); every
# level costs Python frames wherever the value is walked later.
MAX_DEPTH = 256
_BOM = b"\xef\xbb\xbf"

Source = str | os.PathLike[str] | IO[bytes]


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class ExportError(ValueError):
    """The export cannot be read: not JSON, not a list of records, a record without its
    model or fields, a truncated or damaged gzip stream, an unknown content type."""

    def __init__(self, message: str, *, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index  # the object's number in the list, from 1, where known


@dataclass(frozen=True, slots=True)
class Record:
    """One object of the export."""

    model: str  # NetBox's label: "dcim.site"
    pk: Any  # the NetBox id; None where the export names the object by natural key
    fields: dict[str, Any]
    index: int  # its number in the list, from 1

    def __repr__(self) -> str:  # a record's fields can be large: name it, don't print it
        return f"Record({self.model} pk={self.pk!r} #{self.index})"


def read_export(source: Source) -> Iterator[Record]:
    """Every record of a dumpdata export (a path or a binary file), in the export's order."""
    name = _name(source)
    with _open(source) as stream:
        yield from _records(stream, name)


def _name(source: Source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return str(getattr(source, "name", "<stream>"))


class _Prefixed:
    """A stream whose first bytes were already read (to look at them)."""

    def __init__(self, head: bytes, rest: _Readable) -> None:
        self.head, self.rest = head, rest

    def read(self, size: int = -1, /) -> bytes:
        if self.head:
            if size < 0:
                head, self.head = self.head, b""
                return head + self.rest.read()
            head, self.head = self.head[:size], self.head[size:]
            return head
        return self.rest.read(size)

    def seek(self, offset: int, /) -> int:
        raise io.UnsupportedOperation("an export is read once, front to back")


class _Opened:
    """The stream to parse: the source or its gunzipped content (told by the magic bytes,
    whatever the name); closes what it opened and nothing else."""

    def __init__(self, source: Source) -> None:
        self.owned: list[IO[bytes] | gzip.GzipFile] = []
        raw: IO[bytes]
        if isinstance(source, (str, os.PathLike)):
            raw = open(source, "rb")  # closed in __exit__
            self.owned.append(raw)
        else:
            raw = source
        magic = raw.read(len(GZIP_MAGIC))
        prefixed = _Prefixed(magic, raw)  # the magic bytes go back in front
        self.stream: _Readable = prefixed
        if magic == GZIP_MAGIC:
            unzipped = gzip.GzipFile(fileobj=prefixed, mode="rb")
            self.owned.append(unzipped)
            self.stream = unzipped

    def __enter__(self) -> _Readable:
        return self.stream

    def __exit__(self, *exc: object) -> None:
        for stream in reversed(self.owned):
            stream.close()


def _open(source: Source) -> _Opened:
    return _Opened(source)


def _records(stream: _Readable, name: str) -> Iterator[Record]:
    state = _State()

    def fail(problem: str, at_start: bool = False) -> ExportError:
        last = state.last
        if at_start:
            return ExportError(f"{name}: the start: {problem}")
        if state.ended:
            return ExportError(f"{name}: after the end of the list (object {state.count} was the last): {problem}")
        at = state.count + 1  # the object being read
        after = f" (after {last.model} pk={last.pk!r}, object {last.index})" if last is not None else ""
        return ExportError(f"{name}: object {at}{after}: {problem}", index=at)

    try:
        head = _opening(stream)
        if not head:
            raise fail("the export is empty: a dumpdata export is a JSON list", at_start=True)
        if head[:1] != b"[":
            raise fail(f"not a JSON list of records (it starts with {head[:1].decode('latin-1')!r})", at_start=True)
        events = ijson.basic_parse(_Prefixed(head, stream), use_float=False)
        for item in _items(events, fail, state):
            record = _record(item, state.count + 1, fail)
            state.count, state.last = record.index, record
            yield record
    except ExportError:
        raise
    except ijson.JSONError as error:
        raise fail(f"not valid JSON: {_first_line(error)}") from None
    except UnicodeDecodeError as error:
        raise fail(f"not valid UTF-8 ({error.reason})") from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise fail(f"the gzip stream is truncated or damaged ({error})") from None
    except OSError as error:
        raise fail(f"cannot be read ({error})") from None


class _State:
    """Where the reading is, for error messages."""

    def __init__(self) -> None:
        self.count = 0  # records handed over
        self.last: Record | None = None
        self.ended = False  # the top-level list has closed: what follows is trailing garbage


def _opening(stream: _Readable) -> bytes:
    """The first bytes that are not whitespace (after a byte-order mark, if any)."""
    first = b""
    while len(first) < len(_BOM):  # reads may come short (the magic bytes come back alone)
        more = stream.read(4096)
        if not more:
            break
        first += more
    chunk = first.removeprefix(_BOM)
    while True:
        rest = chunk.lstrip(_WHITESPACE)
        if rest:
            return rest
        chunk = stream.read(4096)
        if not chunk:
            return b""


def _items(events: Iterator[tuple[str, Any]], fail: Callable[[str, bool], ExportError], state: _State) -> Iterator[Any]:
    """The elements of the top-level list, built from the parser's events one at a time.

    Built here rather than by ``ijson.items``, which keeps the dotted path of every level
    as a string: a few hundred kilobytes of nested brackets would cost it gigabytes. The
    list has been checked to open the input; nesting is capped at ``MAX_DEPTH``."""
    opened = next(events, None)
    if opened is None or opened[0] != "start_array":
        raise fail("not a JSON list of records", True)
    # Open containers, innermost last, each with the key its next value takes.
    stack: list[list[Any]] = []
    for event, value in events:
        if event == "map_key":
            stack[-1][1] = value
            continue
        if event == "start_map" or event == "start_array":
            if len(stack) >= MAX_DEPTH:
                raise fail(f"nested deeper than {MAX_DEPTH} levels", False)
            stack.append([{} if event == "start_map" else [], None])
            continue
        if event == "end_map" or event == "end_array":
            if not stack:
                state.ended = True  # the parser still checks that nothing follows
                continue
            value = stack.pop()[0]
        if not stack:
            yield value
        else:
            container, key = stack[-1]
            if key is None:
                container.append(value)
            else:
                container[key] = value


def _first_line(error: Exception) -> str:
    text = error.args[0] if error.args else str(error)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text).strip().splitlines()[0] if str(text).strip() else type(error).__name__


def _record(item: Any, index: int, fail: Callable[[str], ExportError]) -> Record:
    if not isinstance(item, dict):
        raise fail(f"a record must be an object, not {_json_type(item)}")
    model = item.get("model")
    if not isinstance(model, str) or not LABEL.fullmatch(model):
        raise fail('a record needs its model as "app_label.model"' + (f", not {model!r}" if model is not None else ""))
    fields = item.get("fields")
    if not isinstance(fields, dict):
        raise fail(f'the {model} record has no "fields" object')
    pk = item.get("pk")
    if isinstance(pk, (dict, list, bool)):
        raise fail(f"the {model} record's pk must be a number or a string, not {_json_type(pk)}")
    return Record(model, pk, fields, index)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return "a number"


# --- content types ------------------------------------------------------------------------


class ContentTypes:
    """An export's content types: a reference to one, natural key or integer id, as
    NetBox's label ``"app.model"``.

    A natural key (``["dcim", "interface"]``) names its type by itself. An integer is the
    pk of a ``contenttypes.contenttype`` record of the same export, which must have been
    learnt: dumpdata writes each model's records together and, without natural keys, in
    the order of NetBox's installed apps, so the content types come before every NetBox
    model that points at one."""

    def __init__(self) -> None:
        self.by_id: dict[int, str] = {}

    def learn(self, record: Record) -> bool:
        """Take the id of a content type record; whether the record was one."""
        if record.model != CONTENT_TYPE:
            return False
        app, model = record.fields.get("app_label"), record.fields.get("model")
        if not isinstance(app, str) or not isinstance(model, str) or not app or not model:
            raise ExportError(f"object {record.index}: a content type needs its app_label and model", index=record.index)
        if isinstance(record.pk, int):  # natural-key exports name them instead
            self.by_id[record.pk] = f"{app}.{model}"
        return True

    @classmethod
    def from_export(cls, source: Source) -> ContentTypes:
        """The content types of an export, read up to the end of their block."""
        found = cls()
        _learn_block(source, found.learn)
        return found

    def label(self, value: Any, *, where: str = "") -> str | None:
        """``"app.model"`` for a content type reference (None for null)."""
        if value is None:
            return None
        if isinstance(value, (list, tuple)):
            if len(value) == 2 and all(isinstance(part, str) and part for part in value):
                return f"{value[0]}.{value[1]}"
        elif isinstance(value, int) and not isinstance(value, bool):
            try:
                return self.by_id[value]
            except KeyError:
                raise ExportError(
                    f"{where or 'a reference'}: content type {value} is not in the export (export the contenttypes app too, or use --natural-foreign)"
                ) from None
        elif isinstance(value, str) and LABEL.fullmatch(value):
            return value  # already a label
        raise ExportError(f"{where or 'a reference'}: {value!r} is not a content type (a natural key [app, model] or an id)")

    def labels(self, values: Iterable[Any] | None, *, where: str = "") -> list[str]:
        """Labels of a list of content types (a tag's ``object_types``)."""
        if values is None:
            return []
        if not isinstance(values, (list, tuple)):
            raise ExportError(f"{where or 'a reference'}: expected a list of content types, not {_json_type(values)}")
        return [label for value in values if (label := self.label(value, where=where)) is not None]


# --- users --------------------------------------------------------------------------------

# NetBox 4.0+ and NetBox ≤ 3.7. Only one is in an export, so its records form one block.
USER_MODELS = ("users.user", "auth.user")


class Usernames:
    """An export's users: a reference to one, natural key ``["admin"]`` or integer id, as
    the username (what history, journal entries and reservations keep)."""

    def __init__(self) -> None:
        self.by_id: dict[int, str] = {}

    def learn(self, record: Record) -> bool:
        """Take the id of a user record; whether the record was one."""
        if record.model not in USER_MODELS:
            return False
        username = record.fields.get("username")
        if not isinstance(username, str) or not username:
            raise ExportError(f"object {record.index}: a user needs its username", index=record.index)
        if isinstance(record.pk, int):
            self.by_id[record.pk] = username
        return True

    @classmethod
    def from_export(cls, source: Source) -> Usernames:
        """The users of an export, read up to the end of their block. Without natural keys
        NetBox 4.x writes them after the models naming them (the users app comes after
        dcim and extras), so a reader needing them reads ahead with this."""
        found = cls()
        _learn_block(source, found.learn)
        return found

    def name(self, value: Any, *, where: str = "") -> str | None:
        """The username a reference names (None for null)."""
        if value is None:
            return None
        if isinstance(value, (list, tuple)) and len(value) == 1 and isinstance(value[0], str) and value[0]:
            return value[0]
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                return self.by_id[value]
            except KeyError:
                raise ExportError(f"{where or 'a reference'}: user {value} is not in the export") from None
        raise ExportError(f"{where or 'a reference'}: {value!r} is not a user (a natural key [username] or an id)")


def _learn_block(source: Source, learn: Callable[[Record], bool]) -> None:
    """Feed ``learn`` the records of an export up to the end of the block it takes:
    dumpdata writes each model's records together, so none come after."""
    seen = False
    for record in read_export(source):
        if learn(record):
            seen = True
        elif seen:
            break
