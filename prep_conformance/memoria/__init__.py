"""The memoria técnica (II.4) and visit statistics (II.2.c) from the difusor's own access logs.

``logs`` streams hits out of access logs; ``stats`` turns them into figures in one pass; ``incidents``
reads the institute's watch db and the difusor's notes; ``build`` assembles the data; ``render`` writes
HTML and PDF through ``templates/memoria.html.j2``.
"""
