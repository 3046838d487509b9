"""Vendor specifications and the validating layers built on them (test support)."""
