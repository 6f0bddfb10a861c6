"""ethnoflow: a digital-ethnography pipeline for #MedTwitter and Bluesky superuser studies."""

__version__ = "0.1.0"
