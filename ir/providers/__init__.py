"""Provider clients shared by playbook connectors and collectors: one module per vendor.

`http` is the shared base (settings, secrets, retries, typed errors, pages); each
vendor module holds its client. AWS is reached through boto3 in `aws`.
"""
