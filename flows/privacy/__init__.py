"""Respecting the people in the data: pseudonyms, withdrawal, redaction and spreadsheet safety."""
