"""The document's own error: an edit or a request that the document refuses."""


class GraphError(ValueError):
    """An edit that the document refuses; the message says why in the user's terms."""
