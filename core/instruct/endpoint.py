"""A writer that asks any OpenAI-compatible chat endpoint (llama.cpp server, Ollama, vLLM, ...).

One request per segment (`POST {base_url}/chat/completions`), a few in parallel. The request asks
for structured output with a JSON schema (`response_format: json_schema`; the emotion and the
facial actions are enums, so a server that enforces schemas can only answer validly); a server
that refuses the schema is asked again with `json_object`, then with no response_format, and the
JSON is parsed out of the reply. Answers are validated and repaired (core.instruct.base); a
segment whose answer stays invalid after a retry is written by the rules; an unreachable server
makes the rules write the take at once, with a warning.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable

from core.instruct.base import (Choice, InstructError, InstructionWriter, choice_from_answer, neighbours, phrase_text,
                                 printable)
from core.instruct.lm import user_prompt
from core.instruct.wording import ACTIONS, VOCABULARY
from core.project import EMOTIONS

SYSTEM = (
    "You are an expert on emotional speech and facial expression. You read what a person says "
    "and how their voice sounds, and describe the emotion they feel and the facial actions that "
    "show it. Answer only with a JSON object of the form "
    '{"emotion": <EMOTION>, "intensity": <NUMBER>, "actions": [<ACTION>, ...]}. '
    # A placeholder form, not a filled-in example: small models copy an example's values.
    f"emotion is one of: {', '.join(EMOTIONS)}. intensity is a number from 0 to 1. "
    "actions are one to three of: " + ", ".join(phrase_text(k) for k in ACTIONS) + "."
)
QUESTION = "What does the speaker feel, and how does their face show it?"

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "emotion": {"type": "string", "enum": list(EMOTIONS)},
        "intensity": {"type": "number", "minimum": 0, "maximum": 1},
        "actions": {"type": "array", "minItems": 1, "maxItems": 3,
                    "items": {"type": "string", "enum": [phrase_text(k) for k in ACTIONS]}},
    },
    "required": ["emotion", "intensity", "actions"],
    "additionalProperties": False,
}

_FORMATS = (
    {"type": "json_schema", "json_schema": {"name": "instruction", "strict": True, "schema": SCHEMA}},
    {"type": "json_object"},
    None,
)


MAX_REPLY_BYTES = 2 ** 20          # a chat completion of 80 tokens is a few kB


class EndpointUnreachable(ConnectionError):
    pass


def http_post(url: str, data: bytes, headers: dict[str, str], deadline: float) -> bytes:
    """POST and read the whole answer within `deadline` seconds in all (connecting, the headers,
    the body: a server that trickles bytes is cut off, as is one that says nothing). HTTP errors
    raise urllib.error.HTTPError; a late answer TimeoutError; an answer over MAX_REPLY_BYTES
    InstructError."""
    check_url(url)
    parts = urllib.parse.urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = kind(parts.hostname, parts.port, timeout=deadline)
    timed_out = threading.Event()
    sockets = []        # the connection's socket: http.client drops its own reference to it once
                        # the headers say the server closes after the body, so keep one here

    def cut_off() -> None:
        timed_out.set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)     # wakes the blocked read
            except OSError:
                pass
    timer = threading.Timer(deadline, cut_off)
    timer.daemon = True
    timer.start()
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.connect()                              # itself bounded by the socket timeout
        sockets.append(conn.sock)
        if timed_out.is_set():
            cut_off()
        conn.request("POST", path or "/", body=data, headers=headers)
        resp = conn.getresponse()
        body = resp.read(MAX_REPLY_BYTES + 1)
        if timed_out.is_set():
            raise TimeoutError(f"no complete answer within {deadline:g} s")
        if len(body) > MAX_REPLY_BYTES:
            raise InstructError(f"the server's answer is over {MAX_REPLY_BYTES // 2 ** 20} MB")
        if resp.status >= 400:
            raise urllib.error.HTTPError(url, resp.status, printable(resp.reason), resp.headers, None)
        return body
    except (OSError, http.client.HTTPException) as exc:
        if timed_out.is_set():
            raise TimeoutError(f"no complete answer within {deadline:g} s") from exc
        if isinstance(exc, OSError):
            raise
        raise ConnectionError(f"a broken HTTP answer ({printable(exc, 120)})") from exc
    finally:
        timer.cancel()
        conn.close()


def extract_json(text: str) -> Any:
    """The first JSON object in a reply (code fences and chatter around it are ignored); a
    truncated object is read field by field."""
    if not isinstance(text, str):
        raise InstructError("the reply has no text")
    start = text.find("{")
    if start >= 0:
        depth, in_str, esc = 0, False, False
        for i in range(start, len(text)):
            c = text[i]
            if in_str:
                esc = (c == "\\") and not esc
                if c == '"' and not esc:
                    in_str = False
                continue
            if c == '"':
                in_str = True
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    try:
                        return json.loads(text[start:i + 1])
                    except json.JSONDecodeError:
                        break
    # repair: pick the fields out of a broken or truncated object
    fields: dict[str, Any] = {}
    m = re.search(r'"?emotion"?\s*[:=]\s*"?([A-Za-z]+)', text)
    if m:
        fields["emotion"] = m.group(1)
    m = re.search(r'"?intensity"?\s*[:=]\s*"?([0-9.]+%?)', text)
    if m:
        fields["intensity"] = m.group(1)
    m = re.search(r'"?actions"?\s*[:=]\s*\[([^\]]*)', text)
    if m:
        fields["actions"] = re.findall(r'"([^"]+)"', m.group(1))
    if "emotion" not in fields:
        raise InstructError(f"no JSON object in the reply: {text[:120]!r}")
    return fields


def check_url(url: str) -> None:
    """ValueError naming the option unless `url` is an http:// or https:// address with a host."""
    parts = urllib.parse.urlsplit(str(url))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--llm-url {printable(url, 200)}: not an http:// or https:// address "
                         f"(for example http://127.0.0.1:8080/v1)")


class EndpointWriter(InstructionWriter):
    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout: float = 30.0,
                 retries: int = 2, parallel: int = 2, max_tokens: int = 80) -> None:
        super().__init__()
        check_url(base_url)             # refused at once rather than found out per segment
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.retries = retries
        self.parallel = max(1, parallel)
        self.max_tokens = max_tokens
        self.name = f"endpoint:{model}"
        self._format_index = 0
        self._unreachable: str | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        base = self.base_url
        return base + "/chat/completions" if base.endswith("/v1") else base + "/v1/chat/completions"

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            if self._unreachable:
                raise EndpointUnreachable(self._unreachable)
            try:
                return json.loads(http_post(self.url, data, headers, self.timeout).decode("utf-8", "replace"))
            except urllib.error.HTTPError as exc:
                if 400 <= exc.code < 500 and exc.code != 429:
                    raise                                # the request itself is refused: no retry
                last = exc
            except TimeoutError as exc:            # a server that is this slow is slow again: no retry
                last = exc
                break
            except (ConnectionError, OSError) as exc:
                last = exc
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise InstructError(f"the server's answer is not JSON ({exc})") from exc
            if attempt < self.retries:
                time.sleep(0.3 * 2 ** attempt)
        if isinstance(last, urllib.error.HTTPError):
            raise InstructError(f"HTTP {last.code} from {self.url}")
        reason = getattr(last, "reason", last)          # URLError wraps the socket's error
        with self._lock:
            self._unreachable = f"{self.url} is unreachable ({getattr(reason, 'strerror', None) or reason})"
        raise EndpointUnreachable(self._unreachable)

    def _ask(self, messages: list[dict[str, str]]) -> str:
        while True:
            fmt = _FORMATS[self._format_index]
            body: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": 0,
                                    "max_tokens": self.max_tokens}
            if fmt is not None:
                body["response_format"] = fmt
            try:
                reply = self._post(body)
            except urllib.error.HTTPError as exc:
                if exc.code == 400 and fmt is not None and self._format_index + 1 < len(_FORMATS):
                    with self._lock:              # the server does not take this response_format
                        self._format_index = max(self._format_index, _FORMATS.index(fmt) + 1)
                    continue
                raise InstructError(f"HTTP {exc.code} from {self.url}") from exc
            try:
                return reply["choices"][0]["message"]["content"] or ""
            except (KeyError, IndexError, TypeError):
                raise InstructError(f"not a chat completion: {str(reply)[:120]!r}") from None

    def _one(self, index: int, evidence: dict[str, Any], before: str, after: str) -> Choice | None:
        messages = [{"role": "system", "content": SYSTEM},
                    {"role": "user", "content": user_prompt(evidence, before, after) + "\n" + QUESTION}]
        problem = ""
        for attempt in range(2):
            try:
                text = self._ask(messages)
                return choice_from_answer(extract_json(text), evidence)
            except EndpointUnreachable:
                return None
            except InstructError as exc:
                problem = str(exc)
                if attempt == 0:
                    messages = messages + [{"role": "assistant", "content": "(invalid answer)"},
                                           {"role": "user", "content": "Answer again, only with the JSON object."}]
        self.warn(f"segment {index}: {self.name} gave no valid answer ({problem}); the rules wrote it")
        return None

    def _write(self, segments: list[dict[str, Any]]) -> Iterable[Choice | None]:
        self._unreachable = None
        ctx = neighbours(segments)
        # The first request alone: an unreachable server then costs one timeout, not one per segment.
        first = self._one(0, segments[0], *ctx[0])
        results: list[Choice | None] = [first]
        if len(segments) > 1 and not self._unreachable:
            with ThreadPoolExecutor(self.parallel) as pool:
                results += list(pool.map(lambda i: self._one(i, segments[i], *ctx[i]), range(1, len(segments))))
        else:
            results += [None] * (len(segments) - 1)
        if self._unreachable:
            self.warn(f"{self._unreachable}; the rule-based writer wrote the segments it could not")
        return results


def valid_actions(emotion: str) -> list[str]:
    return [phrase_text(k) for k in VOCABULARY[emotion]]
