"""Pydantic models are built when they are first used, not when they are defined.

Importing FastAPI defines some seventy pydantic models for the OpenAPI document
(fastapi.openapi.models) and builds each one's validator and serializer then: more
than a third of FastAPI's import, paid by every cold start of the HTTP function,
though Lambda never serves /openapi.json. With `defer_build` (pydantic's own setting,
here the default of every model defined from now on) a model is built at its first
use: the app's own bodies when the routes are registered or a request comes, the
OpenAPI models only if the document is asked for. Imported first by http_api.py.
"""

from __future__ import annotations

from pydantic import BaseModel

BaseModel.model_config["defer_build"] = True
