"""Testing helpers shipped with etomkit (install the ``testing`` extra).

* :mod:`etomkit.testing.strategies`: hypothesis strategies for every entity and value,
  registered for ``st.from_type`` through the ``hypothesis`` entry point.
* :mod:`etomkit.testing.contracts`: the contract suites every repository adapter passes.
* :mod:`etomkit.testing.stateful`: a state machine that checks a ``Store`` against a
  plain-dict model, with an optional close/reopen step for durable adapters.

Import the submodule you need; this package imports nothing itself.
"""
