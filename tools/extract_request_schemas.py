#!/usr/bin/env python3
"""Extracts the request-body schemas llmdeck sends (CreateResponse,
CreateChatCompletionRequest, CreateEmbeddingRequest, CreateBatchRequest and
everything they reference), and what the mock answers with (the embedding
response, the file and batch objects, a deleted file), from OpenAI's OpenAPI description, so
tests validate both without the 3 MB file.

    python3 tools/extract_request_schemas.py ../shared/openai-openapi/openapi.json \
        > tests/fixtures/openai-request-schemas.json
"""
import json
import sys

spec = json.load(open(sys.argv[1]))
schemas = spec["components"]["schemas"]
need = set()


def walk(v):
    if isinstance(v, dict):
        for k, x in v.items():
            if k == "$ref" and isinstance(x, str) and x.startswith("#/components/schemas/"):
                name = x.rsplit("/", 1)[1]
                if name not in need:
                    need.add(name)
                    walk(schemas[name])
            else:
                walk(x)
    elif isinstance(v, list):
        for x in v:
            walk(x)


for root in [
    "CreateResponse",
    "CreateChatCompletionRequest",
    "CreateEmbeddingRequest",
    "CreateEmbeddingResponse",
    "CreateBatchRequest",
    "CreateFileRequest",
    "Batch",
    "OpenAIFile",
    "DeleteFileResponse",
]:
    need.add(root)
    walk(schemas[root])
out = {
    "source": "OpenAI OpenAPI " + spec["info"]["version"] + " (components/schemas, extracted)",
    "components": {"schemas": {n: schemas[n] for n in sorted(need)}},
}
json.dump(out, sys.stdout, indent=1, sort_keys=True)
print()
