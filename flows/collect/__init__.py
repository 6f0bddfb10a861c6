"""Collection: fetch a study's accounts and queries from Bluesky and the X API into the store."""
