"""The core: the data model, structuring, rules, contracts in context, record kinds, the
evaluator and the pipeline that wires plugins into an audit."""
