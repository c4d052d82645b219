"""Monthly consolidation (POLICY §6): every department's submission of a month in one company view.

The stages, one module each: ``discover`` finds the files and accounts for each; ``worker``
runs ``xlcrm.engine.check`` on one file and returns a small picklable ``Outcome``; ``runner``
spreads the files over an executor (a spawn process pool, a Dask cluster, or this process)
and survives crashed and hung workers; ``company`` reduces the outcomes in polars (company
blacklist, the D1xx rules in ``cross``); ``report`` computes the sections managers read
(``execution``, ``accounts``, ``changes``, ``trends``, ``figures``; the history through
``past``); ``workbook`` writes the company workbook (its report sheets in ``sheets`` and
``dashboard``, helpers in ``xlsx`` and ``sheetxml``); ``outputs`` decides what may be written
and protects it (``mask`` for contacts); ``history`` stores the month in DuckDB;
``consolidate`` ties them together. Rules and the engine never import this package.
"""
