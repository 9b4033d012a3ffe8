"""Replay: saved response bodies answered under the shared HTTP client, as the system would.

An organisation hands over the JSON bodies its systems returned (``curl … > any-name.json``).
:class:`ReplayTransport` is an httpx transport (in the spirit of httpx's ``MockTransport``)
that answers the adapter's ordinary live requests from those bodies, so paging, parsing and
mapping run through exactly the code of a live scan; only the bytes come from disk.

Each adapter describes its system's continuation with a :class:`PageRules`:

- which endpoint a request asks for and which endpoint a saved body answers
  (search vs changelog, Users vs Groups …);
- where a request sits in its chain (``startAt=50``, ``startIndex=101``, a cursor token,
  a ``more`` link; ``None`` for the first request);
- where a saved body says it sits, when it says so (``startAt``/``startIndex``): such
  bodies are matched to requests by position, in any file order;
- the continuation a body announces (a cursor, a ``more`` link), when the system pages by
  cursors.

Saved bodies alone cannot show a missing page of a chain that pages by cursor (Jira's
``nextPageToken``, an xAPI ``more`` link, MLflow's ``next_page_token``): no body says which
request it answered, and the last page announces nothing, so a listing whose *first* page
was deleted replays as a complete one. Plain bodies of such listings are therefore refused
(fail closed); only listings whose pages say where they sit (``startAt``, ``startIndex``)
replay from plain bodies. Cursor-paged responses must be saved *with their requests*: a HAR
file (HTTP Archive 1.2, as browser devtools, mitmproxy, Charles, Fiddler or Insomnia export
it) lists each request (URL, query, JSON body) with its response body, and each live
request is answered by exactly the recorded response to that request — a request nobody
recorded is a gap naming the page before it. A HAR's entries that are not 2xx JSON answers
of the system (a page's HTML, a script, a retried 503) are skipped.

A broken chain is an :class:`~checker.errors.EvidenceError` naming the file: a body that is
not complete JSON (truncated), no saved page for a position (a gap, naming the pages
around it), two pages for one position (a page twice), a continuation no recorded request
answers (a token leading nowhere, naming the page that announced it), no recorded first
request, and — when the adapter calls :meth:`ReplayTransport.finish` — a saved page the
chain never reached.
"""

from __future__ import annotations

import base64
import binascii
import glob
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, Protocol

import httpx

from checker.adapters import SourceContext
from checker.errors import Diagnostic, EvidenceError, EvidenceUnavailable
from checker.safefile import read_bytes
from evidence_adapters._common import loads

__all__ = ["PageRules", "ReplayTransport", "SavedBody", "load_bodies", "natural_key"]

#: The base URL replayed requests are made against (never resolved: no network).
REPLAY_BASE = "http://replay.invalid"


@dataclass
class SavedBody:
    """One saved response body.

    Attributes:
        path: The file.
        shown: The file as shown in messages (relative to the config folder).
        content: The bytes exactly as saved.
        data: The parsed JSON.
        index: Position in the replay list (list order).
        used: Whether a request was answered with it.
        request: The request it answered, when saved with it (a HAR entry); None for a
            plain body.
        file: The file as shown in messages, without the HAR entry (``shown`` names both).
    """

    path: Path
    shown: str
    content: bytes
    data: Any
    index: int
    used: bool = False
    request: httpx.Request | None = None
    file: str = ""

    def __post_init__(self) -> None:
        if not self.file:
            self.file = self.shown


class PageRules(Protocol):
    """What one system's paging looks like (see the module docstring)."""

    #: What a position is called in messages (``startAt``, ``startIndex`` …).
    position_label: str

    def first_request(self, recorded: httpx.Request, live: httpx.Request,
                      endpoint: str) -> bool:
        """Whether a recorded request was a first request of the live request's listing."""
        ...

    def request_endpoint(self, request: httpx.Request) -> str:
        """The endpoint a request asks for (``search``, ``Users`` …)."""
        ...

    def body_endpoint(self, body: SavedBody) -> str | None:
        """The endpoint a saved body answers; None when its shape is not one of them."""
        ...

    def request_position(self, request: httpx.Request, endpoint: str) -> Any:
        """The request's place in its chain; None for the first request."""
        ...

    def body_position(self, body: SavedBody, endpoint: str) -> Any:
        """The place a body says it sits at (``startAt``), or None when it does not say."""
        ...

    def first_position(self, endpoint: str) -> Any:
        """The position of the first page (0, 1 …) for bodies that carry positions."""
        ...

    def body_next(self, body: SavedBody, endpoint: str) -> Any:
        """The continuation a cursor-paged body announces; None on the last page."""
        ...


def natural_key(path: Path) -> tuple[Any, ...]:
    """Sort key: ``page-2`` before ``page-10``."""
    return tuple(int(t) if t.isdigit() else t.casefold()
                 for t in re.split(r"(\d+)", str(path)))


def load_bodies(ctx: SourceContext, entries: Sequence[str], code: str) -> list[SavedBody]:
    """Read the replay list: files, globs and HAR files (relative to the config), in order.

    A glob's matches are in natural name order (``page-2`` before ``page-10``). A file
    listed twice (directly or through globs) is read once. Every file, a glob's matches
    included, must lie in the config's folder (:meth:`SourceContext.path`).

    Raises:
        EvidenceUnavailable: an entry matches no file, a file cannot be read, or it lies
            outside the config's folder (E318).
        EvidenceError: a body is not complete JSON (a truncated or altered file).
    """
    paths: list[Path] = []
    for entry in entries:
        p = ctx.path(entry)
        if glob.has_magic(entry):
            found = sorted((Path(m) for m in glob.glob(str(p), recursive=True)
                            if Path(m).is_file()), key=natural_key)
            if not found:
                raise EvidenceUnavailable(Diagnostic(
                    ctx.source_name, 0, 0, code, f"replay entry {entry!r} matches no file",
                    "paths and globs are relative to the config file's folder"))
            paths.extend(ctx.path(m) for m in found)  # each match confined (symlinks)
        elif p.is_dir():
            found = sorted((f for f in p.rglob("*.json") if f.is_file()), key=natural_key)
            if not found:
                raise EvidenceUnavailable(Diagnostic(
                    ctx.display(p), 0, 0, code, "replay folder holds no *.json file"))
            paths.extend(ctx.path(m) for m in found)  # each file confined (symlinks)
        else:
            paths.append(p)
    out: list[SavedBody] = []
    seen: set[Path] = set()
    for found_path in paths:
        p = ctx.path(found_path)  # a glob's match, too, stays inside the config's folder
        rp = p.resolve()
        if rp in seen:
            continue
        seen.add(rp)
        shown = ctx.display(p)
        try:
            content = read_bytes(p)
        except OSError as exc:
            raise EvidenceUnavailable(Diagnostic(
                shown, 0, 0, code, f"cannot read the saved response: {exc.strerror or exc}",
                "paths are relative to the config file's folder")) from None
        if p.suffix.casefold() == ".har":
            out.extend(har_bodies(p, shown, content, code, len(out)))
            continue
        try:
            data = loads(content)
        except ValueError as exc:
            raise EvidenceError(Diagnostic(
                shown, 0, 0, code, f"not a complete JSON response body ({exc}); a truncated "
                "or edited file", "save the response body again, exactly as returned")
                                ) from None
        out.append(SavedBody(p, shown, content, data, len(out)))
    return out


#: Query values of a HAR request's JSON body that place it in its chain (a POST search).
_BODY_PARAMS = ("nextPageToken", "startAt", "page_token", "startIndex")


def har_bodies(path: Path, shown: str, content: bytes, code: str, start: int
               ) -> list[SavedBody]:
    """The 2xx JSON responses of a HAR file, each with the request it answered.

    HAR 1.2 (``log.entries[].request`` / ``.response.content``); a ``base64`` body is
    decoded. Entries that are not 2xx, or whose response is not JSON by its MIME type
    (a page's HTML, a script), are skipped; a JSON response whose text is missing or
    does not parse is an error naming the file and the entry.

    Raises:
        EvidenceError: not a HAR file (truncated, edited), or a JSON response cut short.
    """
    def fail(where: str, message: str, hint: str) -> EvidenceError:
        return EvidenceError(Diagnostic(where, 0, 0, code, message, hint))

    try:
        har = loads(content)
    except ValueError as exc:
        raise fail(shown, f"not a complete HAR file ({exc}); a truncated or edited file",
                   "export the HAR again") from None
    log = har.get("log") if isinstance(har, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        raise fail(shown, "not a HAR file: no `log.entries` list",
                   "export the requests as a HAR (HTTP Archive 1.2) file")
    out: list[SavedBody] = []
    for n, entry in enumerate(entries, 1):
        req = entry.get("request") if isinstance(entry, dict) else None
        resp = entry.get("response") if isinstance(entry, dict) else None
        if not isinstance(req, dict) or not isinstance(resp, dict) \
                or not isinstance(req.get("url"), str):
            raise fail(f"{shown} entry {n}", "not a HAR entry (no request URL or response)",
                       "export the requests as a HAR (HTTP Archive 1.2) file")
        status = resp.get("status")
        got = resp.get("content")
        body: dict[str, Any] = got if isinstance(got, dict) else {}
        mime = str(body.get("mimeType") or "")
        if not isinstance(status, int) or not 200 <= status < 300 or "json" not in mime:
            continue
        try:
            url = httpx.URL(req["url"])
        except (httpx.InvalidURL, ValueError):
            raise fail(f"{shown} entry {n}", f"request URL {_short(req['url'])!r} is not a URL",
                       "export the HAR again") from None
        method = str(req.get("method") or "GET").upper()
        where = f"{shown} entry {n} ({method} {_short(url.path, 80)})"
        text = body.get("text")
        if not isinstance(text, str):
            raise fail(where, "the response body was not saved in the HAR",
                       "export the HAR with the response bodies (\"Save all as HAR with "
                       "content\")")
        try:
            raw = (base64.b64decode(text, validate=True) if body.get("encoding") == "base64"
                   else text.encode("utf-8"))
            data = loads(raw)
        except (ValueError, binascii.Error) as exc:
            raise fail(where, f"the response is not complete JSON ({exc}); a truncated or "
                       "edited recording", "record the request again") from None
        extra: dict[str, str] = {}
        post = req.get("postData")
        if isinstance(post, dict) and isinstance(post.get("text"), str):
            try:
                sent = loads(post["text"].encode("utf-8"))
            except ValueError:
                sent = None
            if isinstance(sent, dict):
                extra = {k: str(sent[k]) for k in _BODY_PARAMS
                         if isinstance(sent.get(k), (str, int)) and k not in url.params}
        request = httpx.Request("GET", url.copy_merge_params(extra) if extra else url)
        out.append(SavedBody(path, where, raw, data, start + len(out), request=request,
                             file=shown))
    return out


@dataclass
class _Chain:
    """What has been served of one endpoint."""

    last: SavedBody | None = None


class ReplayTransport(httpx.BaseTransport):
    """Answer the adapter's requests from saved bodies, following the system's continuation.

    Args:
        source: The source name (for messages without a file).
        bodies: The saved bodies, in list order.
        rules: The system's paging rules.
        code: The diagnostic code of a broken chain.
    """

    def __init__(self, source: str, bodies: list[SavedBody], rules: PageRules,
                 code: str) -> None:
        self.source = source
        self.rules = rules
        self.code = code
        self.bodies = bodies
        self.by_endpoint: dict[str, list[SavedBody]] = {}
        self.unknown: list[SavedBody] = []
        kept: list[SavedBody] = []
        for b in bodies:
            ep = rules.body_endpoint(b)
            if b.request is not None:
                if ep is None:
                    continue  # another resource in the recording (not an answer of this API)
                ep = rules.request_endpoint(b.request)
            kept.append(b)
            if ep is None:
                self.unknown.append(b)
            else:
                self.by_endpoint.setdefault(ep, []).append(b)
        self.bodies = kept
        self.endpoint_of = {id(b): ep for ep, bs in self.by_endpoint.items() for b in bs}
        self.chains: dict[str, _Chain] = {}

    def _fail(self, file: str, message: str, hint: str | None = None) -> EvidenceError:
        return EvidenceError(Diagnostic(file, 0, 0, self.code, message, hint))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """The saved body answering ``request`` (or an error naming the break)."""
        ep = self.rules.request_endpoint(request)
        body = self._answer(ep, request)
        body.used = True
        return httpx.Response(200, content=body.content, request=request,
                              headers={"Content-Type": "application/json"})

    def _answer(self, ep: str, request: httpx.Request) -> SavedBody:
        rules = self.rules
        pos = rules.request_position(request, ep)
        candidates = self.by_endpoint.get(ep, [])
        chain = self.chains.setdefault(ep, _Chain())
        if not candidates:
            spare = [b for b in self.unknown if not b.used]
            if pos is None and spare:
                # An empty answer ({}) names no endpoint; it can only be a first page.
                return spare[0]
            files = list(dict.fromkeys(b.file for b in self.bodies))
            where = ", ".join(files[:3]) + (", …" if len(files) > 3 else "") or self.source
            raise self._fail(where, f"no saved response answers {_what(request)}: that "
                             f"listing ({ep}) is not in the replay list",
                             "add the saved body of that request to `replay`, or configure "
                             "the source not to ask for it")
        recorded = [b for b in candidates if b.request is not None]
        if recorded:
            plain = [b for b in candidates if b.request is None]
            if plain:
                raise self._fail(plain[0].shown, f"this {ep} page is a plain body among pages "
                                 f"saved with their requests ({recorded[0].shown})",
                                 "save every page of one listing the same way (all in the HAR)")
            return self._by_request(ep, pos, recorded, chain, request)
        placed = [b for b in candidates if rules.body_position(b, ep) is not None]
        if placed:
            return self._by_position(ep, pos, candidates, request)
        self._refuse_plain(ep, candidates)

    def _by_position(self, ep: str, pos: Any, candidates: list[SavedBody],
                     request: httpx.Request) -> SavedBody:
        rules = self.rules
        want = rules.first_position(ep) if pos is None else pos
        loose = [b for b in candidates if rules.body_position(b, ep) is None]
        if loose:
            raise self._fail(loose[0].shown, f"this {ep} page does not say where it sits in "
                             f"its listing, while {_name(candidates[0])} does: pages of two "
                             "kinds of listing", "save every page of one listing")
        hits = [b for b in candidates if rules.body_position(b, ep) == want]
        if len(hits) > 1:
            raise self._fail(hits[1].shown, f"the {ep} page at {rules.position_label} {want} "
                             f"is saved twice (also {hits[0].shown})",
                             "keep one copy of each page")
        if hits:
            return hits[0]
        before = [b for b in candidates
                  if _lt(rules.body_position(b, ep), want)]
        after = [b for b in candidates if _lt(want, rules.body_position(b, ep))]
        prev = max(before, key=lambda b: rules.body_position(b, ep), default=None)
        nxt = min(after, key=lambda b: rules.body_position(b, ep), default=None)
        if prev is not None:
            where = prev.shown
            msg = (f"no saved {ep} page at {rules.position_label} {want}: the page after this "
                   "one is missing")
            if nxt is not None:
                msg += f" (the next saved page, {nxt.shown}, starts at {rules.position_label} "
                msg += f"{rules.body_position(nxt, ep)})"
        elif nxt is not None:
            where = nxt.shown
            msg = (f"no saved first {ep} page ({rules.position_label} {want}); the earliest "
                   f"saved page starts at {rules.body_position(nxt, ep)}")
        else:  # pragma: no cover - candidates is not empty
            where, msg = self.source, f"no saved {ep} page at {rules.position_label} {want}"
        raise self._fail(where, msg, "save every page of the listing")

    def _by_request(self, ep: str, pos: Any, recorded: list[SavedBody], chain: _Chain,
                    request: httpx.Request) -> SavedBody:
        """The recorded response to exactly this request (a HAR entry)."""
        rules = self.rules
        if pos is None:
            hits = [b for b in recorded if b.request is not None
                    and rules.request_position(b.request, ep) is None
                    and rules.first_request(b.request, request, ep)]
        else:
            hits = [b for b in recorded if b.request is not None
                    and rules.request_position(b.request, ep) == pos]
        distinct = list({b.content: b for b in reversed(hits)}.values())[::-1]
        if len(distinct) > 1:
            raise self._fail(distinct[1].shown, f"two different recorded responses answer "
                             f"{_what(request)} (also {distinct[0].shown}): two listings, or "
                             "the listing changed while it was recorded",
                             "record one listing, from its first page to its last, once")
        if distinct:
            body = distinct[0]
            for twin in hits:
                twin.used = True  # the same response recorded twice (a retry): one page
            chain.last = body
            return body
        if pos is None:
            later = ", ".join(b.shown for b in recorded[:2])
            other = next((b.request for b in recorded if b.request is not None
                          and rules.request_position(b.request, ep) is None), None)
            why = (f"the recorded first request {_what(other)} asks for another listing "
                   "(other parameters, e.g. a narrower `filter`) and cannot stand for it"
                   if other is not None else
                   f"the recorded pages ({later}{', …' if len(recorded) > 2 else ''}) "
                   "answer continuation requests only")
            raise self._fail(recorded[0].shown, f"no recorded response answers the first "
                             f"{ep} request ({_what(request)}): the first page is missing; "
                             f"{why}",
                             "record the listing from its first request to its last page, "
                             "with the parameters the source uses")
        before = next((b for b in recorded if rules.body_next(b, ep) == pos), chain.last)
        raise self._fail(before.shown if before is not None else self.source,
                         f"no recorded response answers {_what(request)} "
                         f"({_pos_text(pos, request)}), the page after this one: a page is "
                         "missing", "record every page of the listing, from its first "
                         "request to the page that says it is the last")

    def _refuse_plain(self, ep: str, candidates: list[SavedBody]) -> NoReturn:
        """Refuse plain bodies of a cursor-paged listing.

        No body says which request it answered, so a missing page (the first one above
        all) could not be seen.
        """
        raise self._fail(candidates[0].shown, f"saved {ep} bodies alone cannot be checked: "
                         "this listing continues by a cursor and a body does not say which "
                         "request it answered, so a missing page (the first one, or any "
                         "page before the last) would go unnoticed",
                         "save the responses with their requests: a HAR file (browser "
                         "devtools \"Save all as HAR\", mitmproxy, Insomnia …) listed in "
                         "`replay`; see the adapter README")

    def finish(self) -> None:
        """Every saved body must have answered a request; else the chain is broken.

        Raises:
            EvidenceError: a saved page the listing never reached (after its last page, or
                a page twice, or a page of another listing).
        """
        for b in self.bodies:
            if b.used:
                continue
            ep = self.endpoint_of.get(id(b))
            served = [x for x in self.by_endpoint.get(ep or "", []) if x.used]
            last = max(served, key=lambda x: x.index, default=None)
            why = (f"the {ep} listing ended before it (at {last.shown})" if last is not None
                   else f"no request asked for a {ep or 'response of this shape'} page")
            raise self._fail(b.shown, f"this saved page was never reached: {why}",
                             "remove pages of other listings or a second copy of a page; "
                             "or a page before it announces no continuation")

    def close(self) -> None:
        """Nothing to close."""


def _lt(a: Any, b: Any) -> bool:
    try:
        return bool(a < b)
    except TypeError:
        return False


def _pos_text(pos: Any, request: httpx.Request) -> str:
    """``nextPageToken=abc`` when the position is a query value, else the position."""
    for k, v in request.url.params.multi_items():
        if v == str(pos):
            return f"{k}={_short(v)}"
    return _short(pos, 120)


def _name(b: SavedBody) -> str:
    return b.shown


def _short(value: Any, limit: int = 60) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _what(request: httpx.Request) -> str:
    url = request.url
    q = f"?{url.query.decode()}" if url.query else ""
    return f"GET {url.path}{_short(q, 120)}"


def endpoints_present(bodies: Iterable[SavedBody], rules: PageRules) -> set[str]:
    """The endpoints the saved bodies answer."""
    return {ep for b in bodies if (ep := rules.body_endpoint(b)) is not None}
