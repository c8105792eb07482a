"""The HTTP command and query service (FastAPI), generated from the domain's registry."""
