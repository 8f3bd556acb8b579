"""The connection core's pure twin: ``connection.py`` (the source of both twins, see its
docstring) and ``connection.pxd`` (the declarations that make its compiled twin an extension type)."""
