"""xlcrm: the company's customer-management policy as checks on the Excel workbooks staff use."""

__version__ = "0.1.0"
