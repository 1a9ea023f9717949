"""JupyterLab settings for the course, used by the README's first command (`jupyter lab --config=...`)."""
c = get_config()  # noqa: F821 (provided by Jupyter)

# Containers and CI machines often run as root; the server still listens on localhost with a token.
c.ServerApp.allow_root = True
# The extension manager would query PyPI whenever it is opened: the course makes no hidden network requests.
c.LabApp.extension_manager = "readonly"
