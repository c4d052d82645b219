"""Write xlcrm's findings into a copy of a workbook, touching only the parts it must.

The package is copied part by part; only the form sheets that get marks, ``styles.xml``, the
workbook's sheet list and xlcrm's own new parts are rewritten. Everything else — cached formula
values, charts, images, x14 validations, VBA — is copied byte for byte.
"""
