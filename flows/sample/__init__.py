"""Content tables for the fictional #MedTwitter sample study (`flows.sample.generate`).

Everything here is invented: people, handles, institutions, journals, conferences and
web addresses (links lead to the reserved ``example.*`` domains, except a quote's link to
the quoted tweet on twitter.com, as in real data). The table modules
hold data only, so that the generator's code stays short and the wording can be edited
without touching it:

- ``accounts``: the 40 core accounts and the pools used to invent extra ones;
- ``slots``: fillers for the ``{slot}`` placeholders, hashtags, personal and Spanish posts;
- ``themes``: templates for the seven Chretien et al. (2015) codes;
- ``mentoring``: mentorship templates, sponsorship posts and #MedEdChat topics;
- ``engine``: the one code module here, which turns these tables into posts and tweet
  objects for ``flows.sample.generate``.
"""
