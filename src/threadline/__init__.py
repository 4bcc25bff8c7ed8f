"""Threadline: self-hosted omnichannel customer support."""

__version__ = "0.1.0"
