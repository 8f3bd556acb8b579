"""The message model's pure twins compiled by Cython's pure-Python mode: ``request.py`` (the
storage of :class:`fasthttp.requests.Request`), compiled into ``fasthttp._model_c.request``."""
