"""contact-reasons: why customers contact you, week by week."""

__version__ = "0.1.0"
