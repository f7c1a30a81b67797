"""ir: trace a leaked token through audit logs. The notebook API, re-exported."""

from ir.case import Case, CaseError, open_case
from ir.trace import Trace

__all__ = ["Case", "CaseError", "Trace", "open_case"]
