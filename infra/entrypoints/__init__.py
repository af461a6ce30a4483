"""One composition root per process role, each imported only when its role runs.

write_api, read_api, relay, project, payments; dev composes write and read API,
projectors and the payment worker in one process. A notification sender would
be `notify.py` beside them. The APIs are named to uvicorn as factory strings
(`write_api.app:create_app`), never imported here: infra's import graph does
not reach them.
"""
