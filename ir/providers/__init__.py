"""Provider clients: settings, auth, base URL, error classes, one module per vendor.

Playbook connectors and log collectors both build on these; nothing here
imports the playbooks, the collectors or anything above them.
"""
