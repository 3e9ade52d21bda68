#!/usr/bin/env python3
"""A local OpenAI-compatible server for the side-by-side benchmark.

Streams a fixed ~2,000-token markdown reply (prose, lists, a table and code)
at --rate tokens per second (0: as fast as the client reads), ending with the
marker LLMDECK-BENCH-END so a harness can see the whole reply arrived.
Only 127.0.0.1; standard library only.
"""
import argparse
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECTION = """## Section {n}: streaming markdown

The client has to **parse**, *wrap* and `highlight` this text while it arrives,
which is what a developer console does all day.

- a list item with `inline code`
- another one with a [link](https://example.com)

| column | value |
|---|---|
| tokens | {n} |
| cost | $0.00{n} |

```rust
fn section_{n}(input: &str) -> usize {{
    input.lines().filter(|l| !l.trim().is_empty()).count()
}}
```

"""


# The shape `link/record` records the hot functions on. It is not the reply
# `benches/peers/run` measures, so the memory figure is not fitted to its own test.
RECORD_SECTION = """### Part {n}. Notes on a deployment

We moved the *ingest* service to the new cluster; three things **changed**:

1. the queue is now partitioned by tenant,
2. retries back off exponentially,
3. the dashboard reads from a replica.

> A quote from the incident review, part {n}: keep the runbook short.

```python
def backoff(attempt: int) -> float:
    return min(0.5 * 2 ** attempt, 8.0)  # part {n}
```

```json
{{"part": {n}, "ok": true, "latency_ms": [12, 15, 9]}}
```

"""


def reply_tokens(shape="mixed"):
    section = RECORD_SECTION if shape == "record" else SECTION
    text = "".join(section.format(n=n) for n in range(1, 60))
    pieces, word = [], ""
    for ch in text:
        word += ch
        if ch in " \n" or len(word) >= 4:
            pieces.append(word)
            word = ""
    if word:
        pieces.append(word)
    return pieces[:1995] + ["\n\nLLMDECK-BENCH-END\n"]




class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/count":
            body = str(self.server.completed).encode()
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        body = json.dumps({"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model", "created": 0, "owned_by": "bench"}]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("content-length", 0))
        request = json.loads(self.rfile.read(length) or b"{}")
        model = request.get("model", "gpt-4o-mini")
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        gap = 1.0 / self.server.rate if self.server.rate > 0 else 0
        start = time.monotonic()

        def send(obj):
            self.wfile.write(b"data: " + json.dumps(obj).encode() + b"\n\n")

        base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 0, "model": model}
        tokens = self.server.tokens
        for i, tok in enumerate(tokens):
            if gap:
                delay = start + i * gap - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            send({**base, "choices": [{"index": 0, "delta": {"content": tok}, "finish_reason": None}]})
        send({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if (request.get("stream_options") or {}).get("include_usage"):
            send({**base, "choices": [], "usage": {"prompt_tokens": 20, "completion_tokens": len(tokens), "total_tokens": 20 + len(tokens)}})
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True
        self.server.completed += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rate", type=float, default=0)
    ap.add_argument("--shape", choices=["mixed", "record"], default="mixed")
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.rate = args.rate
    server.tokens = reply_tokens(args.shape)
    server.completed = 0
    server.serve_forever()


if __name__ == "__main__":
    main()
