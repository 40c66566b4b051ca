"""One module per subcommand; this list is the CLI's table of contents."""

from . import (
    add_cluster,
    check,
    diff,
    import_,
    init,
    lint,
    plan,
    register,
    remove_cluster,
    render,
    rules,
    schema,
    upgrade,
    validate,
    validate_rendered,
)

COMMANDS = [
    validate.command,
    lint.command,
    rules.command,
    render.command,
    check.command,
    plan.command,
    diff.command,
    add_cluster.command,
    register.command,
    upgrade.command,
    remove_cluster.command,
    validate_rendered.command,
    init.command,
    import_.command,
    schema.command,
]
