"""The Excel buttons of 客户管理台账.xlsm: xlwings runs ``main()`` of the module named
like the workbook. Keep this file beside the workbook, and rename both together."""

from xlcrm.macros import main

__all__ = ["main"]
