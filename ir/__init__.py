"""ir: trace a leaked token through audit logs. The notebook API, re-exported."""

from ir.case import Case, CaseError, open_case

__all__ = ["Case", "CaseError", "open_case"]
