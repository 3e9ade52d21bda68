#!/usr/bin/env python3
"""A local OpenAI-compatible server for the side-by-side benchmark.

Streams a fixed ~2,000-token markdown reply at --rate tokens per second (0: as
fast as the client reads), split in short word pieces as a model's tokens come,
ending with the marker LLMDECK-BENCH-END so a harness can see the whole reply
arrived. --shape picks the reply:

    prose   paragraphs only
    code    a short introduction and one fenced Rust block of 400 lines
    table   tables of six columns, a line of text before each
    list    one long list, some items with a nested item
    mixed   sections of a heading, a list, a small table and a fenced Rust block
    record  what link/record records on; never measured by benches/peers/run

Every shape is the same on every run. `--show` prints the reply (and its number
of pieces on stderr) instead of serving it. Only 127.0.0.1; standard library only.
"""
import argparse
import json
import sys
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


def split(text):
    """Short word pieces, as a model's tokens come: a piece ends after a space or
    a newline, or at 4 characters."""
    pieces, word = [], ""
    for ch in text:
        word += ch
        if ch in " \n" or len(word) >= 4:
            pieces.append(word)
            word = ""
    if word:
        pieces.append(word)
    return pieces


BUDGET = 1995  # pieces of the reply before the end marker: ~2,000 tokens
END = "\n\nLLMDECK-BENCH-END\n"

WORDS = (
    "the request goes out with its parameters and the answer streams back token by token while "
    "the console wraps each paragraph to the width of the pane and keeps the rows that did not "
    "change so that a slow link carries only what is new on the screen of a small laptop on "
    "battery where every wake up of the process costs energy and every byte costs latency"
).split()


def sentence(n, length):
    """A deterministic sentence of `length` words, the n-th of its kind."""
    words = [WORDS[(n * 7 + i * 3) % len(WORDS)] for i in range(length)]
    return " ".join(words).capitalize() + "."


def fill(units):
    """Whole units (sentences, lines, items) until the next would pass BUDGET: a
    reply cut where its markdown is still well formed."""
    pieces = []
    for unit in units:
        more = split(unit)
        if len(pieces) + len(more) > BUDGET:
            break
        pieces += more
    return pieces


def prose():
    """Paragraphs only: no heading, list, table or code."""
    n = 0
    while True:
        for k in range(5 + n % 3):
            yield sentence(n * 11 + k, 9 + (n + k) % 8) + (" " if k < 4 + n % 3 else "\n\n")
        n += 1


def code():
    """A short introduction, one fenced Rust block of exactly 400 lines, a line after."""
    yield "Here is the whole module, with a test for each conversion:\n\n"
    yield "```rust\n"
    lines = []
    n = 0
    while len(lines) < 400:
        lines += [
            f"/// Scale {n}.\n",
            f"fn scale_{n}(x: u32) -> u32 {{\n",
            f"    x * {n + 2} + {n % 7}\n",
            "}\n",
            "\n",
        ]
        if n % 4 == 3:
            lines += [
                "#[test]\n",
                f"fn scales_{n}() {{\n",
                f"    assert_eq!(scale_{n}(1), {n + 2 + n % 7});\n",
                "}\n",
                "\n",
            ]
        n += 1
    yield from lines[:400]
    yield "```\n\nEach function is checked against its own arithmetic.\n"


def table():
    """Tables with a line of text before each, cut after a whole row."""
    t = 0
    while True:
        yield f"\nTable {t + 1}: latency by model and region.\n\n"
        yield "| model | region | p50 ms | p95 ms | tokens/s | cost |\n"
        yield "|---|---|---:|---:|---:|---:|\n"
        for r in range(24):
            i = t * 24 + r
            yield (
                f"| gpt-{['4o', '4o-mini', '4.1', 'o4-mini'][i % 4]} | {['eu', 'us', 'asia'][i % 3]}-{i % 5} "
                f"| {120 + i * 7 % 90} | {310 + i * 13 % 200} | {40 + i * 3 % 60} | ${i % 9}.{i * 37 % 100:02d} |\n"
            )
        t += 1


def listing():
    """One long list, some items with a nested item, cut after a whole item."""
    n = 0
    while True:
        yield f"- **step {n + 1}:** {sentence(n, 6 + n % 5)[:-1]} with `option_{n}`\n"
        if n % 3 == 2:
            yield f"  - {sentence(n + 100, 5)}\n"
        n += 1


SHAPES = {"prose": prose, "code": code, "table": table, "list": listing}


def reply_tokens(shape="mixed"):
    """The reply of `shape`, in pieces, ending with the end marker. `mixed` and
    `record` are cut at 1,995 pieces wherever that falls, as they always were
    (so their figures stay comparable with earlier runs); the other shapes end
    on a whole unit, so their markdown is well formed."""
    if shape in SHAPES:
        return fill(SHAPES[shape]()) + [END]
    section = RECORD_SECTION if shape == "record" else SECTION
    return split("".join(section.format(n=n) for n in range(1, 60)))[:BUDGET] + [END]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Each piece leaves as it is written, as an API server streams it. With
    # Nagle's algorithm (Python's default) the kernel held every piece after
    # the first until the client acknowledged it, so a client that read late
    # got a burst in two reads and one that read at once paid for each piece.
    disable_nagle_algorithm = True

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
    ap.add_argument("--port", type=int)
    ap.add_argument("--rate", type=float, default=0)
    ap.add_argument("--shape", choices=[*SHAPES, "mixed", "record"], default="mixed")
    ap.add_argument("--show", action="store_true", help="print the reply and its number of pieces")
    args = ap.parse_args()
    if args.show:
        tokens = reply_tokens(args.shape)
        print("".join(tokens), end="")
        print(f"{args.shape}: {len(tokens)} pieces, {sum(t.count(chr(10)) for t in tokens)} lines", file=sys.stderr)
        return
    if args.port is None:
        ap.error("--port is needed to serve")
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.rate = args.rate
    server.tokens = reply_tokens(args.shape)
    server.completed = 0
    server.serve_forever()


if __name__ == "__main__":
    main()
