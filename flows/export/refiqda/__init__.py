"""REFI-QDA interchange: projects (.qdpx) and codebooks (.qdc) for NVivo, ATLAS.ti, MAXQDA, QualCoder.

- ``guids``: stable GUIDs (uuid5 of stable keys), so the same study exports the same GUIDs;
- ``conventions``: how each program counts selection positions and writes source files
  (``--for standard|qualcoder|nvivo|atlasti|maxqda``), and converting positions back;
- ``xml``: writing and reading the XML (namespaces, characters XML cannot hold);
- ``codebook_xml``: a codebook as a REFI code tree, and the ``.qdc`` file;
- ``project``: the ``.qdpx`` project: users = coders, the code tree, one text source per
  account (or per post), one selection per post and coder, cases with variables;
- ``reader``: reading another program's ``.qdpx``/``.qdc``;
- ``to_yaml``: another program's codebook as a valid ``coding_schemes/*.yaml``;
- ``codes_import``: a project's coded selections back into ``code_assignments``.
"""
