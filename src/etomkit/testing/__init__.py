"""Testing helpers shipped with etomkit (install the ``testing`` extra).

* :mod:`etomkit.testing.strategies`: hypothesis strategies for every entity and value,
  registered for ``st.from_type`` through the ``hypothesis`` entry point (the
  top-level module ``_etomkit_hypothesis``, which imports no part of etomkit).
* :mod:`etomkit.testing.contracts`: a contract per port; ``StoreContract`` runs them
  all against one ``make_store`` fixture.
* :mod:`etomkit.testing.stateful`: a state machine that checks a store against a
  plain-dict model, with nested transactions, injected failures and an optional
  close/reopen step for durable adapters.
* The pytest plugin (``pytest11`` entry point ``etomkit``, module ``_etomkit_pytest``)
  rewrites the asserts of this package and offers ``etomkit_store_factory``,
  ``manual_clock`` and ``sequential_ids``.

Import the submodule you need; this package imports nothing itself.
"""
