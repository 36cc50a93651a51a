"""A real OpenAI-compatible `/v1/chat/completions` server on 127.0.0.1 for the tests.

    with ChatServer(lambda body: "prose, not JSON") as server:
        make_writer(llm_url=server.url, llm_model="x")...
        server.requests          # every request body, in order

`answer(body)` gives the assistant message's content (a str, wrapped in a chat completion), or
bytes to send as the whole response body (a proxy's error page, say). Other paths get 404.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


class ChatServer:
    def __init__(self, answer: Callable[[dict], str | bytes]) -> None:
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                if self.path != "/v1/chat/completions":
                    self.send_error(404)
                    return
                content = answer(body)
                if isinstance(content, bytes):
                    payload = content
                else:
                    payload = json.dumps({
                        "id": f"chat-{len(outer.requests)}", "object": "chat.completion", "model": body.get("model"),
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": content}}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="chat-server", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def __enter__(self) -> "ChatServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
