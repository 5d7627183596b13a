"""Module run with -m: shows the agent is active and its built-in module present."""
import pyagent

print("active", pyagent.active(), "trace", pyagent.trace_path() is not None)
