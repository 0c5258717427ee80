import graph  # noqa: F401 - installs the compiled hot path (graph.native) before any module here
