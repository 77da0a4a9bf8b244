"""The OASIS CAP 1.2 XML schema (a package so that wheels ship the .xsd as package data)."""
