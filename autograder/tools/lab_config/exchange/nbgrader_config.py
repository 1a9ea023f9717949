"""nbgrader settings with `python -m autograder.tools.lab --exchange` (this folder comes first on JUPYTER_CONFIG_PATH)."""
c = get_config()  # noqa: F821 (provided by nbgrader)

# The exchange is in use: nbgrader's own lister, which logs loudly when the exchange folder is missing or unwritable.
c.ExchangeFactory.list = "nbgrader.exchange.default.list.ExchangeList"
