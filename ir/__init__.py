"""ir: trace a leaked token through audit logs. The notebook API, re-exported.

The names load on first use (PEP 562), so `import ir.store` or `import ir.trace`
loads only that layer and what lies beneath it, never the notebook facade.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ir.case import Case, CaseError, Trace, open_case

__all__ = ["Case", "CaseError", "Trace", "open_case"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'ir' has no attribute {name!r}")
    from ir import case

    return getattr(case, name)
