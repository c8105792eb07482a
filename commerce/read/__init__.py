"""Commerce's read side, shaped as any domain's is (see examples/library).

`projections` (pure folds into search documents and graph changes), `read_models` (what each
index maps and which part of the graph a change replaces), `ports` (every name it writes),
`search` and `graph` (the questions users ask of the read models) and `plugin` (what settings
point at: HINDSIGHT_PROJECTIONS=commerce.read.plugin:STAGES, HINDSIGHT_READ_MODELS=
commerce.read.plugin).
"""
