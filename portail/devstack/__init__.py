"""The embedded dev profile: `portail run` starts the whole portal on one machine with only Python.

Redis, an S3-compatible endpoint and an SMTP catcher run as child processes next to the
services, the gateway, the worker and beat; their state lives under the project's `var/`.
"""
