"""Connector plugins, one subpackage per outside system."""
