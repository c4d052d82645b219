"""Monthly consolidation (POLICY §6): every department's submission of a month in one company view.

The stages, one module each: ``discover`` finds the files and accounts for each; ``worker``
runs ``xlcrm.engine.check`` on one file and returns a small picklable ``Outcome``; ``runner``
spreads the files over an executor (a spawn process pool, a Dask cluster, or this process)
and survives crashed and hung workers; ``company`` reduces the outcomes in polars (company
blacklist, the D1xx rules in ``cross``); ``workbook`` writes the company workbook;
``history`` stores the month in DuckDB; ``consolidate`` ties them together. Rules and the
engine never import this package.
"""
