"""wheelbase: a shared wheelhouse base image and a FastAPI service template."""
