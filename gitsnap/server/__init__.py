"""The HTTP service (``gitsnap serve``): the seeds' endpoints as FastAPI routes over ``Store``.

Each route parses the request, calls one ``Store`` method and renders its result as the CLI's
``--json`` does; every error is ``{"error", "details"}`` with the status its ``GitsnapError`` class
carries. Imported only by ``gitsnap serve`` and ``gitsnap token create``: the CLI starts without
FastAPI, uvicorn or PyJWT.

    app.py         create_app(config): the application; app_from_env() for each uvicorn worker
    config.py      ServerConfig: the repository, the keys and the body limit, from options or the environment
    keys.py        the HS256 secret and the RS256/ES256 public key, loaded and checked
    auth.py        Bearer tokens verified (Caller: the user and the orgs it may use); org scope checks
    tokens.py      tokens minted for ``gitsnap token create``
    errors.py      the error envelope, 401/403/413, and the handlers that render every error
    middleware.py  request ids, the 500 boundary, the body limit
    routing.py     the API's route class: the token checked first, the JSON body read with the CLI's rules
    bodies.py      request bodies (the seeds' schemas)
    render.py      results as the CLI's --json prints them
    stores.py      one Store per threadpool thread
    runner.py      uvicorn: one process, or --workers N
    routes/        org snapshots, orgs, prompt versions, stub snapshots
"""
