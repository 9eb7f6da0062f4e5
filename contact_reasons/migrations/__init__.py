"""Numbered SQL migrations, applied in order by `contact_reasons.storage`."""
