"""nbgrader settings of the instructor's Lab (`python -m autograder.tools.lab --instructor` puts this folder on
JUPYTER_CONFIG_PATH); the course's nbgrader_config.py at the repository root is read as well.
"""
c = get_config()  # noqa: F821 (provided by nbgrader)

# No exchange (the course hands out release/ through git): the formgrader says so on its page, and the log gets a
# DEBUG line instead of a CRITICAL "Unwritable directory" on every formgrader page. An existing exchange folder is
# used as usual; `--exchange` (lab_config/exchange/nbgrader_config.py) restores nbgrader's own lister.
c.ExchangeFactory.list = "autograder.tools.lab.NoExchangeList"
