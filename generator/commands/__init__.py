"""One module per subcommand; this list is the CLI's table of contents."""

from . import check, diff, lint, plan, render, rules, validate

COMMANDS = [validate.command, lint.command, rules.command, render.command, check.command, plan.command,
            diff.command]
