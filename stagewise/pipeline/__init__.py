"""The shipping pipeline: plan a stage's stacks, show or execute the plan, record the result.

Data flow (one module per step):

    source.py    project + stage → a Release (templates per stack, artifacts, fingerprints)
    order.py     new + live export graphs → phases of deploy/remove steps (never hand-written)
    planner.py   Release + live record + provider → StagePlan (skip / apply / defer / remove per stack;
                 read-only for skipped stacks)             → `diff` shows it
    executor.py  StagePlan → phases in order, stacks of a phase in parallel → outcomes
                                                           → `deploy` runs it
    history.py   deploy records and the live pointer; store.py keeps them, the artifacts and
                 the lock in the target account's bucket
    runner.py    the commands' flows: deploy, promote, rollback, remove
"""
