"""One module per subcommand; this list is the CLI's table of contents."""

from . import lint, rules, validate

COMMANDS = [validate.command, lint.command, rules.command]
