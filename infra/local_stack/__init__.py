"""PrivoChat's local stack: API Gateway (HTTP and WebSocket) and Upstash REST
emulated on one loopback port, around the very same Lambda handlers.

    GET  /, /room/<roomId>, /<file>        static_site/ (room.html for /room/*)
    *    /api/*                            HTTP API v2 events -> privochat.http_api.handler
    GET  /ws?roomId=ID (upgrade)           WebSocket API -> privochat.ws_api.on_connect/...
    POST/GET/DELETE /_local/apigw/@connections/{id}   API Gateway Management API
    POST /_local/upstash[/pipeline|/multi-exec]      Upstash REST (Bearer token)

Static responses carry the same security headers as CloudFront in AWS
(a strict Content-Security-Policy: no inline script or style).
"""
