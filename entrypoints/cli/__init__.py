"""The `hindsight` command: one module per command group, mounted by `main`.

`main` (the app, the stack, relay, sink and service groups), `ops` (generate, relay, sinks),
`job` (the Flink job), `query` (the read models), `domain` (one sub-command per domain
command), `contracts` (lint, test, diff, release, catalog) and `demo` (the whole tour).
"""
