"""The data model and the stores.

The query hot path's compiled build (``graph.native``) is installed here, first: every
package imports ``graph`` before any of the compiled modules."""

from graph.native import install as _install_native

_install_native()
