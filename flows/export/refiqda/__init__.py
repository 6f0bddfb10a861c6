"""REFI-QDA interchange: projects (.qdpx) and codebooks (.qdc) for NVivo, ATLAS.ti, MAXQDA, QualCoder.

- ``guids``: stable GUIDs (uuid5 of stable keys), so the same study exports the same GUIDs;
- ``positions``: how selection positions are counted (UTF-16 code units by default, as NVivo
  counts them; or Unicode code points, as the REFI-QDA 1.5 text says) and converted back;
- ``xml``: writing and reading the XML (namespaces, characters XML cannot hold);
- ``codebook_xml``: a codebook as a REFI code tree, and the ``.qdc`` file;
- ``project``: the ``.qdpx`` project: users = coders, the code tree, one text source per
  account (or per post), each post a selection coded by each coder, cases with variables;
- ``reader``: reading another program's ``.qdpx``/``.qdc``;
- ``to_yaml``: another program's codebook as a valid ``coding_schemes/*.yaml``;
- ``codes_import``: a project's coded selections back into ``code_assignments``.
"""
