"""{{ cookiecutter.service_name }}."""
