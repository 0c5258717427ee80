"""The HTTP API, the web pages and the network pictures (``accgraph serve``).

``api.app.create_app(store, admin)`` builds the FastAPI application; routers in
``api.routers`` only call ``queries``; ``api.security`` holds roles, hashed API keys and the
append-only audit log; ``api.guard`` checks every answer for restricted records. See
docs/api.md.
"""
