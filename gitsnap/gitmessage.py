"""Git's text formats, without dulwich: messages (subject, body, trailers), people, dates, commit headers.

What gitsnap records about a snapshot, a version or a save lives in trailers (``Key: value``
lines in a message's last paragraph), so plain git reads it too: ``git log
--format=%(trailers:key=Version,valueonly)``, ``git interpret-trailers --parse``.

This module is the one boundary for text that reaches git's formats. A subject and a person's
name or email must be one line of text: a line break of any kind (``\\n``, ``\\v``, ``\\x85``,
``U+2028`` ...), another control character or a NUL is refused (``InvalidInput`` naming the field
and the value), and so are ``<`` and ``>`` in a person. A body may span lines but holds no NUL. A
trailer value is data read back by gitsnap, so it is never refused: a value that a trailer line
could not hold exactly is written as a JSON string (``Source-Org-Name: "a\\u2028b"``) and read
back as the text it was. Readers split lines at ``\\n`` only, as git does.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from typing import NamedTuple

from .errors import InvalidInput

_TRAILER = re.compile(r"([A-Za-z0-9][A-Za-z0-9-]*): ?(.*)", re.DOTALL)
# What cannot stand in one line of a git header or message: control characters but tab, the
# Unicode line and paragraph separators (str.splitlines and many tools break lines there), and
# lone surrogates (not UTF-8).
_NOT_ONE_LINE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")
_NOT_IN_PERSON = re.compile("[<>]")
MAX_TIME = 253402300799  # 9999-12-31T23:59:59Z: the last second ISO 8601 dates (and Python) can show
MAX_OFFSET = 24 * 3600 - 60  # +2359: git's +hhmm with hours below 24


def one_line_problem(value: str) -> str | None:
    """Why ``value`` cannot be one line of a git header or subject, or None when it can."""
    found = _NOT_ONE_LINE.search(value)
    if found is None:
        return None
    return f"must be one line of text (it holds {_name_of(found.group())})"


def check_one_line(field: str, value: str) -> str:
    """``value`` unchanged; InvalidInput naming ``field`` and the value when it is not one line of text."""
    problem = one_line_problem(value)
    if problem:
        raise InvalidInput(f"{field} {value!r} {problem}")
    return value


def check_text(field: str, value: str) -> str:
    """``value`` unchanged; InvalidInput when it holds a NUL or a lone surrogate (text of many lines is fine)."""
    found = _NOT_TEXT.search(value)
    if found:
        raise InvalidInput(f"{field} {value!r} contains {_name_of(found.group())}")
    return value


def printable(value: str) -> str:
    """``value`` with what cannot stand in one line escaped (``\\n``, ``\\u2028``): for generated subjects."""
    return _NOT_ONE_LINE.sub(lambda match: json.dumps(match.group())[1:-1], value)


def _name_of(character: str) -> str:
    names = {"\n": "a line break", "\r": "a carriage return", "\0": "a NUL character"}
    if character in names:
        return names[character]
    if "\ud800" <= character <= "\udfff":
        return f"a lone surrogate (U+{ord(character):04X}, not UTF-8)"
    return f"the control character U+{ord(character):04X}"


# --- people and dates ---------------------------------------------------------------------------------


class Identity(NamedTuple):
    name: str
    email: str
    time: int
    tz: int = 0

    @classmethod
    def checked(cls, name: str, email: str, when: int, tz: int, where: str) -> Identity:
        """An identity fit for a commit header; InvalidInput naming ``where`` (its name and email fields) if not."""
        for field, value in (("name", name), ("email", email)):
            problem = one_line_problem(value) or (
                "must not contain < or > (they delimit the email in a commit)" if _NOT_IN_PERSON.search(value) else None)
            if problem:
                raise InvalidInput(f"{where} {field} {value!r} {problem}")
        return cls(name, email, *check_date(when, tz, where))

    def raw(self) -> bytes:
        return f"{self.name} <{self.email}>".encode()

    @classmethod
    def parse(cls, raw: bytes, when: int, tz: int) -> Identity:
        """The name and email of a header's ``Name <email>``, read back exactly as written."""
        text = raw.decode("utf-8", "replace")
        name, _, email = text.rpartition("<")
        return cls(name[:-1] if name.endswith(" ") else name, email.removesuffix(">"), when, tz)


def check_date(seconds: int, offset: int, where: str) -> tuple[int, int]:
    """(seconds, offset) when a commit can hold them (year 1970 to 9999, offset within ±23:59)."""
    if not 0 <= seconds <= MAX_TIME:
        raise InvalidInput(f"{where} date {seconds} is out of range (1970 to 9999)")
    if abs(offset) > MAX_OFFSET or offset % 60:
        raise InvalidInput(f"{where} time zone offset {offset} s is not one git can store (-2359 to +2359)")
    return seconds, offset


def parse_git_date(text: str, where: str) -> tuple[int, int]:
    """(seconds, tz offset) from git's ``<secs> <+hhmm>``, ``@<secs>``, RFC 2822 or ISO 8601."""
    text = text.strip()
    match = re.fullmatch(r"@?(\d{1,20})(?: ([+-])(\d\d)(\d\d))?", text, re.ASCII)
    if match:
        seconds, sign, hours, minutes = match.groups()
        offset = int(hours or 0) * 3600 + int(minutes or 0) * 60
        if int(minutes or 0) >= 60:
            raise InvalidInput(f"{where} {text!r}: the time zone's minutes must be below 60")
        return check_date(int(seconds), -offset if sign == "-" else offset, where)
    moment = _parse_moment(text)
    if moment is None:
        raise InvalidInput(f"{where} {text!r} is not a date (use '<seconds> +0000', ISO 8601 or RFC 2822)")
    if moment.tzinfo is None:
        moment = moment.astimezone()
    try:
        seconds = int(moment.timestamp())
    except (OverflowError, ValueError, OSError):
        raise InvalidInput(f"{where} {text!r} is out of range (1970 to 9999)") from None
    return check_date(seconds, int(moment.utcoffset().total_seconds()), where)


def _parse_moment(text: str) -> datetime | None:
    from email.utils import parsedate_to_datetime

    for parse in (lambda t: datetime.fromisoformat(t.replace("Z", "+00:00")), parsedate_to_datetime):
        try:
            return parse(text)
        except (ValueError, TypeError, IndexError, OverflowError):
            continue
    return None


def local_offset(seconds: int) -> int:
    return time.localtime(seconds).tm_gmtoff


# --- messages ---------------------------------------------------------------------------------------


class CommitInfo(NamedTuple):
    id: str
    tree: str
    parents: tuple[str, ...]
    message: str
    author: Identity
    committer: Identity

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0]

    @property
    def trailers(self) -> dict[str, list[str]]:
        return parse_trailers(self.message)


class TagInfo(NamedTuple):
    id: str
    name: str
    target: str
    message: str
    tagger: Identity

    @property
    def trailers(self) -> dict[str, list[str]]:
        return parse_trailers(self.message)


def format_message(subject: str, body: str = "", trailers: list[tuple[str, str]] = ()) -> str:
    """A git message: subject, blank line, body, blank line, ``Key: value`` trailers (values encoded as needed)."""
    parts = [check_one_line("subject", subject).strip(" \t")]
    if body.strip(" \t\r\n"):
        parts.append(check_text("message body", body).strip(" \t\r\n"))
    if trailers:
        parts.append("\n".join(f"{key}: {encode_trailer(value)}" for key, value in trailers))
    return "\n\n".join(parts) + "\n"


def encode_trailer(value: str) -> str:
    """A trailer value as written: as is, or as a JSON string when a trailer line could not hold it exactly."""
    if value.startswith('"') or value != value.strip(" \t") or _NOT_ONE_LINE.search(value):
        return printable(json.dumps(value, ensure_ascii=False))
    return value


def decode_trailer(text: str) -> str:
    """The value ``encode_trailer`` wrote."""
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        try:
            value = json.loads(text)
        except ValueError:
            return text
        if isinstance(value, str):
            return value
    return text


def _paragraphs(message: str) -> list[str]:
    return [p for p in message.strip("\n").split("\n\n") if p]


def parse_trailers(message: str) -> dict[str, list[str]]:
    """The trailers of the message's last paragraph (empty when it is not all trailers)."""
    paragraphs = _paragraphs(message)
    if len(paragraphs) < 2:
        return {}
    trailers: dict[str, list[str]] = {}
    for line in paragraphs[-1].split("\n"):
        match = _TRAILER.fullmatch(line)
        if not match:
            return {}
        trailers.setdefault(match.group(1), []).append(decode_trailer(match.group(2)))
    return trailers


def message_body(message: str) -> str:
    """What lies between the subject and the trailers."""
    return split_message(message)[1]


def split_message(message: str) -> tuple[str, str, dict[str, list[str]]]:
    """(subject, body, trailers) of a message, parsed once."""
    trailers = parse_trailers(message)
    paragraphs = _paragraphs(message)[1:]
    if paragraphs and trailers:
        paragraphs = paragraphs[:-1]
    return message.split("\n", 1)[0], "\n\n".join(paragraphs), trailers


# --- commit headers -----------------------------------------------------------------------------------


def parse_commit(sha: str, raw: bytes) -> CommitInfo:
    """What CommitInfo holds, read straight from a commit's text; ValueError on an unusual shape.

    About twice as fast as dulwich's full parser, which a walk of 10,000 prompt versions feels.
    """
    header, _, message = raw.partition(b"\n\n")
    tree, parents, people = None, [], {}
    for line in header.split(b"\n"):
        key, _, value = line.partition(b" ")  # continuation lines (gpgsig) have an empty key
        if key == b"parent":
            parents.append(value.decode("ascii"))
        elif key == b"tree" and tree is None:
            tree = value.decode("ascii")
        elif key in (b"author", b"committer"):
            people[key] = value
    if tree is None or len(people) != 2:
        raise ValueError(f"commit {sha} lacks a tree, an author or a committer")
    return CommitInfo(id=sha, tree=tree, parents=tuple(parents), message=message.decode("utf-8", "replace"),
                      author=parse_person(people[b"author"]), committer=parse_person(people[b"committer"]))


def parse_tag(sha: str, raw: bytes) -> TagInfo:
    """What TagInfo holds, read straight from an annotated tag's text; ValueError on an unusual shape.

    A listing of 2,000 snapshots reads 2,000 tags: dulwich's parser (run twice, to parse and check)
    was half of it.
    """
    header, _, message = raw.partition(b"\n\n")
    fields: dict[bytes, bytes] = {}
    for line in header.split(b"\n"):
        key, _, value = line.partition(b" ")
        if key in (b"object", b"type", b"tag", b"tagger") and key not in fields:
            fields[key] = value
    if len(fields) != 4 or fields[b"type"] != b"commit" or len(fields[b"object"]) != 40:
        raise ValueError(f"tag {sha} is not a tag of a commit with a tagger")
    if b"-----BEGIN " in message:  # a signed tag: dulwich's parser splits the signature off the message
        raise ValueError(f"tag {sha} may carry a signature")
    return TagInfo(id=sha, name=fields[b"tag"].decode("utf-8", "replace"), target=fields[b"object"].decode("ascii"),
                   message=message.decode("utf-8", "replace"), tagger=parse_person(fields[b"tagger"]))


def parse_person(value: bytes) -> Identity:
    """``Name <email> <seconds> <+hhmm>`` as an Identity; ValueError when it is not that."""
    ident, _, when = value.rpartition(b"> ")
    seconds, _, zone = when.partition(b" ")
    if not seconds.isdigit() or len(zone) != 5 or zone[:1] not in (b"+", b"-") or not zone[1:].isdigit():
        raise ValueError(f"bad date {when!r}")
    offset = int(zone[1:3]) * 3600 + int(zone[3:5]) * 60
    return Identity.parse(ident + b">", int(seconds), -offset if zone[:1] == b"-" else offset)
