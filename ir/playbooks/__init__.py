"""Playbooks: a trace becomes a plan of revocation steps, run through provider connectors.

`plan` (Trace -> Plan), `run` (dry run, execute, resume, verify), `journal`
(every executed step recorded in the case, never a secret). The trace does not
import this package; this package imports neither the CLI nor the notebook display.
"""
