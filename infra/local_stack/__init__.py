"""PrivoChat's local stack: API Gateway (HTTP and WebSocket) and Upstash REST
emulated on one loopback port, around the very same Lambda handlers.

    GET  /, /room/<roomId>, /<file>        static_site/ (room.html for /room/*)
    *    /api/*                            HTTP API v2 events -> privochat.http_api.handler
    GET  /ws?roomId=ID (upgrade)           WebSocket API -> privochat.ws_api.on_connect/...
    POST/GET/DELETE /_local/apigw/@connections/{id}   API Gateway Management API
    POST /_local/upstash[/pipeline|/multi-exec]      Upstash REST (Bearer token)

It answers only its own host names (127.0.0.1, localhost, [::1] and, for `sam
local`, host.docker.internal, with its port), so a DNS-rebinding page cannot
reach it. As CloudFront does, it sends infra/security_headers.json's headers
(template.yaml's response headers policy) with the site and /api/*, and tells
the handlers the real peer in CloudFront-Viewer-Address. The Management API
takes only requests signed (SigV4) with the handlers' credentials. Its own
refusals are JSON error bodies; an unknown file of the site is 404.html.
"""
