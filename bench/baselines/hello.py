"""The hello-world baseline: FastAPI under uvicorn doing no work.

    python -m uvicorn hello:app --app-dir bench/baselines

`GET /` answers a small JSON document; `GET /health` is there so the benchmark
harness can wait for it like for any other server. Its rate is what this
machine, at this moment, can push through uvicorn and FastAPI.
"""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI(title="hello-world baseline")


@app.get("/")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
